#include "engine/metrics.hpp"

#include <atomic>
#include <map>
#include <mutex>
#include <string_view>
#include <tuple>
#include <type_traits>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace orca {

namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;
using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

/// Seconds, from 100 µs to 30 s.
const Histogram::BucketBoundaries& latency_buckets() {
  static const Histogram::BucketBoundaries b = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1,    0.25,    0.5,    1,     2.5,    5,     10,   30};
  return b;
}

/// Tells one engine's metrics from another's in the threads' caches.
std::atomic<uint64_t> next_metrics_id{1};

/// A series a thread has used lately: the counter of a step (`kind` a
/// name of step::kind_name, `tag` its outcome, `name` its flow), of
/// journeys ended (ended_kind, their state, their flow) or of orders
/// (order_kind, 0, intake's answer), or the histogram of a provider's
/// answers (provider_kind, whether it answered, the provider). A kind is
/// a string of the program's own whose address stands for it; the name is
/// compared.
struct known_series {
  uint64_t metrics_id = 0;
  const char* kind = nullptr;
  int tag = 0;
  std::string name;
  Counter* counter = nullptr;
  Histogram* histogram = nullptr;
};

constexpr char provider_kind[] = "provider";
constexpr char ended_kind[] = "ended";
constexpr char order_kind[] = "order";

/// How many series a thread keeps before it starts its list again.
constexpr std::size_t known_series_room = 64;

/// Each thread's series: the workers count steps and answers by the
/// thousand a second, and with this they share no lock and search no tree
/// to do it once they know a series.
thread_local std::vector<known_series> known;

/// The series of engine `metrics_id` this thread knows, or null.
known_series* recall(uint64_t metrics_id, const char* kind, int tag,
                     std::string_view name) {
  for (auto& series : known)
    if (series.kind == kind && series.tag == tag
        && series.metrics_id == metrics_id && series.name == name)
      return &series;
  return nullptr;
}

void remember(known_series series) {
  if (known.size() >= known_series_room)
    known.clear();
  known.push_back(std::move(series));
}

} // namespace

struct engine_metrics::impl {
  const uint64_t id = next_metrics_id.fetch_add(1);

  prometheus::Registry registry;
  Family<Counter>& orders = BuildCounter()
                              .Name("orca_orders_total")
                              .Help("Orders submitted, by how intake answered")
                              .Register(registry);
  Family<Counter>& ended = BuildCounter()
                             .Name("orca_journeys_ended_total")
                             .Help("Journeys that ended, by flow and state")
                             .Register(registry);
  Family<Counter>& steps =
    BuildCounter()
      .Name("orca_steps_total")
      .Help("Steps that ended, by flow, kind of step and outcome")
      .Register(registry);
  Family<Histogram>& provider = BuildHistogram()
                                  .Name("orca_provider_call_seconds")
                                  .Help("Time a provider took to answer an "
                                        "attempt, by provider and result")
                                  .Register(registry);
  Family<Histogram>& commit_time =
    BuildHistogram()
      .Name("orca_commit_seconds")
      .Help("Time a group commit took, sync and callbacks included")
      .Register(registry);
  Family<Histogram>& commit_size = BuildHistogram()
                                     .Name("orca_commit_requests")
                                     .Help("Write requests per group commit")
                                     .Register(registry);
  Family<Gauge>& in_flight =
    BuildGauge()
      .Name("orca_orders_in_flight")
      .Help("Orders accepted whose journeys are in memory")
      .Register(registry);
  Family<Gauge>& journeys = BuildGauge()
                              .Name("orca_journeys")
                              .Help("Journeys not ended, by where they are")
                              .Register(registry);
  Family<Gauge>& store = BuildGauge()
                           .Name("orca_store_bytes")
                           .Help("The store's map: its size and its maximum")
                           .Register(registry);
  Family<Gauge>& full = BuildGauge()
                          .Name("orca_store_full")
                          .Help("1 when the store is full at its maximum")
                          .Register(registry);
  Family<Counter>& hook_attempts =
    BuildCounter()
      .Name("orca_hook_attempts_total")
      .Help("Hook delivery attempts, by hook and result")
      .Register(registry);
  Family<Gauge>& hook_backlog =
    BuildGauge()
      .Name("orca_hook_backlog")
      .Help("Hook deliveries waiting to be sent, by hook")
      .Register(registry);
  Histogram* commit_seconds = &commit_time.Add({}, latency_buckets());
  Histogram* commit_requests = &commit_size.Add(
    {},
    Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024,
                                2048, 4096, 8192});

  /// The counters and histograms met so far, by their labels: a lookup
  /// here is cheaper than prometheus-cpp's own.
  std::mutex mutex;
  std::map<std::string, Counter*> order_counters;
  std::map<std::pair<std::string, int>, Counter*> ended_counters;
  // Found by views of the names (std::less<>), so that counting a step or
  // a call copies no string once its series exists.
  std::map<std::tuple<std::string, std::string, int>, Counter*, std::less<>>
    step_counters;
  std::map<std::tuple<std::string, bool>, Histogram*, std::less<>>
    provider_histograms;
  std::map<std::pair<std::string, bool>, Counter*> hook_counters;

  /// The counter or histogram of a series: the one this thread knows, or
  /// else the one `find` gives (under `mutex`), which the thread then
  /// remembers.
  template <class Metric, class Find>
  Metric& series_of(const char* kind, int tag, std::string_view name,
                    Find find) {
    auto slot = [](known_series& series) -> Metric*& {
      if constexpr (std::is_same_v<Metric, Counter>)
        return series.counter;
      else
        return series.histogram;
    };
    if (auto* series = recall(id, kind, tag, name))
      return *slot(*series);
    Metric* m = nullptr;
    {
      std::lock_guard<std::mutex> guard{mutex};
      m = find();
    }
    known_series series{id, kind, tag, std::string{name}};
    slot(series) = m;
    remember(std::move(series));
    return *m;
  }

  /// The counter of a step series, made at its first use; under `mutex`.
  Counter* step_counter(const std::string& flow, const char* kind,
                        step_outcome outcome);
};

