#pragma once

// The journey_states index: journeys by flow and visible state, so that a
// listing of one flow's failed journeys reads those, not every journey.
// The store keeps it in step with the journeys database on every write
// (see secondary_index in lmdb_store.hpp).

#include <string>
#include <string_view>

namespace orca {

/// The journey_states key of the journey record `record` stored under
/// `journey_key`, or "" if either does not read.
std::string journey_state_index_key(std::string_view journey_key,
                                    std::string_view record);

} // namespace orca
