#pragma once

// Orca's error codes. Errors cross actor boundaries and the network as
// caf::error values (code + category "orca" + a message with one string that
// names the file, field or step path), so the numbers below are part of the
// wire format: explicit, never changed, never reused.

#include <cstdint>
#include <string>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>

namespace orca {

enum class errc : uint8_t {
  // Bad input from users: flows, orders, configs, command lines.
  invalid_json = 1,
  invalid_flow = 2,
  invalid_order = 3,
  invalid_config = 4,
  invalid_argument = 5,
  /// Over one of the limits of SPEC §8 (the message names it).
  limit_exceeded = 6,

  // Flow lifecycle.
  flow_exists = 20,
  no_such_flow = 21,
  flow_is_published = 22,
  flow_not_published = 23,
  no_such_version = 24,
  flow_not_paused = 25,
  unknown_provider = 26,
  no_such_policy = 27,

  // Orders and journeys.
  duplicate_order = 40,
  no_such_journey = 41,
  journey_not_failed = 42,
  engine_stopped = 43,
  no_such_order = 44,
  /// Too many orders in flight: try again later.
  busy = 45,
  /// A remote client may not serve a provider configured as another kind.
  provider_taken = 46,

  // Storage.
  storage_failure = 60,
  store_too_new = 61,
  corrupt_record = 62,
  /// The store reached its configured maximum size.
  storage_full = 63,
  /// Another process holds the data directory.
  directory_in_use = 64,
  /// A write transaction grew past what LMDB takes in one (too many dirty
  /// pages): its requests must go in smaller groups.
  transaction_full = 65,

  // Providers and the network.
  provider_failure = 80,
  provider_timeout = 81,
  node_unreachable = 82,
  protocol_error = 83,

  // Bugs.
  /// A broken invariant, such as an impossible move of a journey's
  /// lifecycle: the one journey fails with it, the node goes on.
  broken_invariant = 90,
};

/// The stable name of a code, e.g. "invalid_flow".
const char* to_string(errc code);

/// The text of an error: its context message if it carries one, else the
/// name of its code. Works for CAF's own errors too.
std::string describe(const caf::error& err);

/// The orca code of an error, or 0 if it is not one of ours.
uint8_t orca_code(const caf::error& err);

} // namespace orca

CAF_ERROR_CODE_ENUM(orca::errc, "orca")

namespace orca {

/// Builds an orca error carrying a human-readable message.
inline caf::error make_error(errc code, std::string message) {
  return caf::make_error(code, std::move(message));
}

} // namespace orca
