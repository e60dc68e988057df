#pragma once

// The `simulated` provider kind (SPEC §3): a built-in stand-in for tests and
// demos that answers like the real role would. DOM: one fulfillment order
// per value of the lines' `ship_from` field (lines without it go to source
// DEFAULT); billing: invoice id `INV-<order id>`; every other role: success.
// It fails every attempt for orders matching `fail_when` and the first
// `fail_first_attempts` attempts of each request, and answers after
// `latency_ms` on the engine's clock.

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "actors/provider_protocol.hpp"
#include "actors/services.hpp"
#include "flows/predicate.hpp"

namespace orca {

struct simulated_config {
  uint32_t latency_ms = 0;
  std::optional<predicate> fail_when;
  uint32_t fail_first_attempts = 0;
  /// Keep a durable ledger of the idempotency keys carried out, and answer
  /// a key seen before without carrying it out again (see
  /// persistence/provider_ledger.hpp).
  bool ledger = false;
};

/// What a simulated provider was asked, for tests and benchmarks.
/// Thread-safe.
class call_log {
public:
  struct entry {
    std::string idempotency_key;
    std::string step;
    uint32_t attempt = 0;
    bool ok = false;
    std::vector<std::string> fulfillment_orders; ///< ids sent, if any
  };

  void add(entry e);
  std::vector<entry> entries() const;
  std::size_t size() const;

  /// Successful answers per idempotency key.
  std::map<std::string, std::size_t> successes() const;

private:
  mutable std::mutex mutex_;
  std::vector<entry> entries_;
};

/// REQUIRES: `services->time` is set (and `services->ledger` if
/// `config.ledger`). `log` may be null.
caf::actor spawn_simulated_provider(caf::actor_system& system,
                                    services_ptr services, std::string id,
                                    simulated_config config,
                                    std::shared_ptr<call_log> log);

/// The answer a simulated provider gives to `request` (without failures or
/// latency).
provider_reply simulated_answer(const provider_request& request);

} // namespace orca
