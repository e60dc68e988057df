// orca-bench: runs N orders through the order-to-invoice example on one
// engine and prints throughput, intake-to-terminal latency and memory.
//
// Orders are copies of the five example orders with fresh ids, submitted in
// batches through the embedding API with at most --window of them between
// submission and a terminal journey. Each accepted order also gets its
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
#include "tools/tool_support.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

struct options {
  bool remote = false;
  std::size_t waiting = 0;
  std::size_t orders = 100000;
  std::size_t batch = 256;
  std::size_t window = 8192;
  std::size_t threads = 0;
  orca::engine_options::scheduling scheduler =
    orca::engine_options::scheduling::stealing;
  bool durable = false;
  std::string data;
  std::string flow_file;
  std::string orders_file;
};

std::string read_file(const std::string& path) {
  auto text = orca::tools::read_input(path); // says why if it cannot
  if (!text)
    throw std::runtime_error("no flow or orders to run");
  return *text;
}

/// A field of /proc/self/status in bytes ("VmHWM", "VmRSS", "RssAnon").
std::size_t status_bytes(const std::string& field) {
  std::ifstream status{"/proc/self/status"};
  std::string line;
  while (std::getline(status, line))
    if (line.rfind(field + ":", 0) == 0)
      return std::stoul(line.substr(field.size() + 1)) * 1024;
  return 0;
}

std::size_t peak_rss() {
  return status_bytes("VmHWM");
}

std::string make_temp_dir(const char* stem) {
  std::string pattern = std::string{"/tmp/"} + stem + "-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr)
    throw std::runtime_error("cannot make a temporary directory");
  return pattern;
}

void remove_dir(const std::string& dir) {
  std::string cmd = "rm -rf '" + dir + "'";
  [[maybe_unused]] int rc = std::system(cmd.c_str());
}

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

/// Parks `n` journeys that wait for an event nobody sends and reports what
/// each costs in memory, then how long a restart takes to have them all
/// waiting again.
int run_waiting(const options& opts) {
  auto dir = opts.data.empty() ? make_temp_dir("orca-bench-wait") : opts.data;
  const char* flow = R"({"name": "Park", "type": "order", "steps": [
    {"action": "custom", "name": "After the event", "provider": "notify",
     "input_events": ["never"]}]})";
  auto open_engine = [&] {
    orca::engine_options eo;
    eo.data_dir = dir;
    eo.threads = opts.threads;
    eo.scheduler = opts.scheduler;
    eo.durable = opts.durable;
    eo.config.providers["notify"] = orca::provider_config{};
    auto e = orca::Engine::open(std::move(eo));
    if (!e)
      throw std::runtime_error(orca::describe(e.error()));
    return std::move(*e);
  };
  auto engine = open_engine();
  if (auto c = engine->create_flow(flow, "park flow"); !c)
    throw std::runtime_error(orca::describe(c.error()));
  if (auto v = engine->publish_flow("Park"); !v)
    throw std::runtime_error(orca::describe(v.error()));
  auto wait_parked = [&](orca::Engine& e, std::size_t n) {
    for (;;) {
      auto parked = e.passivated_journeys("Park", 1);
      if (parked && *parked >= n)
        return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  };
  // The allocator keeps freed memory for reuse; give it back first so that
  // both figures count what is really held.
  ::malloc_trim(0);
  auto baseline_anon = status_bytes("RssAnon");
  auto baseline_rss = status_bytes("VmRSS");
  auto start = clock_type::now();
  const std::size_t n = opts.waiting;
  // At most --window journeys between submission and waiting: parking a
  // million journeys is a test of holding them, not of a million at once.
  std::mutex mutex;
  std::condition_variable cv;
  std::size_t submitted = 0;
  std::size_t waiting = 0;
  auto subscription = engine->subscribe([&](const orca::journey_record& r) {
    if (r.state != orca::journey_state::waiting)
      return;
    std::lock_guard<std::mutex> guard{mutex};
    ++waiting;
    cv.notify_all();
  });
  for (std::size_t first = 0; first < n; first += opts.batch) {
    auto count = std::min(opts.batch, n - first);
    {
      std::unique_lock<std::mutex> guard{mutex};
      cv.wait(guard,
              [&] { return submitted - waiting + count <= opts.window; });
      submitted += count;
    }
    std::vector<std::string> batch;
    for (std::size_t i = first; i < first + count; ++i)
      batch.push_back(R"({"id": "W-)" + std::to_string(i)
                      + R"(", "lines": [{"id": "1", "sku": "SKU"}]})");
    engine->submit_async(std::move(batch),
                         [](std::vector<orca::submit_result>) {});
  }
  engine->unsubscribe(subscription);
  wait_parked(*engine, n);
  auto parked_s =
    std::chrono::duration<double>(clock_type::now() - start).count();
  ::malloc_trim(0);
  auto anon = status_bytes("RssAnon");
  auto rss = status_bytes("VmRSS");
  fmt::print("orca-bench --waiting: {} journeys waiting for an event\n", n);
  fmt::print("  parked in       {:>12.2f} s    ({:.0f} orders/s)\n", parked_s,
             n / parked_s);
  fmt::print(
    "  heap per journey{:>12.0f} bytes (anonymous RSS {:.1f} -> {:.1f} MiB)\n",
    double(anon - std::min(anon, baseline_anon)) / n, baseline_anon / 1048576.0,
    anon / 1048576.0);
  fmt::print("  RSS per journey {:>12.0f} bytes (with mapped store pages; "
             "{:.1f} -> {:.1f} MiB)\n",
             double(rss - std::min(rss, baseline_rss)) / n,
             baseline_rss / 1048576.0, rss / 1048576.0);
  engine.reset();
  auto restart = clock_type::now();
  auto reopened = open_engine();
  wait_parked(*reopened, n);
  auto restart_s =
    std::chrono::duration<double>(clock_type::now() - restart).count();
  fmt::print(
    "  restart         {:>12.2f} s    (open until all {} wait again)\n",
    restart_s, n);
  reopened.reset();
  if (opts.data.empty())
    remove_dir(dir);
  return 0;
}

