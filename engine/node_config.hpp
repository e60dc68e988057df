#pragma once

// A node's configuration file (SPEC §3, §8): the providers it registers and
// the limits it enforces.
//
//   {"providers": {
//      "fulfillment": {"kind": "simulated", "fail_first_attempts": 2},
//      "erp": {"kind": "http", "url": "http://127.0.0.1:8080/orders",
//              "timeout_ms": 2000}},
//    "limits": {"orders_in_flight": 20000}}
//
// Sources (SPEC §9, engine/intake_source.hpp) map shops' webhooks to orders.
//
// Providers it names replace the defaults of the same id; the defaults
// (simulated dom, fulfillment, fno and billing, always succeeding) stay.

#include <map>
#include <string>
#include <string_view>

#include "actors/http_provider.hpp"
#include "actors/simulated_provider.hpp"
#include "engine/hooks.hpp"
#include "engine/intake_source.hpp"
#include "flows/limits.hpp"

namespace orca {

enum class provider_kind : uint8_t { simulated, http, embedded, remote };

const char* to_string(provider_kind kind);

struct provider_config {
  provider_kind kind = provider_kind::simulated;
  simulated_config simulated;
  http_provider_config http;
};

struct node_config {
  std::map<std::string, provider_config> providers;
  /// SPEC §8; the config's "limits" object sets any of them by name:
  /// name_bytes, order_bytes, order_lines, flow_bytes, flow_steps,
  /// json_depth, max_attempts, answer_bytes, orders_in_flight, batch_orders.
  orca::limits limits;
  /// "defaults": {"timeout_ms": N}: the time limit of a provider call
  /// attempt whose step sets no timeout_ms (no call waits forever).
  uint32_t default_timeout_ms = 30000;
  /// SPEC §9: the order sources POST /v1/intake/{source} serves, their
  /// transforms compiled.
  std::map<std::string, source_config> sources;
  /// SPEC §9: who is told of journey changes.
  std::map<std::string, hook_config> hooks;

  /// Parses a config file's text; every problem is reported in one error,
  /// one line each, naming `origin` and the field. Files the config names
  /// (transforms) are relative to `origin`'s folder. A hook's `secret_env`
  /// naming a variable that is not set is errc::invalid_argument (orcad
  /// exits 2), any other problem errc::invalid_config.
  static caf::expected<node_config> parse(std::string_view text,
                                          const std::string& origin);
};

/// The provider ids every node has unless its config replaces them.
const std::vector<std::string>& default_provider_ids();

} // namespace orca
