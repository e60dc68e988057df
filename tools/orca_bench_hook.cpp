// orca-bench --hook: a receiver on 127.0.0.1 for the deliveries of a hook
// on every journey_ended, so that the benchmark counts what hooks cost.

#include <atomic>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "tools/orca_bench.hpp"

namespace orca::bench {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

} // namespace

struct hook_receiver::impl {
  net::io_context io;
  net::ip::tcp::acceptor acceptor{io, {net::ip::make_address("127.0.0.1"), 0}};
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> received{0};
  std::thread thread;

  /// One connection at a time, each carrying one delivery (hooks do not
  /// keep connections): read it, answer 200, close.
  void serve() {
    while (!stopping) {
      beast::error_code ec;
      net::ip::tcp::socket socket{io};
      acceptor.accept(socket, ec);
      if (ec || stopping)
        continue;
      beast::flat_buffer buffer;
      http::request<http::string_body> req;
      http::read(socket, buffer, req, ec);
      if (ec)
        continue;
      http::response<http::empty_body> res{http::status::ok, 11};
      res.keep_alive(false);
      res.prepare_payload();
      http::write(socket, res, ec);
      if (!ec)
        ++received;
      socket.shutdown(net::ip::tcp::socket::shutdown_both, ec);
    }
  }
};

hook_receiver::hook_receiver() : impl_(std::make_unique<impl>()) {
  impl_->thread = std::thread{[this] { impl_->serve(); }};
}

hook_receiver::~hook_receiver() {
  impl_->stopping = true;
  // A connection of our own wakes the blocking accept.
  beast::error_code ec;
  net::ip::tcp::socket wake{impl_->io};
  wake.connect(impl_->acceptor.local_endpoint(), ec);
  impl_->thread.join();
}

std::string hook_receiver::url() const {
  return "http://127.0.0.1:"
    + std::to_string(impl_->acceptor.local_endpoint().port()) + "/hook";
}

std::size_t hook_receiver::received() const {
  return impl_->received;
}

} // namespace orca::bench
