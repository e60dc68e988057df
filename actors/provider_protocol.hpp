#pragma once

// The conversation between a path (journey or branch actor) and a provider
// adapter actor: one provider_request in, one provider_reply out, for every
// attempt. Retries, back-off and per-attempt time-outs are the path's
// business; an adapter answers each request once (or dies, which the caller
// sees as an error).

#include <optional>
#include <string>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>

#include "flows/flow.hpp"
#include "flows/order.hpp"
#include "flows/policies.hpp"
#include "persistence/journey_snapshot.hpp"

namespace orca {

struct provider_request {
  /// The same for every attempt of the same step of the same journey, so a
  /// provider can deduplicate: `order/flow/version/step` (plus `/rN` after
  /// the Nth redrive).
  std::string idempotency_key;
  std::string provider; ///< provider id
  action_kind action = action_kind::custom;
  std::string flow;
  uint32_t version = 0;
  std::string step;
  uint32_t attempt = 1;
  order_ptr order;
  std::vector<std::string> line_ids; ///< the lines the action sees
  /// send_to_fulfillment: the fulfillment orders to send.
  std::vector<fulfillment_order> fulfillment_orders;
};

struct provider_reply {
  bool ok = false;
  std::string error; ///< why it failed, if !ok
  /// What kind of failure, if !ok: provider_failure (the provider said no
  /// or broke), provider_timeout, node_unreachable, protocol_error (an
  /// answer that does not follow the protocol) or limit_exceeded.
  errc code = errc::provider_failure;
  /// send_to_dom: one group per fulfillment source.
  std::vector<source_group> fulfillment;
  /// send_to_invoice: the invoice id.
  std::optional<std::string> invoice_id;

  static provider_reply failure(std::string why,
                                errc code = errc::provider_failure) {
    provider_reply r;
    r.error = std::move(why);
    r.code = code;
    return r;
  }
};

/// The request as the JSON object an `http` provider POSTs:
/// {"idempotency_key", "provider", "action", "flow", "version", "step",
///  "attempt", "order", "lines", "fulfillment_orders"}.
std::string to_json(const provider_request& request);

/// Reads a provider's JSON answer for `action`: send_to_dom needs
/// {"fulfillment_orders": [{"source", "lines": [ids]}]}, send_to_invoice
/// {"invoice_id"}; other fields are ignored, `{}` is a plain success.
/// Refuses a body over `lim.answer_bytes` or nested deeper than
/// `lim.json_depth` (a failed attempt that names the limit), and checks the
/// reply it reads as `checked` does.
provider_reply reply_from_json(action_kind action, std::string_view body,
                               const limits& lim = default_limits());

/// A reply from outside (an http, remote or embedded provider) as the
/// journey may take it: a source or invoice id that is no valid name under
/// `lim` turns it into a failure that says why, and an error text is cut to
/// a readable length.
provider_reply checked(provider_reply reply,
                       const limits& lim = default_limits());

} // namespace orca

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orca::provider_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orca::provider_reply)
