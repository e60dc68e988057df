#pragma once

// What orca-bench's modes share: the options, temporary directories, memory
// readings and the example orders. The modes live by file:
// orca_bench.cpp (orders through one engine, the default, and the LMDB
// ceiling), orca_bench_remote.cpp (--remote), orca_bench_waiting.cpp
// (--waiting), orca_bench_stop.cpp (--stop), orca_bench_list.cpp (--list) and
// orca_bench_http.cpp (--http).

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.hpp"

namespace orca::bench {

using clock_type = std::chrono::steady_clock;

struct options {
  bool remote = false;
  bool http = false;
  /// A hook on every journey_ended, to a receiver of the benchmark's own.
  bool hook = false;
  /// --intake SOURCE: webhooks of an example source over HTTP.
  std::string intake;
  std::size_t waiting = 0;
  std::size_t orders = 100000;
  std::size_t batch = 256;
  std::size_t window = 8192;
  /// Open loop: orders offered at this many per second whatever the engine
  /// does (0: closed loop, at most `window` in flight).
  double rate = 0;
  /// --stop: orders in flight when the engine is stopped (0: not this mode).
  std::size_t stop = 0;
  /// --list: journeys in the store when listings are timed (0: not this
  /// mode).
  std::size_t list = 0;
  std::size_t threads = 0;
  orca::engine_options::scheduling scheduler =
    orca::engine_options::scheduling::stealing;
  bool durable = false;
  std::string data;
  std::string flow_file;
  std::string orders_file;
};

/// The text of `path`; throws, after saying why, if it cannot be read.
std::string read_file(const std::string& path);

/// A field of /proc/self/status in bytes ("VmHWM", "VmRSS", "RssAnon").
std::size_t status_bytes(const std::string& field);

/// Gives the allocator's free memory back to the system, so that a reading
/// of resident memory counts what is held: tcmalloc's free pages where it
/// is the allocator, else glibc's malloc_trim.
void release_free_heap();

/// The process's peak resident memory so far, in bytes.
std::size_t peak_rss();

/// A fresh directory under /tmp named after `stem`.
std::string make_temp_dir(const char* stem);

void remove_dir(const std::string& dir);

/// The example orders of `path`, with their ids replaced by a marker.
std::vector<std::string> templates(const std::string& path);

/// Order `i`: a copy of one template with the id "B-<i>".
std::string make_order(const std::vector<std::string>& tmpl, std::size_t i);

/// How every mode opens its engine on `dir`: the threads, scheduler and
/// fsync the options say, and the simulated providers with `notify`.
engine_options engine_options_for(const options& opts, const std::string& dir);

/// An engine opened with `eo` with the flow of `opts.flow_file` created
/// and published; throws, saying why, if that fails.
std::unique_ptr<Engine> open_with_flow(const options& opts, engine_options eo);

/// An HTTP receiver on 127.0.0.1 that answers every POST with 200 and
/// counts them: where --hook deliveries go.
class hook_receiver {
public:
  hook_receiver();
  ~hook_receiver();
  hook_receiver(const hook_receiver&) = delete;
  hook_receiver& operator=(const hook_receiver&) = delete;
  std::string url() const;
  std::size_t received() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// The `p` quantile (0..1) of `sorted`.
double percentile(std::vector<double>& sorted, double p);

/// --waiting: parks journeys waiting for an event and reports their memory
/// and the time a restart takes to have them wait again.
int run_waiting(const options& opts);

/// --stop: stops the engine with `opts.stop` orders in flight, and reports
/// how long that took and whether every accepted order is in the store.
int run_stop(const options& opts, const std::vector<std::string>& tmpl);

/// --list: fills the store with `opts.list` ended journeys and reports how
/// long listings by flow and state take.
int run_list(const options& opts, const std::vector<std::string>& tmpl);

/// --http: posts JSON Lines batches to the HTTP API over loopback and
/// reports the acknowledged rate.
int run_http(const options& opts, const std::vector<std::string>& tmpl);

/// --remote: submits over loopback through the client library and reports
/// the acknowledged rate.
int run_remote(const options& opts, const std::vector<std::string>& tmpl);

} // namespace orca::bench
