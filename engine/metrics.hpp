#pragma once

// The engine's metrics in Prometheus' text format, through prometheus-cpp:
// orders by outcome, journeys ended by flow and state, step outcomes by
// flow and kind, provider answer latency by provider, commit latency and
// size, hook deliveries, and gauges of the work in flight and of the hooks'
// backlog read when the text is asked for.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "actors/services.hpp"

namespace orca {

class engine_metrics : public journey_observer {
public:
  engine_metrics();
  ~engine_metrics() override;

  /// An order intake answered with `status` ("accepted", "duplicate",
  /// "rejected", "busy").
  void order(const char* status);
  /// A journey of `flow` ended (its terminal snapshot is durable).
  void journey_ended(const std::string& flow, journey_state state);
  /// A commit of `requests` write requests took `seconds`.
  void committed(double seconds, std::size_t requests);

  void step_ended(const std::string& flow, const char* kind,
                  step_outcome outcome) override;
  void provider_answered(const std::string& provider, double seconds,
                         bool ok) override;
  /// A hook delivery was attempted: delivered (2xx) or failed.
  void hook_attempt(const std::string& hook, bool delivered);

  /// What a reading of the node sets before the text is made.
  struct gauges {
    uint64_t orders_in_flight = 0;
    uint64_t journeys_running = 0;
    uint64_t journeys_passivated = 0;
    uint64_t store_bytes = 0;
    uint64_t store_max_bytes = 0;
    bool store_full = false;
    /// Each hook's deliveries waiting to be sent.
    std::vector<std::pair<std::string, uint64_t>> hook_backlog;
  };

  /// The text format of every metric, with `now` as the gauges.
  std::string text(const gauges& now);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace orca
