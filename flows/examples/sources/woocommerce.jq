# A WooCommerce order webhook (order.created, order.deleted, ...) as an
# Orca order (SPEC §4). The order id comes from WooCommerce's own id, so a
# webhook delivered twice is the same order. A deletion carries only the
# id: it maps to the id, which is all its event needs.
def region($country):
  if $country == "US" or $country == "CA" then "US"
  elif ["AT", "BE", "DE", "DK", "ES", "FI", "FR", "IE", "IT", "NL", "PL",
        "PT", "SE"] | any(. == $country) then "EU"
  else null end;

(.shipping.country // "") as $country
| {
    id: ("woocommerce-" + (.id | tostring)),
    source: "WooCommerce",
    customer_id: (if (.customer_id // 0) == 0 then null else .customer_id | tostring end),
    email: .billing.email,
    currency: .currency,
    channel: "web",
    ship_to: {country: $country, postal_code: .shipping.postcode},
    lines: [(.line_items // [])[] | {
      id: (.id | tostring),
      sku: .sku,
      quantity: .quantity,
      unit_price: .price,
      region: region($country)
    }]
  }
| with_entries(select(.value != null))
