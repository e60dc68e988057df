#include "actors/wire.hpp"

#include "flows/errc.hpp"
#include "flows/json.hpp"

namespace orca {

wire_provider_request to_wire(const provider_request& request) {
  wire_provider_request w;
  w.idempotency_key = request.idempotency_key;
  w.provider = request.provider;
  w.action = to_string(request.action);
  w.flow = request.flow;
  w.version = request.version;
  w.step = request.step;
  w.attempt = request.attempt;
  if (request.order)
    w.order = request.order->text();
  w.lines = request.line_ids;
  w.fulfillment_orders = request.fulfillment_orders;
  return w;
}

namespace {

/// The errc a remote provider named for its failure; an unknown name is a
/// protocol error, added to `error`.
errc failure_kind(const std::string& name, std::string& error) {
  if (name.empty())
    return errc::provider_failure;
  for (auto kind : {errc::provider_failure, errc::provider_timeout,
                    errc::node_unreachable, errc::protocol_error})
    if (name == to_string(kind))
      return kind;
  error += (error.empty() ? "" : " ") + std::string{"(unknown failure kind "}
    + quote(name.substr(0, 64)) + ")";
  return errc::protocol_error;
}

} // namespace

provider_reply from_wire(const wire_provider_reply& reply, const limits& lim) {
  std::size_t bytes =
    reply.error.size() + reply.code.size() + reply.invoice_id.size();
  for (const auto& g : reply.fulfillment) {
    bytes += g.source.size();
    for (const auto& line : g.line_ids)
      bytes += line.size();
  }
  if (bytes > lim.answer_bytes)
    return provider_reply::failure(
      "the answer of " + std::to_string(bytes) + " bytes is over the limit of "
        + std::to_string(lim.answer_bytes) + " bytes (answer_bytes)",
      errc::limit_exceeded);
  provider_reply r;
  r.ok = reply.ok;
  r.error = reply.error;
  if (!r.ok)
    r.code = failure_kind(reply.code, r.error);
  r.fulfillment = reply.fulfillment;
  if (!reply.invoice_id.empty())
    r.invoice_id = reply.invoice_id;
  return checked(std::move(r), lim);
}

void register_wire_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<fulfillment_order>("orca::fulfillment_order");
  cfg.add_message_type<source_group>("orca::source_group");
  cfg.add_message_type<step_entry>("orca::step_entry");
  cfg.add_message_type<journey_record>("orca::journey_record");
  cfg.add_message_type<flow_record>("orca::flow_record");
  cfg.add_message_type<wire_provider_request>("orca::wire_provider_request");
  cfg.add_message_type<wire_provider_reply>("orca::wire_provider_reply");
}

} // namespace orca
