// orca-bench --remote: orders acknowledged by a node over loopback.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <malloc.h>

#include <caf/io/all.hpp>

#include "engine/client.hpp"
#include "engine/engine.hpp"
#include "engine/node.hpp"
#include "engine/wire_guard.hpp"
#include "tools/orca_bench.hpp"

namespace orca::bench {

/// Submits the orders through the client library to a node published on
/// loopback, in batches with several in flight, and reports the rate at
/// which the node acknowledged them (each acknowledgement is durable).
int run_remote(const options& opts, const std::vector<std::string>& tmpl) {
  auto dir = opts.data.empty() ? make_temp_dir("orca-bench-remote") : opts.data;
  auto eo = engine_options_for(opts, dir);
  eo.configure = [](caf::actor_system_config& cfg) {
    orca::speak_node_protocol(cfg);
    cfg.set("logger.verbosity", caf::atom("quiet"));
  };
  auto engine = open_with_flow(opts, std::move(eo));
  auto node = orca::spawn_node(*engine, {"127.0.0.1", dir, 0});
  auto port = engine->system().middleman().publish(node, 0, "127.0.0.1", true);
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
  engine->system().middleman().unpublish(node, *port);
  caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
  node = nullptr;
  engine.reset();
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

} // namespace orca::bench
