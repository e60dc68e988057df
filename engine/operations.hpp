#pragma once

// The node's operations as its clients see them (SPEC §6), over an Engine:
// what the CAF node actor and the HTTP API both answer with.

#include <optional>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "engine/node_protocol.hpp"

namespace orca {

submit_outcome to_outcome(const submit_result& r);

/// Nothing for an empty text (an option not given), else the text.
std::optional<std::string> given(const std::string& text);

/// A flow with its versions and what a pause holds of each, and the
/// definition of `version`: without one (0), the draft if there is one,
/// else the latest version.
caf::expected<flow_detail> show_flow(Engine& engine, const std::string& name,
                                     uint32_t version);

/// The journeys of an order (on `flow` only, unless empty) with their
/// timelines; an error if there is none.
caf::expected<std::vector<journey_view>>
show_journeys(Engine& e, const std::string& order_id, const std::string& flow);

/// Replays a journey (against version `against`, unless 0).
caf::expected<replay_view> replay_journey(Engine& e,
                                          const std::string& order_id,
                                          const std::string& flow,
                                          uint32_t against);

/// `status` with the engine's part filled in.
caf::expected<node_status> fill_status(Engine& e, node_status status);

} // namespace orca
