// orca-bench --stop N: how long an engine takes to stop with N orders in
// flight, and whether every order it accepted is in the store afterwards.

#include <condition_variable>
#include <mutex>
#include <set>

#include <fmt/format.h>

#include "engine/engine.hpp"
#include "tools/orca_bench.hpp"

namespace orca::bench {

int run_stop(const options& opts, const std::vector<std::string>& tmpl) {
  auto dir = opts.data.empty() ? make_temp_dir("orca-bench-stop") : opts.data;
  const std::size_t n = opts.stop;
  auto eo = engine_options_for(opts, dir);
  // Room for every order at once: the stop is what is measured.
  eo.config.limits.orders_in_flight =
    std::max(eo.config.limits.orders_in_flight, n + opts.batch);
  auto engine = Engine::open(std::move(eo));
  if (!engine)
    throw std::runtime_error(describe(engine.error()));
  auto flow_text = read_file(opts.flow_file);
  auto created = (*engine)->create_flow(flow_text, opts.flow_file);
  if (!created)
    throw std::runtime_error(describe(created.error()));
  if (auto v = (*engine)->publish_flow(created->name); !v)
    throw std::runtime_error(describe(v.error()));
  std::mutex mutex;
  std::condition_variable cv;
  std::size_t answered = 0;
  std::set<std::string> accepted;
  std::size_t settled = 0; ///< journeys that ended or wait for an event
  (*engine)->subscribe([&](const journey_record& r) {
    if (!is_terminal(r.state) && r.state != journey_state::waiting)
      return;
    std::lock_guard<std::mutex> guard{mutex};
    ++settled;
  });
  // Every order is offered at once (no events: journeys run until they
  // wait for one), and the stop comes as soon as the last is accepted.
  for (std::size_t first = 0; first < n; first += opts.batch) {
    std::vector<std::string> batch;
    for (auto i = first; i < std::min(n, first + opts.batch); ++i)
      batch.push_back(make_order(tmpl, i));
    (*engine)->submit_async(std::move(batch),
                            [&](std::vector<submit_result> results) {
                              std::lock_guard<std::mutex> guard{mutex};
                              for (const auto& r : results) {
                                ++answered;
                                if (r.status == submit_status::accepted)
                                  accepted.insert(r.order_id);
                              }
                              cv.notify_all();
                            });
  }
  std::size_t unsettled = 0;
  {
    std::unique_lock<std::mutex> guard{mutex};
    cv.wait(guard, [&] { return answered >= n; });
    unsettled = accepted.size() - std::min(accepted.size(), settled);
  }
  auto start = clock_type::now();
  (*engine)->stop();
  auto stop_s =
    std::chrono::duration<double>(clock_type::now() - start).count();
  engine->reset();
  // What the store holds: a journey for every accepted order.
  auto reopened = Engine::open(engine_options_for(opts, dir));
  if (!reopened)
    throw std::runtime_error(describe(reopened.error()));
  std::size_t missing = 0;
  for (const auto& id : accepted) {
    auto journeys = (*reopened)->journeys(id);
    if (!journeys || journeys->empty())
      ++missing;
  }
  reopened->reset();
  fmt::print("orca-bench --stop: {} orders through \"{}\" ({})\n", n,
             created->name,
             opts.durable ? "durable: fsync per commit" : "no fsync");
  fmt::print("  accepted        {:>12}   ({} of them not yet ended or waiting "
             "at the stop)\n",
             accepted.size(), unsettled);
  fmt::print("  stop took       {:>12.2f} s\n", stop_s);
  fmt::print("  in the store    {:>12}   accepted orders without a journey "
             "after the stop\n",
             missing);
  if (opts.data.empty())
    remove_dir(dir);
  return missing == 0 ? 0 : 1;
}

} // namespace orca::bench
