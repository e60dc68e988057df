#include "engine/wire_guard.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <future>
#include <vector>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "flows/errc.hpp"

namespace orca {

namespace net = boost::asio;
using tcp = net::ip::tcp;

bool wire_framing::feed(const char* data, std::size_t n) {
  if (too_large_ > 0)
    return false;
  constexpr std::size_t length_at = 4;
  std::size_t at = 0;
  while (at < n) {
    if (payload_left_ > 0) {
      auto take = std::min<uint64_t>(payload_left_, n - at);
      payload_left_ -= take;
      at += static_cast<std::size_t>(take);
      continue;
    }
    header_[header_have_++] = static_cast<unsigned char>(data[at++]);
    if (header_have_ < header_bytes)
      continue;
    header_have_ = 0;
    uint64_t length = 0;
    for (std::size_t i = 0; i < 4; ++i)
      length = (length << 8) | header_[length_at + i];
    if (length + header_bytes > max_bytes_) {
      too_large_ = length + header_bytes;
      return false;
    }
    payload_left_ = length;
  }
  return true;
}

namespace {

/// One client's connection and its twin to CAF. Lives as long as a pending
/// operation holds it.
class relay : public std::enable_shared_from_this<relay> {
public:
  relay(tcp::socket client, net::io_context& io, std::size_t max_bytes,
        std::function<void(const std::string&)> warn,
        std::shared_ptr<std::atomic<int>> live)
    : client_(std::move(client)), upstream_(io), max_bytes_(max_bytes),
      warn_(std::move(warn)), live_(std::move(live)) {
    ++*live_;
  }

  ~relay() {
    --*live_;
  }

  void start(const tcp::endpoint& target) {
    auto self = shared_from_this();
    upstream_.async_connect(target, [self](const boost::system::error_code& ec) {
      if (ec)
        return self->close();
      self->read_client();
      self->read_upstream();
    });
  }

  void close() {
    boost::system::error_code ignored;
    client_.close(ignored);
    upstream_.close(ignored);
  }

private:
  void read_client() {
    auto self = shared_from_this();
    client_.async_read_some(
      net::buffer(from_client_),
      [self](const boost::system::error_code& ec, std::size_t n) {
        if (ec)
          return self->close();
        if (!self->check(n))
          return self->close();
        net::async_write(self->upstream_, net::buffer(self->from_client_, n),
                         [self](const boost::system::error_code& wec,
                                std::size_t) {
                           if (wec)
                             return self->close();
                           self->read_client();
                         });
      });
  }

  void read_upstream() {
    auto self = shared_from_this();
    upstream_.async_read_some(
      net::buffer(from_upstream_),
      [self](const boost::system::error_code& ec, std::size_t n) {
        if (ec)
          return self->close();
        net::async_write(self->client_, net::buffer(self->from_upstream_, n),
                         [self](const boost::system::error_code& wec,
                                std::size_t) {
                           if (wec)
                             return self->close();
                           self->read_upstream();
                         });
      });
  }

  /// Follows the framing through `n` new bytes from the client; false if a
  /// message is over the limit (and says so).
  bool check(std::size_t n) {
    if (framing_.feed(from_client_.data(), n))
      return true;
    boost::system::error_code ec;
    auto peer = client_.remote_endpoint(ec);
    warn_("a client"
          + (ec ? std::string{}
                : " at " + peer.address().to_string() + ":"
                    + std::to_string(peer.port()))
          + " sent a message of " + std::to_string(framing_.too_large())
          + " bytes, over the limit of " + std::to_string(max_bytes_)
          + " bytes (wire_bytes): it is cut off");
    return false;
  }

  tcp::socket client_;
  tcp::socket upstream_;
  std::size_t max_bytes_;
  std::function<void(const std::string&)> warn_;
  std::shared_ptr<std::atomic<int>> live_;
  std::array<char, 65536> from_client_;
  std::array<char, 65536> from_upstream_;
  wire_framing framing_{max_bytes_};
};

} // namespace

struct wire_guard::impl {
  net::io_context io{1};
  tcp::acceptor acceptor{io};
  tcp::endpoint target;
  std::size_t max_bytes = 0;
  std::function<void(const std::string&)> warn;
  std::vector<std::weak_ptr<relay>> relays;
  std::shared_ptr<std::atomic<int>> live = std::make_shared<std::atomic<int>>(0);
  std::thread thread;

  void accept() {
    acceptor.async_accept([this](const boost::system::error_code& ec,
                                 tcp::socket client) {
      if (ec) {
        if (ec == net::error::operation_aborted || !acceptor.is_open())
          return;
        accept();
        return;
      }
      auto r = std::make_shared<relay>(std::move(client), io, max_bytes, warn,
                                       live);
      r->start(target);
      // Forget relays that ended, now and then.
      if (relays.size() > 64)
        relays.erase(std::remove_if(relays.begin(), relays.end(),
                                    [](const auto& w) { return w.expired(); }),
                     relays.end());
      relays.push_back(r);
      accept();
    });
  }
};

wire_guard::wire_guard(std::unique_ptr<impl> state) : impl_(std::move(state)) {
}

caf::expected<std::unique_ptr<wire_guard>>
wire_guard::start(const std::string& host, uint16_t port, uint16_t target_port,
                  std::size_t max_message_bytes,
                  std::function<void(const std::string&)> warn) {
  auto im = std::make_unique<impl>();
  im->max_bytes = max_message_bytes;
  im->warn = std::move(warn);
  im->target = tcp::endpoint{net::ip::make_address("127.0.0.1"), target_port};
  boost::system::error_code ec;
  tcp::resolver resolver{im->io};
  auto found = resolver.resolve(host, std::to_string(port), ec);
  if (ec || found.empty())
    return make_error(errc::invalid_argument,
                      "cannot resolve " + host + ": " + ec.message());
  auto endpoint = found.begin()->endpoint();
  im->acceptor.open(endpoint.protocol(), ec);
  if (!ec)
    im->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec)
    im->acceptor.bind(endpoint, ec);
  if (!ec)
    im->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    return make_error(errc::node_unreachable, "cannot listen on " + host + ":"
                                                + std::to_string(port) + ": "
                                                + ec.message());
  im->accept();
  auto* raw = im.get();
  im->thread = std::thread{[raw] { raw->io.run(); }};
  return std::unique_ptr<wire_guard>{new wire_guard(std::move(im))};
}

wire_guard::~wire_guard() {
  auto* im = impl_.get();
  net::post(im->io, [im] {
    boost::system::error_code ignored;
    im->acceptor.close(ignored);
    for (auto& w : im->relays)
      if (auto r = w.lock())
        r->close();
  });
  // Closed sockets end their operations; then run() returns.
  im->io.stop();
  if (im->thread.joinable())
    im->thread.join();
}

uint16_t wire_guard::port() const {
  boost::system::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void wire_guard::wait_closed(std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (impl_->live->load() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

void wire_guard::stop_accepting() {
  auto* im = impl_.get();
  std::promise<void> done;
  net::post(im->io, [im, &done] {
    boost::system::error_code ignored;
    im->acceptor.close(ignored);
    done.set_value();
  });
  done.get_future().wait();
}

} // namespace orca
