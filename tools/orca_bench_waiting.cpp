// orca-bench --waiting: what a journey that waits for an event costs.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <cstdio>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include <caf/io/all.hpp>

#include "engine/client.hpp"
#include "engine/engine.hpp"
#include "engine/node.hpp"
#include "engine/wire_guard.hpp"
#include "tools/orca_bench.hpp"

namespace orca::bench {

/// Parks `n` journeys that wait for an event nobody sends and reports what
/// each costs in memory, then how long a restart takes to have them all
/// waiting again.
int run_waiting(const options& opts) {
  auto dir = opts.data.empty() ? make_temp_dir("orca-bench-wait") : opts.data;
  const char* flow = R"({"name": "Park", "type": "order", "steps": [
    {"action": "custom", "name": "After the event", "provider": "notify",
     "input_events": ["never"]}]})";
  auto open_engine = [&] {
    auto e = orca::Engine::open(engine_options_for(opts, dir));
    if (!e)
      throw std::runtime_error(orca::describe(e.error()));
    return std::move(*e);
  };
  auto opened = clock_type::now();
  auto engine = open_engine();
  // Every journey parks within a minute of its order's acceptance, or the
  // benchmark says where they stand and gives up.
  auto wait_parked = [&](orca::Engine& e, std::size_t n) {
    auto last_change = clock_type::now();
    std::size_t last = 0;
    for (;;) {
      auto parked = e.passivated_journeys("Park", 1);
      if (parked && *parked >= n)
        return;
      if (parked && *parked != last) {
        last = *parked;
        last_change = clock_type::now();
      } else if (clock_type::now() - last_change > std::chrono::minutes(1)) {
        auto running = e.running_journeys("Park", 1);
        throw std::runtime_error(fmt::format(
          "{} of {} journeys parked and {} running after a minute without "
          "change",
          last, n, running ? *running : 0));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  };
  auto report_restart = [&](clock_type::time_point since,
                            clock_type::time_point until) {
    fmt::print(
      "  restart         {:>12.2f} s    (open until all {} wait again)\n",
      std::chrono::duration<double>(until - since).count(), opts.waiting);
  };
  if (engine->get_flow("Park")) {
    // The --data of an earlier run (with the same --waiting): only its
    // restart is timed.
    wait_parked(*engine, opts.waiting);
    auto took = clock_type::now();
    auto parked = engine->passivated_journeys("Park", 1);
    fmt::print("orca-bench --waiting: {} journeys waiting in {} ({} parked "
               "when all had)\n",
               opts.waiting, dir, parked ? *parked : 0);
    report_restart(opened, took);
    return 0;
  }
  if (auto c = engine->create_flow(flow, "park flow"); !c)
    throw std::runtime_error(orca::describe(c.error()));
  if (auto v = engine->publish_flow("Park"); !v)
    throw std::runtime_error(orca::describe(v.error()));

  // The allocator keeps freed memory for reuse; give it back first so that
  // both figures count what is really held.
  release_free_heap();
  auto baseline_anon = status_bytes("RssAnon");
  auto baseline_rss = status_bytes("VmRSS");
  auto start = clock_type::now();
  const std::size_t n = opts.waiting;
  // At most --window orders in the node's memory (SPEC §8's
  // orders_in_flight, which counts an order until its journey has left
  // memory): parking a million journeys is a test of holding them, not of
  // a million at once. The count is read from the engine, so that the
  // benchmark does not subscribe to journey records and make the node
  // build one for every change. An order the node answers busy is offered
  // again once journeys have left memory.
  std::mutex mutex;
  std::condition_variable cv;
  std::size_t taken = 0; ///< answered accepted, or refused for good
  std::size_t next = 0;
  std::deque<std::size_t> again; ///< answered busy
  std::size_t busy_answers = 0;
  std::string refused;
  auto in_memory = [&] { return engine->storage().orders_in_flight; };
  for (;;) {
    std::vector<std::size_t> ids;
    {
      std::unique_lock<std::mutex> guard{mutex};
      if (next >= n && again.empty()) {
        // Wait for the last answers: some may be busy, to offer again.
        cv.wait(guard, [&] { return taken == n || !again.empty(); });
        if (again.empty())
          break;
      }
      while (!again.empty() && ids.size() < opts.batch) {
        ids.push_back(again.front());
        again.pop_front();
      }
      while (next < n && ids.size() < opts.batch)
        ids.push_back(next++);
    }
    while (in_memory() + ids.size() > opts.window)
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    std::vector<std::string> batch;
    for (auto i : ids)
      batch.push_back(R"({"id": "W-)" + std::to_string(i)
                      + R"(", "lines": [{"id": "1", "sku": "SKU"}]})");
    engine->submit_async(
      std::move(batch), [&, ids](std::vector<orca::submit_result> results) {
        std::lock_guard<std::mutex> guard{mutex};
        for (std::size_t k = 0; k < results.size(); ++k) {
          if (results[k].status == orca::submit_status::busy) {
            ++busy_answers;
            again.push_back(ids[k]);
          } else {
            ++taken;
            if (results[k].status == orca::submit_status::rejected)
              refused = results[k].error;
          }
        }
        cv.notify_all();
      });
  }
  if (!refused.empty())
    throw std::runtime_error("an order was refused: " + refused);
  wait_parked(*engine, n);
  auto parked_s =
    std::chrono::duration<double>(clock_type::now() - start).count();
  release_free_heap();
  auto anon = status_bytes("RssAnon");
  auto rss = status_bytes("VmRSS");
  fmt::print("orca-bench --waiting: {} journeys waiting for an event\n", n);
  fmt::print("  parked in       {:>12.2f} s    ({:.0f} orders/s; {} answered "
             "busy and offered again)\n",
             parked_s, n / parked_s, busy_answers);
  fmt::print(
    "  heap per journey{:>12.0f} bytes (anonymous RSS {:.1f} -> {:.1f} MiB)\n",
    double(anon - std::min(anon, baseline_anon)) / n, baseline_anon / 1048576.0,
    anon / 1048576.0);
  fmt::print("  RSS per journey {:>12.0f} bytes (with mapped store pages; "
             "{:.1f} -> {:.1f} MiB)\n",
             double(rss - std::min(rss, baseline_rss)) / n,
             baseline_rss / 1048576.0, rss / 1048576.0);
  std::fflush(stdout); // a profiler may be attached for the restart
  engine.reset();
  auto restart = clock_type::now();
  auto reopened = open_engine();
  wait_parked(*reopened, n);
  report_restart(restart, clock_type::now());
  reopened.reset();
  if (opts.data.empty())
    remove_dir(dir);
  return 0;
}

} // namespace orca::bench
