// orca-bench --http: orders acknowledged by the HTTP API over loopback.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <mutex>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include "engine/busy_pace.hpp"
#include "engine/engine.hpp"
#include "engine/http_server.hpp"
#include "tools/orca_bench.hpp"

namespace orca::bench {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

/// One request of the benchmark: where it goes, what it carries, and how
/// many orders are in it.
struct posting {
  std::string target;
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::size_t orders = 0;
};

/// The request for orders [first, last).
using make_posting = std::function<posting(std::size_t, std::size_t)>;

/// JSON Lines batches of copies of the example orders for POST /v1/orders.
make_posting order_batches(const std::vector<std::string>& tmpl) {
  return [&tmpl](std::size_t first, std::size_t last) {
    posting p{"/v1/orders", "application/x-ndjson", {}, {}, last - first};
    for (auto i = first; i < last; ++i) {
      p.body += make_order(tmpl, i);
      p.body += '\n';
    }
    return p;
  };
}

/// One webhook a request: the example payload of `name` with its top-level
/// id (its first "id") made unique, signed as the source's config says.
make_posting webhooks(const std::string& name, const source_config& source,
                      const std::string& payload_file) {
  auto payload = read_file(payload_file);
  auto key = payload.find("\"id\":");
  if (key == std::string::npos)
    throw std::runtime_error(payload_file + ": no \"id\" to vary");
  auto digits = payload.find_first_of("0123456789", key);
  auto end = payload.find_first_not_of("0123456789", digits);
  if (digits == std::string::npos || end == std::string::npos)
    throw std::runtime_error(payload_file
                             + ": the first \"id\" is not a "
                               "number");
  return [before = payload.substr(0, digits), after = payload.substr(end),
          target = "/v1/intake/" + name,
          signature = source.signature](std::size_t first, std::size_t) {
    posting p{target, "application/json", {}, {}, 1};
    p.body = before + std::to_string(1000000000 + first) + after;
    if (signature)
      p.headers.emplace_back(signature->header,
                             sign_payload(*signature, p.body));
    return p;
  };
}

} // namespace

/// Posts the orders as JSON Lines batches of `opts.batch`, from
/// `opts.window / opts.batch` keep-alive connections at once, to the HTTP
/// API of an engine on loopback, and reports the rate at which the node
/// acknowledged them (each answer comes once its orders are durable).
/// With `opts.intake`, each request is instead one webhook of that example
/// source (flows/examples/sources), from `opts.window` connections.
int run_http(const options& opts, const std::vector<std::string>& tmpl) {
  auto dir = opts.data.empty() ? make_temp_dir("orca-bench-http") : opts.data;
  auto eo = engine_options_for(opts, dir);
  make_posting make = order_batches(tmpl);
  std::size_t batch = std::max<std::size_t>(1, opts.batch);
  if (!opts.intake.empty()) {
    // The example sources' secrets, unless the caller set their own.
    ::setenv("SHOPIFY_SECRET", "orca-bench-shopify", 0);
    ::setenv("WOOCOMMERCE_SECRET", "orca-bench-woocommerce", 0);
    auto sources_dir = std::string{ORCA_SOURCE_DIR} + "/flows/examples/sources";
    auto file = sources_dir + "/node.json";
    auto config = node_config::parse(read_file(file), file);
    if (!config)
      throw std::runtime_error(describe(config.error()));
    auto found = config->sources.find(opts.intake);
    if (found == config->sources.end())
      throw std::runtime_error(file + " has no source " + quote(opts.intake));
    make = webhooks(opts.intake, found->second,
                    sources_dir + "/" + opts.intake + "-order.json");
    eo.config.sources = config->sources;
    batch = 1;
  }
  auto engine = open_with_flow(opts, std::move(eo));
  orca::http_api api{*engine, {}};
  orca::http_server::options so;
  so.port = 0;
  auto server = orca::http_server::start(api, so, [](const std::string& text) {
    std::cerr << "warning: " << text << "\n";
  });
  if (!server)
    throw std::runtime_error(orca::describe(server.error()));
  auto port = (*server)->port();

  const std::size_t n = opts.orders;
  const std::size_t connections =
    std::max<std::size_t>(1, std::min<std::size_t>(64, opts.window / batch));
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> accepted{0};
  std::atomic<std::size_t> busy{0};
  std::atomic<std::size_t> other{0};
  // The connections share one pace (busy_pace.hpp): how many may have a
  // post on its way, and the pause after a refusal.
  std::mutex pace_mutex;
  std::condition_variable pace_changed;
  orca::busy_pace pace{connections};
  std::size_t posting = 0;
  auto start = clock_type::now();
  std::vector<std::thread> clients;
  for (std::size_t c = 0; c < connections; ++c)
    clients.emplace_back([&] {
      net::io_context io;
      beast::tcp_stream stream{io};
      stream.connect(
        net::ip::tcp::endpoint{net::ip::make_address("127.0.0.1"), port});
      beast::flat_buffer buffer;
      for (;;) {
        auto first = next.fetch_add(batch);
        if (first >= n)
          break;
        auto last = std::min(n, first + batch);
        auto post = make(first, last);
        // Offered again while the node answers busy (back-pressure).
        for (;;) {
          http::request<http::string_body> req{http::verb::post, post.target,
                                               11};
          req.set(http::field::host, "127.0.0.1");
          req.set(http::field::content_type, post.content_type);
          for (const auto& [name, value] : post.headers)
            req.set(name, value);
          req.keep_alive(true);
          req.body() = post.body;
          req.prepare_payload();
          {
            std::unique_lock<std::mutex> guard{pace_mutex};
            pace_changed.wait(guard, [&] { return posting < pace.allowed(); });
            ++posting;
          }
          http::write(stream, req);
          http::response<http::string_body> res;
          http::read(stream, buffer, res);
          bool refused = res.result_int() == 503;
          std::chrono::milliseconds wait{0};
          {
            std::lock_guard<std::mutex> guard{pace_mutex};
            --posting;
            if (refused)
              wait = pace.refused(posting == 0);
            else
              pace.taken();
          }
          pace_changed.notify_all();
          if (refused) {
            busy += last - first;
            std::this_thread::sleep_for(wait);
            continue;
          }
          // One answer line per order.
          std::size_t ok = 0;
          for (std::size_t at = 0;
               (at = res.body().find("\"accepted\"", at)) != std::string::npos;
               ++at)
            ++ok;
          accepted += ok;
          other += (last - first) - ok;
          break;
        }
      }
      beast::error_code ignored;
      stream.socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
    });
  for (auto& t : clients)
    t.join();
  auto elapsed =
    std::chrono::duration<double>(clock_type::now() - start).count();
  (*server)->stop();
  engine.reset();
  if (opts.data.empty())
    remove_dir(dir);
  if (opts.intake.empty())
    fmt::print("orca-bench --http: {} orders in batches of {} over {} "
               "keep-alive connections{}\n",
               n, batch, connections,
               opts.durable ? " (fsync per commit)" : "");
  else
    fmt::print("orca-bench --intake {}: {} signed webhooks, one a request, "
               "over {} keep-alive connections{}\n",
               opts.intake, n, connections,
               opts.durable ? " (fsync per commit)" : "");
  fmt::print("  acknowledged {:>10.0f} orders/s  ({} accepted, {} other, in "
             "{:.2f} s)\n",
             accepted / elapsed, accepted.load(), other.load(), elapsed);
  fmt::print("  busy answers {:>10}           (orders offered again)\n",
             busy.load());
  return 0;
}

} // namespace orca::bench
