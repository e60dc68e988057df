#pragma once

// The limits of SPEC §8: how large, how deep and how many of each thing a
// node takes from outside (orders, events, flows, configs, provider answers,
// wire messages). They are checked at each entrance before anything is
// stored; going over one is an errc::limit_exceeded error that names the
// limit. Every limit can be set in the node config under "limits".

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "flows/errc.hpp"

namespace orca {

struct limits {
  /// Order ids, flow, policy and step names, provider ids, event types.
  std::size_t name_bytes = 128;
  std::size_t order_bytes = std::size_t{1} << 20;
  std::size_t order_lines = 10000;
  std::size_t flow_bytes = std::size_t{1} << 20;
  std::size_t flow_steps = 2000;
  /// How deep JSON may nest (orders, flows, configs, provider answers).
  std::size_t json_depth = 64;
  uint32_t max_attempts = 100;
  std::size_t answer_bytes = std::size_t{4} << 20;
  /// Orders accepted but not yet settled, past which intake answers busy.
  std::size_t orders_in_flight = 10000;
  /// Orders in one submission (one wire message or HTTP request).
  std::size_t batch_orders = 10000;
  /// One message a client sends on the node's CAF port (a submission's
  /// orders together): larger ones cut the client off before they are read.
  std::size_t wire_bytes = std::size_t{64} << 20;
};

/// The limits a node uses when its config names none.
const limits& default_limits();

/// What is wrong with a name-like value (empty, longer than `max_bytes`,
/// holding control characters), or "" when nothing is.
std::string name_problem(std::string_view value, std::size_t max_bytes);

/// Checks a name-like value (`what` says which, e.g. "id" or "event type"):
/// not empty, at most `max_bytes` bytes, no control characters.
caf::error check_name(std::string_view value, std::string_view what,
                      std::size_t max_bytes);

/// The error for a document of `what` ("order", "flow", ...) that is larger
/// than `max_bytes`.
caf::error too_large(std::string_view what, std::size_t size,
                     std::size_t max_bytes);

/// The error for a document of `what` nested deeper than `max_depth`.
caf::error too_deep(std::string_view what, std::size_t max_depth);

} // namespace orca
