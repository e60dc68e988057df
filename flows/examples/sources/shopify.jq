# A Shopify order webhook (orders/create, orders/cancelled, ...) as an Orca
# order (SPEC §4). The order id comes from Shopify's own id, so a webhook
# delivered twice is the same order. A payload without line items (a
# deletion carries only the id) maps to an order without lines.
def region($country):
  if $country == "US" or $country == "CA" then "US"
  elif ["AT", "BE", "DE", "DK", "ES", "FI", "FR", "IE", "IT", "NL", "PL",
        "PT", "SE"] | any(. == $country) then "EU"
  else null end;

(.shipping_address.country_code // "") as $country
| {
    id: ("shopify-" + (.id | tostring)),
    source: "Shopify",
    name: .name,
    customer_id: (.customer.id // null | if . == null then null else tostring end),
    email: .email,
    currency: .currency,
    channel: (.source_name // "web"),
    tags: ((.tags // "") | split(", ") | map(select(. != ""))),
    ship_to: {country: $country, postal_code: .shipping_address.zip},
    lines: [(.line_items // [])[] | {
      id: (.id | tostring),
      sku: .sku,
      quantity: .quantity,
      unit_price: (.price | tonumber),
      kind: (if .gift_card then "gift_card" else "physical" end),
      region: region($country)
    }]
  }
| with_entries(select(.value != null))
