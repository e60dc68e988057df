#include "engine/views_json.hpp"

#include "flows/flow.hpp"
#include "flows/json.hpp"

namespace orca {

namespace {

class object {
public:
  object() : writer_(buffer_) {
    writer_.StartObject();
  }

  object& field(const char* key, std::string_view value) {
    writer_.Key(key);
    writer_.String(value.data(),
                   static_cast<rapidjson::SizeType>(value.size()));
    return *this;
  }

  object& field(const char* key, const char* value) {
    return field(key, std::string_view{value});
  }

  object& field(const char* key, const std::string& value) {
    return field(key, std::string_view{value});
  }

  object& field(const char* key, bool value) {
    writer_.Key(key);
    writer_.Bool(value);
    return *this;
  }

  object& field(const char* key, uint64_t value) {
    writer_.Key(key);
    writer_.Uint64(value);
    return *this;
  }

  object& field(const char* key, uint32_t value) {
    return field(key, static_cast<uint64_t>(value));
  }

  object& field(const char* key, int64_t value) {
    writer_.Key(key);
    writer_.Int64(value);
    return *this;
  }

  object& null_or(const char* key, const std::string& value) {
    writer_.Key(key);
    if (value.empty())
      writer_.Null();
    else
      writer_.String(value.data(),
                     static_cast<rapidjson::SizeType>(value.size()));
    return *this;
  }

  json_writer& writer() {
    return writer_;
  }

  std::string done() {
    writer_.EndObject();
    return {buffer_.GetString(), buffer_.GetSize()};
  }

private:
  rapidjson::StringBuffer buffer_;
  json_writer writer_;
};

void write_timeline(json_writer& w, const std::vector<timeline_entry>& t) {
  w.StartArray();
  for (const auto& e : t) {
    w.StartObject();
    w.Key("at");
    w.Int64(e.at);
    w.Key("kind");
    w.String(e.kind.c_str());
    w.Key("step");
    w.String(e.step.c_str());
    w.Key("path");
    w.String(e.path.c_str());
    w.Key("attempt");
    w.Uint(e.attempt);
    w.Key("detail");
    w.String(e.detail.c_str());
    w.EndObject();
  }
  w.EndArray();
}

/// A stored definition as a JSON value, or as a string if it does not parse.
void write_definition(json_writer& w, const std::string& text) {
  json_document doc;
  doc.Parse(text.c_str());
  if (doc.HasParseError())
    w.String(text.c_str());
  else
    doc.Accept(w);
}

} // namespace

std::pair<std::string, std::string> type_and_description(const flow_record& f) {
  json_document doc;
  doc.Parse(f.draft.c_str());
  if (doc.HasParseError() || !doc.IsObject())
    return {};
  auto text = [&](const char* key) {
    auto it = doc.FindMember(key);
    return it != doc.MemberEnd() && it->value.IsString()
      ? std::string{it->value.GetString(), it->value.GetStringLength()}
      : std::string{};
  };
  return {text("type"), text("description")};
}

std::string hook_json(const hook_status& h) {
  object o;
  o.field("name", h.name)
    .field("url", h.url)
    .field("backlog", h.backlog)
    .field("delivered", h.delivered)
    .field("failed_attempts", h.failed_attempts)
    .null_or("last_error", h.last_error);
  return o.done();
}

std::string flow_json(const flow_record& f) {
  if (!f.damaged.empty()) {
    object o;
    o.field("name", f.name).field("damaged", f.damaged);
    return o.done();
  }
  auto [type, description] = type_and_description(f);
  object o;
  o.field("name", f.name)
    .field("type", type)
    .field("description", description)
    .field("status", to_string(f.status))
    .field("paused", f.paused)
    .field("latest_version", f.latest_version)
    .field("draft_version", f.draft_version)
    .field("created_on", f.created_on)
    .field("updated_on", f.updated_on);
  return o.done();
}

std::string flow_detail_json(const flow_detail& d) {
  auto [type, description] = type_and_description(d.record);
  object o;
  o.field("name", d.record.name)
    .field("type", type)
    .field("description", description)
    .field("status", to_string(d.record.status))
    .field("paused", d.record.paused)
    .field("latest_version", d.record.latest_version)
    .field("created_on", d.record.created_on)
    .field("version", d.version);
  auto& w = o.writer();
  w.Key("versions");
  w.StartArray();
  for (auto v : d.versions)
    w.Uint(v);
  w.EndArray();
  w.Key("held");
  w.StartObject();
  for (std::size_t i = 0; i < d.versions.size() && i < d.held.size(); ++i) {
    w.Key(std::to_string(d.versions[i]).c_str());
    w.Uint64(d.held[i]);
  }
  w.EndObject();
  w.Key("definition");
  write_definition(w, d.definition);
  return o.done();
}

std::string policy_json(const library_policy& p) {
  if (!p.damaged.empty()) {
    object o;
    o.field("name", p.name).field("damaged", p.damaged);
    return o.done();
  }
  object o;
  o.field("name", p.name)
    .field("kind", p.execution ? "execution" : "filter")
    .field("updated_on", p.updated_on);
  auto& w = o.writer();
  w.Key("definition");
  write_definition(w, p.json);
  return o.done();
}

std::string submit_json(const submit_outcome& s) {
  object o;
  o.field("order_id", s.order_id)
    .field("status", s.status)
    .null_or("error", s.error);
  return o.done();
}

std::string journey_json(const journey_record& r,
                         const std::vector<timeline_entry>* timeline) {
  rapidjson::StringBuffer buffer;
  json_writer w{buffer};
  w.StartObject();
  write_members(w, r);
  if (timeline) {
    w.Key("timeline");
    write_timeline(w, *timeline);
  }
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

std::string replay_json(const replay_view& v) {
  object o;
  o.field("order_id", v.recorded.order_id)
    .field("flow", v.recorded.flow)
    .field("recorded_version", v.recorded.version)
    .field("version", v.version)
    .field("recorded_state", to_string(v.recorded.state))
    .field("replayed_state", to_string(v.replayed.state))
    .field("diverges", v.diverges)
    .null_or("divergence", v.divergence);
  auto& w = o.writer();
  w.Key("replayed");
  w.StartObject();
  write_members(w, v.replayed);
  w.EndObject();
  w.Key("timeline");
  write_timeline(w, v.timeline);
  return o.done();
}

std::string provider_json(const provider_view& p) {
  object o;
  o.field("id", p.id).field("kind", p.kind).field("connected", p.connected);
  return o.done();
}

std::string status_json(const node_status& s) {
  object o;
  o.field("listen", s.listen)
    .field("data", s.data_dir)
    .field("started_on", s.started_on)
    .field("now", s.now)
    .field("flows", s.flows)
    .field("published", s.published)
    .field("paused", s.paused)
    .field("running_journeys", s.running_journeys)
    .field("passivated_journeys", s.passivated_journeys)
    .field("commits", s.commits)
    .field("writes", s.writes)
    .field("clients", s.clients)
    .field("orders_in_flight", s.orders_in_flight)
    .field("map_size", s.map_size)
    .field("max_map_size", s.max_map_size)
    .field("storage_full", s.storage_full);
  return o.done();
}

} // namespace orca
