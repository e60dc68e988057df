// orca-bench: runs N orders through the order-to-invoice example on one
// engine and prints throughput, intake-to-terminal latency and memory.
//
// Orders are copies of the five example orders with fresh ids, submitted in
// batches through the embedding API with at most --window of them between
// submission and a terminal journey, or, with --rate, offered at a fixed
// rate whatever the engine does (open loop), each order's latency counted
// from when it was due. Each accepted order also gets its
// `fulfillment_shipped` event at once (an early event is remembered), so
// every journey runs to its end. Providers are the simulated defaults plus
// `notify`, all answering at once.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <lmdb.h>
#include <malloc.h>
#include <unistd.h>

#include <caf/io/all.hpp>

#include "engine/client.hpp"
#include "engine/engine.hpp"
#include "engine/node.hpp"
#include "engine/wire_guard.hpp"
#include "tools/orca_bench.hpp"
#include "tools/tool_support.hpp"

namespace {

using namespace orca::bench;

struct lmdb_ceiling {
  double puts_per_second = 0;
  double commits_per_second = 0;
};

/// The raw LMDB rate on this disk: `batch` puts of `value_size` bytes per
/// transaction, committed with LMDB's default (synchronous) durability,
/// for about `seconds`.
lmdb_ceiling measure_lmdb(std::size_t batch, std::size_t value_size,
                          double seconds) {
  auto dir = make_temp_dir("orca-bench-lmdb");
  MDB_env* env = nullptr;
  mdb_env_create(&env);
  mdb_env_set_mapsize(env, std::size_t{16} << 30);
  lmdb_ceiling result;
  if (mdb_env_open(env, dir.c_str(), 0, 0644) == MDB_SUCCESS) {
    std::string value(value_size, 'x');
    uint64_t key_no = 0;
    uint64_t puts = 0;
    uint64_t commits = 0;
    auto start = clock_type::now();
    auto elapsed = [&] {
      return std::chrono::duration<double>(clock_type::now() - start).count();
    };
    while (elapsed() < seconds) {
      MDB_txn* txn = nullptr;
      mdb_txn_begin(env, nullptr, 0, &txn);
      MDB_dbi dbi;
      mdb_dbi_open(txn, nullptr, 0, &dbi);
      for (std::size_t i = 0; i < batch; ++i) {
        char key[16];
        auto k = key_no++;
        for (int b = 15; b >= 0; --b, k >>= 4)
          key[b] = "0123456789abcdef"[k & 15];
        MDB_val kv{sizeof(key), key};
        MDB_val vv{value.size(), value.data()};
        mdb_put(txn, dbi, &kv, &vv, 0);
      }
      mdb_txn_commit(txn);
      puts += batch;
      ++commits;
    }
    result.puts_per_second = puts / elapsed();
    result.commits_per_second = commits / elapsed();
  }
  mdb_env_close(env);
  remove_dir(dir);
  return result;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"orca-bench: orders through the order-to-invoice example"};
  options opts;
  std::string source_dir = ORCA_SOURCE_DIR;
  opts.flow_file = source_dir + "/flows/examples/order-to-invoice.json";
  opts.orders_file = source_dir + "/flows/examples/orders.jsonl";
  app.add_option("-n,--orders", opts.orders, "orders to run")
    ->capture_default_str();
  app.add_flag("--remote", opts.remote,
               "instead: submit through the client library over loopback and "
               "report the acknowledged orders/s");
  app.add_flag("--http", opts.http,
               "instead: post JSON Lines batches to the HTTP API over "
               "loopback (keep-alive, --window / --batch connections) and "
               "report the acknowledged orders/s");
  app.add_option("--intake", opts.intake,
                 "instead: post signed webhooks of this example source "
                 "(shopify, woocommerce) to POST /v1/intake over loopback, "
                 "one a request from --window connections (at most 64), "
                 "and report the acknowledged orders/s");
  app.add_option("--waiting", opts.waiting,
                 "instead: park this many journeys waiting for an event and "
                 "report memory per journey and restart time");
  app.add_option("--stop", opts.stop,
                 "instead: offer this many orders at once, stop the engine "
                 "as soon as the last is accepted, and report how long the "
                 "stop took and whether every accepted order is stored");
  app.add_option("--list", opts.list,
                 "instead: fill the store with this many ended journeys and "
                 "report how long journey listings by flow and state take");
  auto* batch_option =
    app.add_option("--batch", opts.batch, "orders per submission")
      ->capture_default_str();
  auto* window_option =
    app
      .add_option("--window", opts.window,
                  "most orders in flight (0: offer them all at once; the "
                  "node's back-pressure answers busy, and those are offered "
                  "again)")
      ->capture_default_str();
  app
    .add_option("--rate", opts.rate,
                "instead of --window: offer orders at this many a second "
                "whatever the engine does (open loop); latency counts from "
                "when each order was due, so that waiting to offer it "
                "counts too")
    ->check(CLI::NonNegativeNumber);
  app
    .add_option("--threads", opts.threads,
                "actor scheduler threads (0: one per core)")
    ->capture_default_str();
  app
    .add_option("--scheduler", opts.scheduler,
                "how actor threads find work: stealing or sharing")
    ->transform(CLI::CheckedTransformer(
      std::map<std::string, orca::engine_options::scheduling>{
        {"stealing", orca::engine_options::scheduling::stealing},
        {"sharing", orca::engine_options::scheduling::sharing}}))
    ->capture_default_str();
  app.add_flag("--durable", opts.durable, "fsync every commit");
  app.add_flag("--hook", opts.hook,
               "add a hook on every journey_ended, delivered to a receiver "
               "on loopback, and report how long its backlog took to drain");
  app.add_option("--data", opts.data,
                 "data directory (default: a fresh one under /tmp)");
  app.add_option("--flow", opts.flow_file, "flow file")->capture_default_str();
  app.add_option("--orders-file", opts.orders_file, "example orders")
    ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  // The other modes; an error ends each with a line that says why.
  auto mode = [](auto run) {
    try {
      return run();
    } catch (const std::exception& e) {
      std::cerr << "error: " << e.what() << "\n";
      return 1;
    }
  };
  if (opts.waiting > 0) {
    // Parking is a test of holding journeys, not of a flood: past the
    // node's 10,000 in memory it only answers busy.
    if (window_option->count() == 0)
      opts.window = 512;
    if (batch_option->count() == 0)
      opts.batch = 128;
    return mode([&] { return run_waiting(opts); });
  }
  if (opts.stop > 0)
    return mode([&] { return run_stop(opts, templates(opts.orders_file)); });
  if (opts.list > 0)
    return mode([&] { return run_list(opts, templates(opts.orders_file)); });
  if (opts.http || !opts.intake.empty())
    return mode([&] { return run_http(opts, templates(opts.orders_file)); });
  if (opts.remote)
    return mode([&] { return run_remote(opts, templates(opts.orders_file)); });
  bool own_dir = opts.data.empty();
  if (own_dir)
    opts.data = make_temp_dir("orca-bench");
  auto baseline_rss = peak_rss();
  std::unique_ptr<hook_receiver> receiver;
  auto eo = engine_options_for(opts, opts.data);
  if (opts.hook) {
    receiver = std::make_unique<hook_receiver>();
    auto hooked = orca::node_config::parse(
      R"({"hooks": {"bench": {"url": ")" + receiver->url()
        + R"(", "on": ["journey_ended"]}}})",
      "--hook");
    if (!hooked) {
      std::cerr << "error: " << orca::describe(hooked.error()) << "\n";
      return 1;
    }
    eo.config.hooks = hooked->hooks;
  }
  auto opened = orca::Engine::open(std::move(eo));
  if (!opened) {
    std::cerr << "error: " << orca::describe(opened.error()) << "\n";
    return 1;
  }
  auto& engine = **opened;
  auto flow_text = read_file(opts.flow_file);
  auto created = engine.create_flow(flow_text, opts.flow_file);
  if (!created) {
    std::cerr << "error: " << orca::describe(created.error()) << "\n";
    return 3;
  }
  if (auto v = engine.publish_flow(created->name); !v) {
    std::cerr << "error: " << orca::describe(v.error()) << "\n";
    return 3;
  }
  auto tmpl = templates(opts.orders_file);
  if (tmpl.empty()) {
    std::cerr << "error: " << opts.orders_file << ": no orders\n";
    return 3;
  }

  const std::size_t n = opts.orders;
  std::vector<clock_type::time_point> submitted(n);
  std::vector<double> latency_ms(n, -1);
  std::map<std::string, std::size_t> states;
  std::mutex mutex;
  std::condition_variable cv;
  std::size_t finished = 0;
  std::size_t in_flight = 0;
  std::vector<std::size_t> refused; ///< orders the node answered busy
  std::size_t busy_answers = 0;
  auto open_loop = opts.rate > 0;
  auto unbounded = opts.window == 0 || open_loop;

  engine.subscribe(
    [&](const orca::journey_record& r) {
      auto now = clock_type::now();
      auto i = std::stoul(r.order_id.substr(2));
      std::lock_guard<std::mutex> guard{mutex};
      latency_ms[i] =
        std::chrono::duration<double, std::milli>(now - submitted[i]).count();
      ++states[orca::to_string(r.state)];
      ++finished;
      --in_flight;
      cv.notify_all();
    },
    true);

  // Submits orders `numbers`; the accepted ones get their event, the
  // rejected ones are done, the busy ones are queued to be offered again.
  auto offer = [&](std::vector<std::size_t> numbers) {
    std::vector<std::string> batch;
    batch.reserve(numbers.size());
    for (auto i : numbers)
      batch.push_back(make_order(tmpl, i));
    engine.submit_async(
      std::move(batch),
      [&, numbers = std::move(numbers)](std::vector<orca::submit_result> rs) {
        std::vector<std::pair<std::string, std::string>> events;
        std::vector<std::size_t> busy;
        std::size_t lost = 0;
        for (std::size_t k = 0; k < rs.size(); ++k) {
          auto& r = rs[k];
          if (r.status == orca::submit_status::accepted)
            events.emplace_back(std::move(r.order_id), "fulfillment_shipped");
          else if (r.status == orca::submit_status::busy)
            busy.push_back(numbers[k]);
          else
            ++lost;
        }
        if (lost > 0 || !busy.empty()) {
          std::lock_guard<std::mutex> guard{mutex};
          finished += lost;
          in_flight -= lost;
          busy_answers += busy.size();
          refused.insert(refused.end(), busy.begin(), busy.end());
          cv.notify_all();
        }
        engine.events_async(std::move(events), [](std::vector<caf::error>) {});
      });
  };

  // The batch of `numbers` that starts at `at`.
  auto batch_of = [&](const std::vector<std::size_t>& numbers, std::size_t at) {
    auto end = std::min(numbers.size(), at + opts.batch);
    return std::vector<std::size_t>(
      numbers.begin() + static_cast<std::ptrdiff_t>(at),
      numbers.begin() + static_cast<std::ptrdiff_t>(end));
  };

  // Whether the node answered busy since the last call; if so, pauses
  // briefly so that offers follow the node's pace.
  std::size_t busy_seen = 0;
  auto was_busy = [&] {
    std::size_t now_busy;
    {
      std::lock_guard<std::mutex> guard{mutex};
      now_busy = busy_answers;
    }
    bool busy = now_busy != busy_seen;
    busy_seen = now_busy;
    if (busy)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    return busy;
  };

  auto start = clock_type::now();
  auto commits_before = engine.storage();
  for (std::size_t first = 0; first < n; first += opts.batch) {
    auto count = std::min(opts.batch, n - first);
    // When the batch is due: at once (closed loop), or at the rate.
    auto now = clock_type::now();
    if (open_loop) {
      now = start
        + std::chrono::duration_cast<clock_type::duration>(
              std::chrono::duration<double>(double(first) / opts.rate));
      std::this_thread::sleep_until(now);
    }
    {
      std::unique_lock<std::mutex> guard{mutex};
      cv.wait(guard,
              [&] { return unbounded || in_flight + count <= opts.window; });
      in_flight += count;
    }
    if (unbounded && !open_loop)
      was_busy(); // paces the first offers by the node's back-pressure
    // What the node answered busy goes again before anything new, so that
    // its latency is the node's, not the length of the run.
    std::vector<std::size_t> again;
    {
      std::lock_guard<std::mutex> guard{mutex};
      again.swap(refused);
    }
    if (!again.empty() && was_busy()) {
      // Busy still: they wait for the next batch.
      std::lock_guard<std::mutex> guard{mutex};
      refused.insert(refused.end(), again.begin(), again.end());
      again.clear();
    }
    for (std::size_t at = 0; at < again.size(); at += opts.batch)
      offer(batch_of(again, at));
    std::vector<std::size_t> numbers(count);
    if (!open_loop)
      now = clock_type::now();
    for (std::size_t i = first; i < first + count; ++i) {
      numbers[i - first] = i;
      submitted[i] = now;
    }
    offer(numbers);
  }
  // Offer what the node answered busy again until everything was taken,
  // a batch at a time, pausing whenever the node is still busy.
  for (;;) {
    std::vector<std::size_t> again;
    {
      std::unique_lock<std::mutex> guard{mutex};
      cv.wait(guard, [&] { return finished >= n || !refused.empty(); });
      if (refused.empty())
        break;
      again.swap(refused);
    }
    for (std::size_t at = 0; at < again.size(); at += opts.batch) {
      if (was_busy()) {
        // Still busy: give the rest back and wait a little.
        std::lock_guard<std::mutex> guard{mutex};
        refused.insert(refused.end(),
                       again.begin() + static_cast<std::ptrdiff_t>(at),
                       again.end());
        break;
      }
      offer(batch_of(again, at));
    }
  }
  auto elapsed =
    std::chrono::duration<double>(clock_type::now() - start).count();
  auto commits = engine.storage();
  std::vector<double> sorted;
  sorted.reserve(n);
  for (auto l : latency_ms)
    if (l >= 0)
      sorted.push_back(l);
  std::sort(sorted.begin(), sorted.end());
  auto rss = peak_rss();

  fmt::print(
    "orca-bench: {} orders through \"{}\" ({} mode, {} scheduler threads)\n", n,
    created->name, opts.durable ? "durable: fsync per commit" : "no fsync",
    opts.threads == 0 ? std::thread::hardware_concurrency() : opts.threads);
  if (open_loop)
    fmt::print("  offered at      {:>12.0f} orders/s   (open loop, batches of "
               "{})\n",
               opts.rate, opts.batch);
  fmt::print("  throughput      {:>12.0f} orders/s   ({:.2f} s)\n", n / elapsed,
             elapsed);
  fmt::print(
    "  commits         {:>12.0f} /s         ({} commits, {:.1f} writes each)\n",
    (commits.commits - commits_before.commits) / elapsed,
    commits.commits - commits_before.commits,
    double(commits.ops - commits_before.ops)
      / std::max<uint64_t>(1, commits.commits - commits_before.commits));
  fmt::print("  write requests  {:>12.1f} per order (intake, events, journeys' "
             "saves)\n",
             double(commits.requests - commits_before.requests) / double(n));
  fmt::print("  latency p50     {:>12.3f} ms   (intake to terminal journey)\n",
             percentile(sorted, 0.50));
  fmt::print("  latency p99     {:>12.3f} ms\n", percentile(sorted, 0.99));
  fmt::print("  latency p99.9   {:>12.3f} ms\n", percentile(sorted, 0.999));
  fmt::print("  latency max     {:>12.3f} ms\n",
             sorted.empty() ? 0.0 : sorted.back());
  fmt::print("  peak RSS        {:>12.1f} MiB  (at start {:.1f} MiB)\n",
             rss / 1048576.0, baseline_rss / 1048576.0);
  std::string by_state;
  for (const auto& [state, count] : states)
    by_state += fmt::format(" {}={}", state, count);
  fmt::print("  journeys       {}\n", by_state);
  if (busy_answers > 0)
    fmt::print("  busy answers    {:>12}   (orders the node did not take at "
               "once: offered again)\n",
               busy_answers);
  if (receiver) {
    // The deliveries lag the journeys: wait for the backlog to drain.
    auto drained = clock_type::now();
    while (receiver->received() < n
           && clock_type::now() - drained < std::chrono::seconds(120))
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    auto lag =
      std::chrono::duration<double>(clock_type::now() - drained).count();
    fmt::print("  hook deliveries {:>12}   (one per journey_ended; the last "
               "{:.2f} s after the last journey ended)\n",
               receiver->received(), lag);
  }
  if (opts.durable) {
    auto commit_count = commits.commits - commits_before.commits;
    auto writes = commits.ops - commits_before.ops;
    auto per_commit = writes / std::max<double>(1, commit_count);
    auto engine_puts = writes / elapsed;
    auto raw = measure_lmdb(1000, 300, 2.0);
    fmt::print("  raw LMDB        {:>12.0f} puts/s      (1000 x 300 B per "
               "synced commit: "
               "the ceiling)\n",
               raw.puts_per_second);
    fmt::print("  engine writes   {:>12.0f} puts/s      ({:.1f} per order, "
               "{:.1f} per commit) = {:.1f}% of the ceiling\n",
               engine_puts, double(writes) / n, per_commit,
               100.0 * engine_puts / std::max(1.0, raw.puts_per_second));
    fmt::print("  order ceiling   {:>12.0f} orders/s    (raw puts/s / writes "
               "per order); this run: {:.1f}%\n",
               raw.puts_per_second / (double(writes) / n),
               100.0 * (n / elapsed)
                 / std::max(1.0, raw.puts_per_second / (double(writes) / n)));
  }
  opened->reset();
  if (own_dir)
    remove_dir(opts.data);
  return 0;
}
