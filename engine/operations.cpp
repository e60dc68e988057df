#include "engine/operations.hpp"

#include <chrono>

namespace orca {

submit_outcome to_outcome(const submit_result& r) {
  return {r.order_id, to_string(r.status), r.error};
}

std::optional<std::string> given(const std::string& text) {
  if (text.empty())
    return std::nullopt;
  return text;
}

caf::expected<flow_detail> show_flow(Engine& engine, const std::string& name,
                                     uint32_t version) {
  auto rec = engine.get_flow(name);
  if (!rec)
    return rec.error();
  flow_detail detail;
  detail.record = *rec;
  for (uint32_t v = 1; v <= rec->latest_version; ++v) {
    auto held = engine.held_journeys(name, v);
    if (!held)
      return held.error();
    detail.versions.push_back(v);
    detail.held.push_back(*held);
  }
  // Without a version: the draft when there is one, else the latest.
  if (version == 0 && (rec->latest_version == 0 || rec->draft_is_new())) {
    detail.definition = rec->draft;
    if (auto resolved = engine.resolved_draft(*rec))
      detail.resolved = std::move(*resolved);
    return detail;
  }
  detail.version = version == 0 ? rec->latest_version : version;
  auto frozen = engine.flow_version(name, detail.version);
  if (!frozen)
    return frozen.error();
  detail.definition = frozen->definition;
  return detail;
}

caf::expected<std::vector<journey_view>>
show_journeys(Engine& e, const std::string& order_id, const std::string& flow) {
  auto records = e.journeys(order_id);
  if (!records)
    return records.error();
  std::vector<journey_view> views;
  for (auto& r : *records) {
    if (!flow.empty() && r.flow != flow)
      continue;
    journey_view view;
    auto timeline = e.timeline(r.order_id, r.flow, r.version);
    if (timeline)
      view.timeline = std::move(*timeline);
    view.record = std::move(r);
    views.push_back(std::move(view));
  }
  if (views.empty())
    return make_error(
      errc::no_such_journey,
      "order " + quote(order_id) + " has no journey"
        + (flow.empty() ? std::string{} : " on flow " + quote(flow)));
  return views;
}

caf::expected<replay_view> replay_journey(Engine& e,
                                          const std::string& order_id,
                                          const std::string& flow,
                                          uint32_t against) {
  auto report =
    e.replay(order_id, given(flow),
             against == 0 ? std::nullopt : std::optional<uint32_t>{against});
  if (!report)
    return report.error();
  replay_view view;
  view.recorded = std::move(report->recorded);
  view.replayed = std::move(report->replayed);
  view.version = report->version;
  view.timeline = std::move(report->timeline);
  view.diverges = report->divergence.has_value();
  view.divergence = report->divergence.value_or("");
  return view;
}

/// The engine's part of the node's status.
caf::expected<node_status> fill_status(Engine& e, node_status status) {
  status.now = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  auto flows = e.list_flows();
  if (!flows)
    return flows.error();
  for (const auto& f : *flows) {
    ++status.flows;
    if (!f.damaged.empty())
      continue;
    if (f.status == flow_status::published)
      ++status.published;
    if (f.paused)
      ++status.paused;
  }
  auto counts = e.count_journeys();
  if (!counts)
    return counts.error();
  status.running_journeys = counts->running;
  status.passivated_journeys = counts->passivated;
  auto storage = e.storage();
  status.commits = storage.commits;
  status.writes = storage.ops;
  status.orders_in_flight = storage.orders_in_flight;
  status.map_size = storage.map_size;
  status.max_map_size = storage.max_map_size;
  status.storage_full = storage.full;
  return status;
}

} // namespace orca
