#pragma once

// The JSON of what the node shows: flows, policies, submissions, journeys
// (SPEC §5 records, with extra fields after them), replays, providers and
// the node's status. orcactl --json prints these one per line; the HTTP API
// answers with them.

#include <string>
#include <utility>
#include <vector>

#include "engine/node_protocol.hpp"

namespace orca {

std::string flow_json(const flow_record& f);
std::string flow_detail_json(const flow_detail& d);
/// {"name", "kind": "filter"|"execution", "updated_on", "definition"}
std::string policy_json(const library_policy& p);
std::string submit_json(const submit_outcome& o);
std::string journey_json(const journey_record& r,
                         const std::vector<timeline_entry>* timeline = nullptr);
std::string replay_json(const replay_view& v);
std::string provider_json(const provider_view& p);
std::string status_json(const node_status& s);
/// {"name", "url", "backlog", "delivered", "failed_attempts", "last_error"}
std::string hook_json(const hook_status& h);

/// The type and description of a flow, as its draft (the latest text) says.
/// Read from the text itself: a draft may need the policy library to parse.
std::pair<std::string, std::string> type_and_description(const flow_record& f);

} // namespace orca
