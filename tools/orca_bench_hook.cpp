// orca-bench --hook: a receiver on 127.0.0.1 for the deliveries of a hook
// on every journey_ended, so that the benchmark counts what hooks cost.

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

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
  std::mutex mutex;
  std::vector<std::thread> connections;
  std::vector<std::shared_ptr<net::ip::tcp::socket>> sockets;

  /// Accepts connections, each served by a thread of its own: hook senders
  /// keep theirs open between deliveries.
  void serve() {
    while (!stopping) {
      beast::error_code ec;
      auto socket = std::make_shared<net::ip::tcp::socket>(io);
      acceptor.accept(*socket, ec);
      if (ec || stopping)
        continue;
      std::lock_guard<std::mutex> guard{mutex};
      sockets.push_back(socket);
      connections.emplace_back([this, socket] { answer(*socket); });
    }
  }

  /// Reads requests until the peer closes, answering each with 200.
  void answer(net::ip::tcp::socket& socket) {
    beast::flat_buffer buffer;
    for (;;) {
      beast::error_code ec;
      http::request<http::string_body> req;
      http::read(socket, buffer, req, ec);
      if (ec)
        return;
      http::response<http::empty_body> res{http::status::ok, 11};
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      http::write(socket, res, ec);
      if (ec)
        return;
      ++received;
      if (!req.keep_alive())
        return;
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
  std::lock_guard<std::mutex> guard{impl_->mutex};
  for (auto& s : impl_->sockets)
    s->shutdown(net::ip::tcp::socket::shutdown_both, ec);
  for (auto& t : impl_->connections)
    t.join();
}

std::string hook_receiver::url() const {
  return "http://127.0.0.1:"
    + std::to_string(impl_->acceptor.local_endpoint().port()) + "/hook";
}

std::size_t hook_receiver::received() const {
  return impl_->received;
}

} // namespace orca::bench