engine_metrics::engine_metrics() : impl_(std::make_unique<impl>()) {
}

engine_metrics::~engine_metrics() = default;

void engine_metrics::order(const char* status) {
  auto& m = *impl_;
  m.series_of<Counter>(order_kind, 0, status,
                       [&] {
                         auto& c = m.order_counters[status];
                         if (c == nullptr)
                           c = &m.orders.Add({{"status", status}});
                         return c;
                       })
    .Increment();
}

void engine_metrics::journey_ended(const std::string& flow,
                                   journey_state state) {
  auto& m = *impl_;
  auto tag = static_cast<int>(state);
  m.series_of<Counter>(
     ended_kind, tag, flow,
     [&] {
       auto& c = m.ended_counters[{flow, tag}];
       if (c == nullptr)
         c = &m.ended.Add({{"flow", flow}, {"state", to_string(state)}});
       return c;
     })
    .Increment();
}

void engine_metrics::committed(double seconds, std::size_t requests) {
  impl_->commit_seconds->Observe(seconds);
  impl_->commit_requests->Observe(static_cast<double>(requests));
}

void engine_metrics::step_ended(const std::string& flow, const char* kind,
                                step_outcome outcome) {
  auto& m = *impl_;
  m.series_of<Counter>(kind, static_cast<int>(outcome), flow,
                       [&] { return m.step_counter(flow, kind, outcome); })
    .Increment();
}

prometheus::Counter* engine_metrics::impl::step_counter(const std::string& flow,
                                                        const char* kind,
                                                        step_outcome outcome) {
  auto key = std::make_tuple(std::string_view{flow}, std::string_view{kind},
                             static_cast<int>(outcome));
  auto found = step_counters.find(key);
  if (found == step_counters.end())
    found =
      step_counters
        .emplace(
          std::make_tuple(flow, std::string{kind}, static_cast<int>(outcome)),
          &steps.Add(
            {{"flow", flow}, {"kind", kind}, {"outcome", to_string(outcome)}}))
        .first;
  return found->second;
}

void engine_metrics::provider_answered(const std::string& provider,
                                       double seconds, bool ok) {
  auto& m = *impl_;
  m.series_of<Histogram>(
     provider_kind, ok, provider,
     [&] {
       auto at = m.provider_histograms.find(
         std::make_tuple(std::string_view{provider}, ok));
       if (at == m.provider_histograms.end())
         at = m.provider_histograms
                .emplace(std::make_tuple(provider, ok),
                         &m.provider.Add({{"provider", provider},
                                          {"result", ok ? "ok" : "failed"}},
                                         latency_buckets()))
                .first;
       return at->second;
     })
    .Observe(seconds);
}

void engine_metrics::hook_attempt(const std::string& hook, bool delivered) {
  std::lock_guard<std::mutex> guard{impl_->mutex};
  auto& c = impl_->hook_counters[{hook, delivered}];
  if (c == nullptr)
    c = &impl_->hook_attempts.Add(
      {{"hook", hook}, {"result", delivered ? "delivered" : "failed"}});
  c->Increment();
}

std::string engine_metrics::text(const gauges& now) {
  auto& m = *impl_;
  m.in_flight.Add({}).Set(static_cast<double>(now.orders_in_flight));
  m.journeys.Add({{"where", "memory"}})
    .Set(static_cast<double>(now.journeys_running));
  m.journeys.Add({{"where", "store"}})
    .Set(static_cast<double>(now.journeys_passivated));
  m.store.Add({{"of", "map"}}).Set(static_cast<double>(now.store_bytes));
  m.store.Add({{"of", "maximum"}})
    .Set(static_cast<double>(now.store_max_bytes));
  m.full.Add({}).Set(now.store_full ? 1 : 0);
  for (const auto& [hook, backlog] : now.hook_backlog)
    m.hook_backlog.Add({{"hook", hook}}).Set(static_cast<double>(backlog));
  prometheus::TextSerializer serializer;
  return serializer.Serialize(m.registry.Collect());
}

} // namespace orca
