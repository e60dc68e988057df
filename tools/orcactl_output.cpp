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

std::string hooks_table(const std::vector<hook_status>& hooks) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& h : hooks)
    rows.push_back({h.name, h.url, std::to_string(h.backlog),
                    std::to_string(h.delivered),
                    std::to_string(h.failed_attempts),
                    h.last_error.empty() ? "-" : h.last_error});
  return table(
    {"HOOK", "URL", "BACKLOG", "DELIVERED", "FAILED ATTEMPTS", "LAST ERROR"},
    rows);
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
