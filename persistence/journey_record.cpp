#include "persistence/journey_record.hpp"

#include <algorithm>

namespace orca {

journey_record make_record(const journey_snapshot& snapshot, const flow& f) {
  journey_record r;
  r.order_id = snapshot.order_id;
  r.flow = snapshot.flow;
  r.version = snapshot.version;
  r.state = visible_state(snapshot.state);
  r.steps.reserve(snapshot.steps.size());
  for (const auto& result : snapshot.steps) {
    // REQUIRES above: step ids come from this flow.
    const auto& s = f.steps.at(result.step);
    step_entry e;
    e.name = s.name;
    e.kind = s.kind_name();
    e.is_action = s.is_action;
    e.path = f.sequences[s.sequence].path;
    e.outcome = result.outcome;
    e.attempts = result.attempts;
    if (!result.error.empty())
      e.error = result.error;
    if (result.error_code != errc{})
      e.error_code = to_string(result.error_code);
    e.ended_on = result.ended_on;
    r.steps.push_back(std::move(e));
  }
  r.fulfillment_orders = snapshot.fulfillment_orders;
  r.invoice_id = snapshot.invoice_id;
  r.created_on = snapshot.created_on;
  r.updated_on = snapshot.updated_on;
  if (!snapshot.error.empty())
    r.error = snapshot.error;
  if (snapshot.state == journey_state::waiting) {
    for (const auto& p : snapshot.paths) {
      if (p.phase != path_phase::waiting_event)
        continue;
      const auto& seq = f.sequences.at(p.seq);
      if (p.position >= seq.steps.size())
        continue;
      for (const auto& type : f.steps[seq.steps[p.position]].input_events)
        if (std::find(r.waiting_for.begin(), r.waiting_for.end(), type)
            == r.waiting_for.end())
          r.waiting_for.push_back(type);
    }
  }
  return r;
}

std::string to_json(const journey_record& r) {
  rapidjson::StringBuffer buffer;
  json_writer w{buffer};
  w.StartObject();
  write_members(w, r);
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

void write_fulfillment_order(json_writer& w, const fulfillment_order& fo,
                             bool with_sent) {
  w.StartObject();
  w.Key("id");
  write_string(w, fo.id);
  w.Key("source");
  write_string(w, fo.source);
  w.Key("lines");
  w.StartArray();
  for (const auto& line : fo.lines)
    write_string(w, line);
  w.EndArray();
  if (with_sent) {
    w.Key("sent");
    w.Bool(fo.sent);
  }
  w.EndObject();
}

void write_members(json_writer& w, const journey_record& r) {
  auto str = [&](std::string_view s) { write_string(w, s); };
  w.Key("order_id");
  str(r.order_id);
  w.Key("flow");
  str(r.flow);
  w.Key("version");
  w.Uint(r.version);
  w.Key("state");
  w.String(to_string(r.state));
  w.Key("steps");
  w.StartArray();
  for (const auto& s : r.steps) {
    w.StartObject();
    w.Key("name");
    str(s.name);
    w.Key(s.is_action ? "action" : "element");
    str(s.kind);
    w.Key("path");
    str(s.path);
    w.Key("outcome");
    w.String(to_string(s.outcome));
    w.Key("attempts");
    w.Uint(s.attempts);
    w.Key("error");
    if (s.error)
      str(*s.error);
    else
      w.Null();
    w.Key("error_code");
    if (s.error_code)
      str(*s.error_code);
    else
      w.Null();
    w.EndObject();
  }
  w.EndArray();
  w.Key("fulfillment_orders");
  w.StartArray();
  for (const auto& fo : r.fulfillment_orders)
    write_fulfillment_order(w, fo, true);
  w.EndArray();
  w.Key("invoice_id");
  if (r.invoice_id)
    str(*r.invoice_id);
  else
    w.Null();
  w.Key("created_on");
  w.Int64(r.created_on);
  w.Key("updated_on");
  w.Int64(r.updated_on);
  if (r.error) {
    w.Key("error");
    str(*r.error);
  }
  if (!r.waiting_for.empty()) {
    w.Key("waiting_for");
    w.StartArray();
    for (const auto& type : r.waiting_for)
      str(type);
    w.EndArray();
  }
}

} // namespace orca
