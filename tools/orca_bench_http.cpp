// orca-bench --http: orders acknowledged by the HTTP API over loopback.

#include <atomic>
#include <chrono>
#include <iostream>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include "engine/engine.hpp"
#include "engine/http_server.hpp"
#include "tools/orca_bench.hpp"

namespace orca::bench {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

} // namespace

/// Posts the orders as JSON Lines batches of `opts.batch`, from
/// `opts.window / opts.batch` keep-alive connections at once, to the HTTP
/// API of an engine on loopback, and reports the rate at which the node
/// acknowledged them (each answer comes once its orders are durable).
int run_http(const options& opts, const std::vector<std::string>& tmpl) {
  auto dir = opts.data.empty() ? make_temp_dir("orca-bench-http") : opts.data;
  auto engine = open_with_flow(opts, engine_options_for(opts, dir));
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
  const std::size_t batch = std::max<std::size_t>(1, opts.batch);
  const std::size_t connections =
    std::max<std::size_t>(1, std::min<std::size_t>(64, opts.window / batch));
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> accepted{0};
  std::atomic<std::size_t> busy{0};
  std::atomic<std::size_t> other{0};
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
        std::string body;
        for (auto i = first; i < last; ++i) {
          body += make_order(tmpl, i);
          body += '\n';
        }
        // Offered again while the node answers busy (back-pressure).
        for (;;) {
          http::request<http::string_body> req{http::verb::post, "/v1/orders",
                                               11};
          req.set(http::field::host, "127.0.0.1");
          req.set(http::field::content_type, "application/x-ndjson");
          req.keep_alive(true);
          req.body() = body;
          req.prepare_payload();
          http::write(stream, req);
          http::response<http::string_body> res;
          http::read(stream, buffer, res);
          if (res.result_int() == 503) {
            busy += last - first;
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
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
  fmt::print("orca-bench --http: {} orders in batches of {} over {} "
             "keep-alive connections{}\n",
             n, batch, connections, opts.durable ? " (fsync per commit)" : "");
  fmt::print("  acknowledged {:>10.0f} orders/s  ({} accepted, {} other, in "
             "{:.2f} s)\n",
             accepted / elapsed, accepted.load(), other.load(), elapsed);
  fmt::print("  busy answers {:>10}           (orders offered again)\n",
             busy.load());
  return 0;
}

} // namespace orca::bench
