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
#include <unistd.h>

#include "engine/engine.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

struct options {
  std::size_t orders = 100000;
  std::size_t batch = 256;
  std::size_t window = 8192;
  std::size_t threads = 0;
  bool durable = false;
  std::string data;
  std::string flow_file;
  std::string orders_file;
};

std::string read_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    throw std::runtime_error("cannot read " + path);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

/// Peak resident set size of this process, in bytes.
std::size_t peak_rss() {
  std::ifstream status{"/proc/self/status"};
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0)
      return std::stoul(line.substr(6)) * 1024;
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

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"orca-bench: orders through the order-to-invoice example"};
  options opts;
  std::string source_dir = ORCA_SOURCE_DIR;
  opts.flow_file = source_dir + "/flows/examples/order-to-invoice.json";
  opts.orders_file = source_dir + "/flows/examples/orders.jsonl";
  app.add_option("-n,--orders", opts.orders, "orders to run")->capture_default_str();
  app.add_option("--batch", opts.batch, "orders per submission")->capture_default_str();
  app.add_option("--window", opts.window, "most orders in flight")->capture_default_str();
  app.add_option("--threads", opts.threads, "actor scheduler threads (0: one per core)")
    ->capture_default_str();
  app.add_flag("--durable", opts.durable, "fsync every commit");
  app.add_option("--data", opts.data, "data directory (default: a fresh one under /tmp)");
  app.add_option("--flow", opts.flow_file, "flow file")->capture_default_str();
  app.add_option("--orders-file", opts.orders_file, "example orders")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  bool own_dir = opts.data.empty();
  if (own_dir) {
    char pattern[] = "/tmp/orca-bench-XXXXXX";
    if (::mkdtemp(pattern) == nullptr) {
      std::cerr << "error: cannot make a data directory\n";
      return 1;
    }
    opts.data = pattern;
  }
  auto baseline_rss = peak_rss();
  orca::engine_options eo;
  eo.data_dir = opts.data;
  eo.threads = opts.threads;
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

  auto start = clock_type::now();
  auto commits_before = engine.storage();
  for (std::size_t first = 0; first < n; first += opts.batch) {
    auto count = std::min(opts.batch, n - first);
    {
      std::unique_lock<std::mutex> guard{mutex};
      cv.wait(guard, [&] { return in_flight + count <= opts.window; });
      in_flight += count;
    }
    std::vector<std::string> batch;
    batch.reserve(count);
    auto now = clock_type::now();
    for (std::size_t i = first; i < first + count; ++i) {
      batch.push_back(make_order(tmpl, i));
      submitted[i] = now;
    }
    engine.submit_async(std::move(batch), [&engine, first, &mutex, &cv,
                                           &in_flight, &finished](
                                            std::vector<orca::submit_result> rs) {
      std::vector<std::pair<std::string, std::string>> events;
      std::size_t lost = 0;
      for (auto& r : rs) {
        if (r.status == orca::submit_status::accepted)
          events.emplace_back(std::move(r.order_id), "fulfillment_shipped");
        else
          ++lost;
      }
      if (lost > 0) {
        std::lock_guard<std::mutex> guard{mutex};
        finished += lost;
        in_flight -= lost;
        cv.notify_all();
      }
      engine.events_async(std::move(events), [](std::vector<caf::error>) {});
      (void) first;
    });
  }
  {
    std::unique_lock<std::mutex> guard{mutex};
    cv.wait(guard, [&] { return finished >= n; });
  }
  auto elapsed = std::chrono::duration<double>(clock_type::now() - start).count();
  auto commits = engine.storage();
  std::vector<double> sorted;
  sorted.reserve(n);
  for (auto l : latency_ms)
    if (l >= 0)
      sorted.push_back(l);
  std::sort(sorted.begin(), sorted.end());
  auto rss = peak_rss();

  fmt::print("orca-bench: {} orders through \"{}\" ({} mode, {} scheduler threads)\n",
             n, created->name, opts.durable ? "durable: fsync per commit" : "no fsync",
             opts.threads == 0 ? std::thread::hardware_concurrency()
                               : opts.threads);
  fmt::print("  throughput      {:>12.0f} orders/s   ({:.2f} s)\n", n / elapsed,
             elapsed);
  fmt::print("  commits         {:>12.0f} /s         ({} commits, {:.1f} writes each)\n",
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
  opened->reset();
  if (own_dir) {
    std::string cmd = "rm -rf '" + opts.data + "'";
    [[maybe_unused]] int rc = std::system(cmd.c_str());
  }
  return 0;
}