/// The example orders, with their ids replaced by a marker.
std::vector<std::string> templates(const std::string& path) {
  std::vector<std::string> result;
  std::istringstream lines{read_file(path)};
  std::string line;
  while (std::getline(lines, line)) {
    auto at = line.find("\"id\": \"");
    if (at == std::string::npos)
      continue;
    auto end = line.find('"', at + 7);
    result.push_back(line.substr(0, at + 7) + "@" + line.substr(end));
  }
  return result;
}

std::string make_order(const std::vector<std::string>& tmpl, std::size_t i) {
  const auto& t = tmpl[i % tmpl.size()];
  auto at = t.find('@');
  return t.substr(0, at) + "B-" + std::to_string(i) + t.substr(at + 1);
}

double percentile(std::vector<double>& sorted, double p) {
  if (sorted.empty())
    return 0;
  auto index = static_cast<std::size_t>(p * (sorted.size() - 1));
  return sorted[index];
}

/// Submits the orders through the client library to a node published on
/// loopback, in batches with several in flight, and reports the rate at
/// which the node acknowledged them (each acknowledgement is durable).
int run_remote(const options& opts, const std::vector<std::string>& tmpl) {
  auto dir = opts.data.empty() ? make_temp_dir("orca-bench-remote") : opts.data;
  orca::engine_options eo;
  eo.data_dir = dir;
  eo.threads = opts.threads;
  eo.scheduler = opts.scheduler;
  eo.durable = opts.durable;
  eo.config.providers["notify"] = orca::provider_config{};
  eo.configure = [](caf::actor_system_config& cfg) {
    orca::speak_node_protocol(cfg);
    cfg.set("logger.verbosity", caf::atom("quiet"));
  };
  auto engine = orca::Engine::open(std::move(eo));
  if (!engine)
    throw std::runtime_error(orca::describe(engine.error()));
  auto flow_text = read_file(opts.flow_file);
  if (auto c = (*engine)->create_flow(flow_text, opts.flow_file); !c)
    throw std::runtime_error(orca::describe(c.error()));
  if (auto v = (*engine)->publish_flow("Order to invoice"); !v)
    throw std::runtime_error(orca::describe(v.error()));
  auto node = orca::spawn_node(**engine, {"127.0.0.1", dir, 0});
  auto port =
    (*engine)->system().middleman().publish(node, 0, "127.0.0.1", true);
  if (!port)
    throw std::runtime_error(orca::describe(port.error()));
  // The client goes through the wire guard, as it would to orcad.
  auto guard = orca::wire_guard::start(
    "127.0.0.1", 0, *port,
    {orca::default_limits().wire_bytes, orca::node_type_names()},
    [](const std::string& text) { std::cerr << "warning: " << text << "\n"; });
  if (!guard)
    throw std::runtime_error(orca::describe(guard.error()));
  orca::client_options co;
  co.port = (*guard)->port();
  auto client = orca::client::connect(co);
  if (!client)
    throw std::runtime_error(orca::describe(client.error()));
  std::vector<std::string> orders;
  orders.reserve(opts.orders);
  for (std::size_t i = 0; i < opts.orders; ++i)
    orders.push_back(make_order(tmpl, i));
  auto start = clock_type::now();
  std::size_t busy = 0;
  auto results = (*client)->submit_pipelined(
    orders, opts.batch, std::max<std::size_t>(1, opts.window / opts.batch), {},
    true, &busy);
  auto elapsed =
    std::chrono::duration<double>(clock_type::now() - start).count();
  // Whatever the outcome, stop the node before the engine goes.
  client->reset();
  (*engine)->system().middleman().unpublish(node, *port);
  caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
  node = nullptr;
  engine->reset();
  if (opts.data.empty())
    remove_dir(dir);
  if (!results)
    throw std::runtime_error(orca::describe(results.error()));
  std::size_t accepted = 0;
  for (const auto& r : *results)
    if (r.status == "accepted")
      ++accepted;
  fmt::print("orca-bench --remote: {} orders through the client library to a "
             "node on 127.0.0.1:{} ({})\n",
             opts.orders, *port,
             opts.durable ? "durable: fsync per commit" : "no fsync");
  fmt::print(
    "  submitted       {:>12.0f} orders/s   ({:.2f} s; batches of {}, up to "
    "{} in flight; {} accepted)\n",
    opts.orders / elapsed, elapsed, opts.batch,
    std::max<std::size_t>(1, opts.window / opts.batch), accepted);
  fmt::print(
    "  busy answers    {:>12}          (orders offered again: the node's "
    "back-pressure)\n",
    busy);
  return 0;
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
  app.add_option("--waiting", opts.waiting,
                 "instead: park this many journeys waiting for an event and "
                 "report memory per journey and restart time");
  app.add_option("--batch", opts.batch, "orders per submission")
    ->capture_default_str();
  app
    .add_option("--window", opts.window,
                "most orders in flight (0: offer them all at once; the "
                "node's back-pressure answers busy, and those are offered "
                "again)")
    ->capture_default_str();
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
  app.add_option("--data", opts.data,
                 "data directory (default: a fresh one under /tmp)");
  app.add_option("--flow", opts.flow_file, "flow file")->capture_default_str();
  app.add_option("--orders-file", opts.orders_file, "example orders")
    ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (opts.waiting > 0) {
    try {
      return run_waiting(opts);
    } catch (const std::exception& e) {
      std::cerr << "error: " << e.what() << "\n";
      return 1;
    }
  }

  if (opts.remote) {
    try {
      return run_remote(opts, templates(opts.orders_file));
    } catch (const std::exception& e) {
      std::cerr << "error: " << e.what() << "\n";
      return 1;
    }
  }
  bool own_dir = opts.data.empty();
  if (own_dir)
    opts.data = make_temp_dir("orca-bench");
  auto baseline_rss = peak_rss();
  orca::engine_options eo;
  eo.data_dir = opts.data;
  eo.threads = opts.threads;
  eo.scheduler = opts.scheduler;
  eo.durable = opts.durable;
  eo.config.providers["notify"] = orca::provider_config{};
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
  auto unbounded = opts.window == 0;

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
    {
      std::unique_lock<std::mutex> guard{mutex};
      cv.wait(guard,
              [&] { return unbounded || in_flight + count <= opts.window; });
      in_flight += count;
    }
    if (unbounded)
      was_busy(); // paces the first offers by the node's back-pressure
    std::vector<std::size_t> numbers(count);
    auto now = clock_type::now();
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
      auto end = std::min(again.size(), at + opts.batch);
      if (was_busy()) {
        // Still busy: give the rest back and wait a little.
        std::lock_guard<std::mutex> guard{mutex};
        refused.insert(refused.end(),
                       again.begin() + static_cast<std::ptrdiff_t>(at),
                       again.end());
        break;
      }
      offer(std::vector<std::size_t>(
        again.begin() + static_cast<std::ptrdiff_t>(at),
        again.begin() + static_cast<std::ptrdiff_t>(end)));
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
  fmt::print("  throughput      {:>12.0f} orders/s   ({:.2f} s)\n", n / elapsed,
             elapsed);
  fmt::print(
    "  commits         {:>12.0f} /s         ({} commits, {:.1f} writes each)\n",
    (commits.commits - commits_before.commits) / elapsed,
    commits.commits - commits_before.commits,
    double(commits.ops - commits_before.ops)
      / std::max<uint64_t>(1, commits.commits - commits_before.commits));
  fmt::print("  latency p50     {:>12.3f} ms   (intake to terminal journey)\n",
             percentile(sorted, 0.50));
  fmt::print("  latency p99     {:>12.3f} ms\n", percentile(sorted, 0.99));
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
