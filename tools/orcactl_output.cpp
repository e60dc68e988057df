#include "tools/orcactl_output.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "flows/flow.hpp"
#include "flows/json.hpp"

namespace orca::ctl {

namespace {

/// Display width of UTF-8 text (code points; enough for names and ids).
std::size_t width(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80)
      ++n;
  return n;
}

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

std::string time_text(int64_t ms) {
  return ms > 0 ? format_time(ms) : "-";
}

} // namespace

std::string table(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths(header.size(), 0);
  for (std::size_t i = 0; i < header.size(); ++i)
    widths[i] = width(header[i]);
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i)
      widths[i] = std::max(widths[i], width(row[i]));
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      out += cells[i];
      if (i + 1 < cells.size())
        out += std::string(widths[i] - width(cells[i]) + 2, ' ');
    }
    return out + "\n";
  };
  std::string out = line(header);
  for (const auto& row : rows)
    out += line(row);
  return out;
}

namespace {

/// A stored definition as a JSON value, or as a string if it does not parse.
void write_definition(json_writer& w, const std::string& text) {
  json_document doc;
  doc.Parse(text.c_str());
  if (doc.HasParseError())
    w.String(text.c_str());
  else
    doc.Accept(w);
}

/// The type and description of a flow, as its draft (the latest text) says.
/// Read from the text itself: a draft may need the policy library to parse.
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

} // namespace

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

std::string policies_table(const policy_library& policies) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& p : policies)
    rows.push_back({p.name,
                    !p.damaged.empty() ? "damaged"
                      : p.execution    ? "execution"
                                       : "filter",
                    p.damaged.empty() ? time_text(p.updated_on) : "-"});
  return table({"NAME", "KIND", "UPDATED"}, rows);
}

std::string policy_text(const library_policy& p) {
  return "policy " + quote(p.name) + " ("
    + (p.execution ? "execution" : "filter") + "), updated "
    + time_text(p.updated_on) + ":\n" + p.json + "\n";
}

std::string held_line(const flow_detail& d) {
  std::string parts;
  for (std::size_t i = 0; i < d.versions.size() && i < d.held.size(); ++i) {
    if (d.held[i] == 0)
      continue;
    parts += parts.empty() ? "" : ", ";
    parts += "version " + std::to_string(d.versions[i]) + ": "
      + std::to_string(d.held[i]);
  }
  return parts.empty() ? "" : "held by the pause: " + parts + "\n";
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

std::string flow_line(const flow_record& f) {
  std::string text = "flow " + quote(f.name) + ": " + to_string(f.status);
  if (f.paused)
    text += ", paused";
  if (f.latest_version > 0)
    text += ", version " + std::to_string(f.latest_version);
  if (f.draft_version > f.latest_version)
    text += ", draft of version " + std::to_string(f.draft_version);
  return text + "\n";
}

std::string flows_table(const std::vector<flow_record>& flows) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& f : flows) {
    if (!f.damaged.empty()) {
      rows.push_back({f.name, "-", "damaged", "-", "-", "-", "-"});
      continue;
    }
    rows.push_back(
      {f.name, type_and_description(f).first, to_string(f.status),
       f.paused ? "yes" : "no",
       f.latest_version > 0 ? std::to_string(f.latest_version) : "-",
       f.draft_version > f.latest_version ? std::to_string(f.draft_version)
                                          : "-",
       time_text(f.created_on)});
  }
  return table(
    {"NAME", "TYPE", "STATUS", "PAUSED", "VERSION", "DRAFT", "CREATED"}, rows);
}

std::string journeys_table(const std::vector<journey_record>& journeys) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : journeys) {
    std::string last = r.steps.empty()
      ? "-"
      : r.steps.back().name + " (" + to_string(r.steps.back().outcome) + ")";
    rows.push_back({r.order_id, r.flow, std::to_string(r.version),
                    to_string(r.state), std::to_string(r.steps.size()), last,
                    time_text(r.updated_on)});
  }
  return table(
    {"ORDER", "FLOW", "VERSION", "STATE", "STEPS", "LAST STEP", "UPDATED"},
    rows);
}

std::string journey_text(const journey_record& r) {
  std::string out = "order " + quote(r.order_id) + " on flow " + quote(r.flow)
    + " version " + std::to_string(r.version) + ": " + to_string(r.state);
  if (!r.waiting_for.empty()) {
    out += " (for";
    for (const auto& e : r.waiting_for)
      out += " " + e;
    out += ")";
  }
  out += "\n";
  if (r.error)
    out += "  error: " + *r.error + "\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : r.steps)
    rows.push_back({s.name, s.kind, s.path.empty() ? "-" : s.path,
                    to_string(s.outcome), std::to_string(s.attempts),
                    s.error.value_or("")});
  if (!rows.empty()) {
    auto t =
      table({"STEP", "KIND", "PATH", "OUTCOME", "ATTEMPTS", "ERROR"}, rows);
    std::string indented;
    std::size_t start = 0;
    while (start < t.size()) {
      auto nl = t.find('\n', start);
      indented += "  " + t.substr(start, nl - start + 1);
      start = nl + 1;
    }
    out += indented;
  }
  for (const auto& fo : r.fulfillment_orders) {
    out += "  fulfillment order " + fo.id + " from " + fo.source + ": lines";
    for (const auto& l : fo.lines)
      out += " " + l;
    out += fo.sent ? " (sent)\n" : " (not sent)\n";
  }
  if (r.invoice_id)
    out += "  invoice " + *r.invoice_id + "\n";
  return out;
}

std::string timeline_text(const std::vector<timeline_entry>& timeline) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : timeline) {
    std::string where = e.step.empty() ? "-" : e.step;
    if (!e.path.empty())
      where += " (" + e.path + ")";
    rows.push_back({format_time(e.at), e.kind, where, e.detail});
  }
  return table({"TIME (UTC)", "EVENT", "STEP", "WHAT"}, rows);
}

std::string providers_table(const std::vector<provider_view>& providers) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& p : providers)
    rows.push_back({p.id, p.kind, p.connected ? "yes" : "no"});
  return table({"ID", "KIND", "CONNECTED"}, rows);
}

std::string status_text(const node_status& s) {
  auto uptime = (s.now - s.started_on) / 1000;
  return fmt::format(
    "node {}\n  data       {}\n  up         {}h {:02}m {:02}s (since {})\n"
    "  flows      {} ({} published, {} paused)\n"
    "  journeys   {} running, {} waiting in the store\n"
    "  in flight  {} orders\n"
    "  storage    {} commits, {} writes; map {} of at most {} MiB{}\n"
    "  clients    {}\n",
    s.listen, s.data_dir, uptime / 3600, (uptime / 60) % 60, uptime % 60,
    format_time(s.started_on), s.flows, s.published, s.paused,
    s.running_journeys, s.passivated_journeys, s.orders_in_flight, s.commits,
    s.writes, s.map_size >> 20, s.max_map_size >> 20,
    s.storage_full ? " (FULL: intake refused)" : "", s.clients);
}

} // namespace orca::ctl
