#pragma once

// What orcactl prints: aligned tables and timelines for people, JSON Lines
// (one compact object per line) for scripts. SPEC §5 records are printed
// exactly as the engine writes them, with extra fields after them.

#include <string>
#include <vector>

#include "engine/node_protocol.hpp"
#include "engine/views_json.hpp"

namespace orca::ctl {

/// Columns padded to their widest cell; the last column is not padded.
std::string table(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows);

// -- JSON Lines: engine/views_json.hpp ---------------------------------------

using orca::flow_detail_json;
using orca::flow_json;
using orca::hook_json;
using orca::journey_json;
using orca::policy_json;
using orca::provider_json;
using orca::replay_json;
using orca::status_json;
using orca::submit_json;

/// NAME KIND UPDATED, one policy per row.
std::string policies_table(const policy_library& policies);
/// "policy NAME (KIND), updated ...:" and its definition.
std::string policy_text(const library_policy& p);
/// "held by the pause: version 1: 2, version 2: 1" when any journey is
/// held, else nothing.
std::string held_line(const flow_detail& d);

// -- for people ---------------------------------------------------------------

std::string flow_line(const flow_record& f);
std::string flows_table(const std::vector<flow_record>& flows);
std::string journeys_table(const std::vector<journey_record>& journeys);
/// A journey's steps, fulfillment orders and invoice.
std::string journey_text(const journey_record& r);
std::string timeline_text(const std::vector<timeline_entry>& timeline);
std::string providers_table(const std::vector<provider_view>& providers);
std::string hooks_table(const std::vector<hook_status>& hooks);
std::string status_text(const node_status& s);

} // namespace orca::ctl
