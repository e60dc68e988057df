#pragma once

// How Orca's records cross the network (CAF 0.17 `inspect` overloads), and
// the form a provider call takes on the way to a remote provider. Every type
// here is registered with the actor system by register_wire_types(); a type
// that is not works locally and fails only remotely, so the remote tests
// send each of them over a real socket.

#include <optional>
#include <string>
#include <vector>

#include <caf/actor_system_config.hpp>
#include <caf/meta/load_callback.hpp>
#include <caf/meta/type_name.hpp>

#include "actors/provider_protocol.hpp"
#include "flows/flow_lifecycle.hpp"
#include "persistence/journey_record.hpp"

namespace orca {

/// A provider call as a remote provider receives it: the order as JSON text.
struct wire_provider_request {
  std::string idempotency_key;
  std::string provider;
  std::string action; ///< e.g. "send_to_invoice"
  std::string flow;
  uint32_t version = 0;
  std::string step;
  uint32_t attempt = 0;
  std::string order; ///< the order's JSON
  std::vector<std::string> lines;
  std::vector<fulfillment_order> fulfillment_orders;
};

/// A remote provider's answer.
struct wire_provider_reply {
  bool ok = false;
  std::string error;
  /// The kind of a failure, by errc name: "provider_failure" (also when
  /// empty), "provider_timeout", "node_unreachable" or "protocol_error".
  std::string code;
  std::vector<source_group> fulfillment;
  std::string invoice_id; ///< "" if none
};

wire_provider_request to_wire(const provider_request& request);
/// A remote provider's answer as the journey may take it: one over
/// `lim.answer_bytes` is a failed attempt that names the limit, a failure of
/// a kind that is not one of `code`'s is a protocol_error that names it, and
/// the rest is checked as `checked` does.
provider_reply from_wire(const wire_provider_reply& reply,
                         const limits& lim = default_limits());

namespace detail {

/// Serialises a std::optional<std::string> as a flag and a value: CAF 0.17
/// knows caf::optional only.
struct optional_text {
  std::optional<std::string>& target;
  bool present = false;
  std::string value;

  explicit optional_text(std::optional<std::string>& x)
      : target(x), present(x.has_value()), value(x.value_or("")) {
  }

  void commit() {
    if (present)
      target = value;
    else
      target.reset();
  }
};

} // namespace detail

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, fulfillment_order& x) {
  return f(caf::meta::type_name("orca::fulfillment_order"), x.id, x.source,
           x.lines, x.sent);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, source_group& x) {
  return f(caf::meta::type_name("orca::source_group"), x.source, x.line_ids);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, step_entry& x) {
  detail::optional_text error{x.error};
  detail::optional_text error_code{x.error_code};
  return f(caf::meta::type_name("orca::step_entry"), x.name, x.kind,
           x.is_action, x.path, x.outcome, x.attempts, error.present,
           error.value, error_code.present, error_code.value, x.ended_on,
           caf::meta::load_callback([&]() -> caf::error {
             error.commit();
             error_code.commit();
             return caf::none;
           }));
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, journey_record& x) {
  detail::optional_text invoice{x.invoice_id};
  detail::optional_text error{x.error};
  return f(caf::meta::type_name("orca::journey_record"), x.order_id, x.flow,
           x.version, x.state, x.steps, x.fulfillment_orders, invoice.present,
           invoice.value, x.created_on, x.updated_on, error.present,
           error.value, x.waiting_for,
           caf::meta::load_callback([&]() -> caf::error {
             invoice.commit();
             error.commit();
             return caf::none;
           }));
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, flow_record& x) {
  return f(caf::meta::type_name("orca::flow_record"), x.name, x.created_on,
           x.updated_on, x.status, x.paused, x.latest_version, x.draft_version,
           x.draft, x.pauses.paused_on, x.pauses.paused_ms, x.cancel_epoch,
           x.resumed_on, x.resumed_to, x.damaged);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f,
                                        wire_provider_request& x) {
  return f(caf::meta::type_name("orca::wire_provider_request"),
           x.idempotency_key, x.provider, x.action, x.flow, x.version, x.step,
           x.attempt, x.order, x.lines, x.fulfillment_orders);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_provider_reply& x) {
  return f(caf::meta::type_name("orca::wire_provider_reply"), x.ok, x.error,
           x.code, x.fulfillment, x.invoice_id);
}

/// Registers the types above (and vectors of them) with `cfg`.
void register_wire_types(caf::actor_system_config& cfg);

} // namespace orca
