#pragma once

// What orcactl prints: aligned tables and timelines for people, JSON Lines
// (one compact object per line) for scripts. SPEC §5 records are printed
// exactly as the engine writes them, with extra fields after them.

#include <string>
#include <vector>

#include "engine/node_protocol.hpp"

namespace orca::ctl {

/// Columns padded to their widest cell; the last column is not padded.
std::string table(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows);

// -- JSON Lines ---------------------------------------------------------------

std::string flow_json(const flow_record& f);
std::string flow_detail_json(const flow_detail& d);
/// {"name", "kind": "filter"|"execution", "updated_on", "definition"}
std::string policy_json(const library_policy& p);
std::string policies_table(const policy_library& policies);
/// "policy NAME (KIND), updated ...:" and its definition.
std::string policy_text(const library_policy& p);
/// "held by the pause: version 1: 2, version 2: 1" when any journey is
/// held, else nothing.
std::string held_line(const flow_detail& d);
std::string submit_json(const submit_outcome& o);
std::string journey_json(const journey_record& r,
                         const std::vector<timeline_entry>* timeline = nullptr);
std::string replay_json(const replay_view& v);
std::string provider_json(const provider_view& p);
std::string status_json(const node_status& s);

// -- for people ---------------------------------------------------------------

std::string flow_line(const flow_record& f);
std::string flows_table(const std::vector<flow_record>& flows);
std::string journeys_table(const std::vector<journey_record>& journeys);
/// A journey's steps, fulfillment orders and invoice.
std::string journey_text(const journey_record& r);
std::string timeline_text(const std::vector<timeline_entry>& timeline);
std::string providers_table(const std::vector<provider_view>& providers);
std::string status_text(const node_status& s);

} // namespace orca::ctl
