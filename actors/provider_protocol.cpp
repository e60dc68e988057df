#include "actors/provider_protocol.hpp"

#include <rapidjson/document.h>

#include "persistence/journey_record.hpp"

namespace orca {

std::string to_json(const provider_request& request) {
  rapidjson::StringBuffer buffer;
  json_writer w{buffer};
  auto str = [&](std::string_view s) { write_string(w, s); };
  w.StartObject();
  w.Key("idempotency_key");
  str(request.idempotency_key);
  w.Key("provider");
  str(request.provider);
  w.Key("action");
  w.String(to_string(request.action));
  w.Key("flow");
  str(request.flow);
  w.Key("version");
  w.Uint(request.version);
  w.Key("step");
  str(request.step);
  w.Key("attempt");
  w.Uint(request.attempt);
  w.Key("order");
  if (request.order)
    w.RawValue(request.order->text().data(), request.order->text().size(),
               rapidjson::kObjectType);
  else
    w.Null();
  w.Key("lines");
  w.StartArray();
  for (const auto& id : request.line_ids)
    str(id);
  w.EndArray();
  w.Key("fulfillment_orders");
  w.StartArray();
  for (const auto& fo : request.fulfillment_orders)
    write_fulfillment_order(w, fo, false);
  w.EndArray();
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

provider_reply checked(provider_reply reply, const limits& lim) {
  constexpr std::size_t max_error_bytes = 1024;
  if (reply.error.size() > max_error_bytes) {
    reply.error.resize(max_error_bytes);
    reply.error += "...";
  }
  if (!reply.ok)
    return reply;
  auto refuse = [&](const std::string& what, std::string_view value) {
    return provider_reply::failure("the provider's answer has a bad " + what
                                     + ": "
                                     + name_problem(value, lim.name_bytes),
                                   errc::protocol_error);
  };
  for (const auto& group : reply.fulfillment) {
    if (!name_problem(group.source, lim.name_bytes).empty())
      return refuse("fulfillment source", group.source);
    for (const auto& line : group.line_ids)
      if (!name_problem(line, lim.name_bytes).empty())
        return refuse("line id", line);
  }
  if (reply.invoice_id
      && !name_problem(*reply.invoice_id, lim.name_bytes).empty())
    return refuse("invoice_id", *reply.invoice_id);
  return reply;
}

provider_reply reply_from_json(action_kind action, std::string_view body,
                               const limits& lim) {
  if (body.size() > lim.answer_bytes)
    return provider_reply::failure(
      describe(
        too_large("the provider's answer", body.size(), lim.answer_bytes)),
      errc::limit_exceeded);
  json_document doc;
  auto parsed = parse_bounded(doc, body, lim.json_depth);
  if (parsed.too_deep)
    return provider_reply::failure(
      describe(too_deep("the provider's answer", lim.json_depth)),
      errc::limit_exceeded);
  if (!parsed.ok() || !doc.IsObject())
    return provider_reply::failure("the provider's answer is not a JSON object",
                                   errc::protocol_error);
  provider_reply reply;
  reply.ok = true;
  if (action == action_kind::send_to_dom) {
    auto fos = doc.FindMember("fulfillment_orders");
    if (fos == doc.MemberEnd() || !fos->value.IsArray())
      return provider_reply::failure(
        "the DOM provider's answer has no \"fulfillment_orders\" list",
        errc::protocol_error);
    for (const auto& fo : fos->value.GetArray()) {
      if (!fo.IsObject() || !fo.HasMember("source") || !fo["source"].IsString()
          || !fo.HasMember("lines") || !fo["lines"].IsArray())
        return provider_reply::failure(
          "each fulfillment order in the DOM provider's answer needs a "
          "\"source\" string and a \"lines\" list",
          errc::protocol_error);
      source_group group;
      group.source = std::string{view_of(fo["source"])};
      for (const auto& line : fo["lines"].GetArray()) {
        if (!line.IsString())
          return provider_reply::failure(
            "fulfillment order lines must be line id strings",
            errc::protocol_error);
        group.line_ids.emplace_back(view_of(line));
      }
      reply.fulfillment.push_back(std::move(group));
    }
  } else if (action == action_kind::send_to_invoice) {
    auto id = doc.FindMember("invoice_id");
    if (id == doc.MemberEnd() || !id->value.IsString()
        || id->value.GetStringLength() == 0)
      return provider_reply::failure(
        "the billing provider's answer has no \"invoice_id\" string",
        errc::protocol_error);
    reply.invoice_id = std::string{view_of(id->value)};
  }
  return checked(std::move(reply), lim);
}

} // namespace orca
