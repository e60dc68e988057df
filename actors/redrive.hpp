#pragma once

// Redrive: a failed journey starts again from the steps that failed it, with
// fresh attempt counts, keeping its history. Each path that ended failed is
// put back where it failed (an action ready to run again, an element waiting
// again for the branches that failed); the journey's `run` goes up so that
// the steps it runs again use new idempotency keys.

#include "persistence/journey_snapshot.hpp"

namespace orca {

/// The snapshot a redrive of `failed` starts from, in state running.
/// Fails (errc::journey_not_failed) unless `failed` is a failed journey
/// with somewhere to start again.
caf::expected<journey_snapshot> redrive_point(const journey_snapshot& failed,
                                              int64_t now);

} // namespace orca
