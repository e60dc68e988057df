#pragma once

// A real HTTP/1.1 server on 127.0.0.1 for tests of HTTP clients such as the
// `http` provider adapter. It listens on a port the kernel chooses, serves
// from one thread of its own, answers each path the way the test said, and
// records every request it read. Every public member may be called from any
// thread; the destructor stops the server at once, abandoning answers that
// are still waiting out their delay.

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace orca::test {

/// What the server answers on one path.
struct http_answer {
  unsigned status = 200;
  std::string body = "{}";
  /// How long to wait, after reading the request, before answering.
  std::chrono::milliseconds delay{0};
  std::string content_type = "application/json";
  /// Say `Connection: close` and close the connection after this answer,
  /// whatever else the client wrote behind the request.
  bool close = false;
  /// Close the connection after this answer without saying so.
  bool hang_up = false;
};

/// One request as the server read it.
struct http_request_record {
  std::string method;
  std::string target;
  std::string body;
  /// Every header in the order received, names as sent.
  std::vector<std::pair<std::string, std::string>> headers;

  /// The value of header `name` (any case), "" if it was not sent.
  std::string header(std::string_view name) const {
    auto same = [name](const std::string& candidate) {
      return std::equal(candidate.begin(), candidate.end(), name.begin(),
                        name.end(), [](char a, char b) {
                          return std::tolower(static_cast<unsigned char>(a))
                            == std::tolower(static_cast<unsigned char>(b));
                        });
    };
    for (const auto& [key, value] : headers)
      if (same(key))
        return value;
    return {};
  }

  std::string idempotency_key() const {
    return header("Idempotency-Key");
  }
};

/// Decides the answer from the request, e.g. to echo part of it back.
using http_handler = std::function<http_answer(const http_request_record&)>;

namespace detail {

/// What the server's thread and the test's thread share.
class http_server_state {
public:
  void set(const std::string& path, http_handler handler) {
    std::lock_guard<std::mutex> guard{mutex_};
    handlers_[path] = std::move(handler);
  }

  /// Records `request` and returns the answer for its path (404 when the
  /// test set none, 500 when the test's handler throws).
  http_answer take(const http_request_record& request) {
    http_handler handler;
    {
      std::lock_guard<std::mutex> guard{mutex_};
      requests_.push_back(request);
      peak_ = std::max(peak_, ++in_flight_);
      auto path = request.target.substr(0, request.target.find('?'));
      auto i = handlers_.find(path);
      if (i == handlers_.end())
        return {404, "no answer set for " + path, {}, "text/plain"};
      handler = i->second;
    }
    // Outside the lock: a handler may look at the recorded requests.
    try {
      return handler(request);
    } catch (const std::exception& e) {
      return {
        500, std::string{"test handler threw: "} + e.what(), {}, "text/plain"};
    }
  }

  /// An answer is out (or could not be sent).
  void answered() {
    std::lock_guard<std::mutex> guard{mutex_};
    --in_flight_;
  }

  std::vector<http_request_record> requests() const {
    std::lock_guard<std::mutex> guard{mutex_};
    return requests_;
  }

  std::size_t peak() const {
    std::lock_guard<std::mutex> guard{mutex_};
    return peak_;
  }

private:
  mutable std::mutex mutex_;
  std::map<std::string, http_handler> handlers_;
  std::vector<http_request_record> requests_;
  std::size_t in_flight_ = 0;
  std::size_t peak_ = 0;
};

/// One connection: read a request, wait out the delay, answer, and go on
/// reading while the client keeps the connection alive. Kept alive by its
/// own pending operations; destroyed with the io_context when the server
/// stops.
class http_session : public std::enable_shared_from_this<http_session> {
public:
  http_session(boost::asio::ip::tcp::socket socket, http_server_state& state)
      : socket_(std::move(socket)), timer_(socket_.get_executor()),
        state_(state) {
  }

  void read() {
    request_ = {};
    boost::beast::http::async_read(
      socket_, buffer_, request_,
      [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
        self->on_read(ec);
      });
  }

private:
  void on_read(boost::system::error_code ec) {
    if (ec)
      return; // the client went away or sent garbage: drop the connection
    http_request_record record;
    record.method = std::string{request_.method_string()};
    record.target = std::string{request_.target()};
    record.body = request_.body();
    for (const auto& field : request_)
      record.headers.emplace_back(std::string{field.name_string()},
                                  std::string{field.value()});
    auto answer = state_.take(record);
    response_ = {};
    response_.version(request_.version());
    response_.result(answer.status);
    response_.set(boost::beast::http::field::content_type, answer.content_type);
    response_.keep_alive(request_.keep_alive() && !answer.close);
    hang_up_ = answer.hang_up;
    response_.body() = std::move(answer.body);
    response_.prepare_payload();
    if (answer.delay.count() <= 0) {
      write();
      return;
    }
    timer_.expires_after(answer.delay);
    timer_.async_wait([self = shared_from_this()](boost::system::error_code) {
      self->write();
    });
  }

  void write() {
    boost::beast::http::async_write(
      socket_, response_,
      [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
        self->state_.answered();
        if (!ec && self->response_.keep_alive() && !self->hang_up_)
          self->read();
        else
          self->close();
      });
  }

  void close() {
    boost::system::error_code ignored;
    socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
    socket_.close(ignored);
  }

  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer timer_;
  boost::beast::flat_buffer buffer_;
  boost::beast::http::request<boost::beast::http::string_body> request_;
  boost::beast::http::response<boost::beast::http::string_body> response_;
  bool hang_up_ = false;
  http_server_state& state_;
};

} // namespace detail

class http_server {
public:
  /// Listens on 127.0.0.1 on a free port and starts serving.
  http_server() : acceptor_(io_) {
    using boost::asio::ip::tcp;
    tcp::endpoint endpoint{boost::asio::ip::make_address("127.0.0.1"), 0};
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    accept();
    thread_ = std::thread{[this] { io_.run(); }};
  }

  ~http_server() {
    io_.stop();
    thread_.join();
  }

  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  uint16_t port() const {
    return port_;
  }

  /// "http://127.0.0.1:PORT" followed by `target`.
  std::string url(const std::string& target = "/") const {
    return "http://127.0.0.1:" + std::to_string(port_) + target;
  }

  /// Requests for `path` (the target without its query) get `answer`.
  void answer(const std::string& path, http_answer answer) {
    state_.set(path, [answer](const http_request_record&) { return answer; });
  }

  /// Requests for `path` get what `handler` returns; it runs on the server's
  /// thread.
  void answer_with(const std::string& path, http_handler handler) {
    state_.set(path, std::move(handler));
  }

  /// Every request read so far, in the order they were read.
  std::vector<http_request_record> requests() const {
    return state_.requests();
  }

  /// The most requests that were ever read but not yet answered at the same
  /// time: how many a client really ran in parallel.
  std::size_t peak_concurrency() const {
    return state_.peak();
  }

private:
  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec,
                                  boost::asio::ip::tcp::socket socket) {
      if (ec == boost::asio::error::operation_aborted)
        return;
      if (!ec)
        std::make_shared<detail::http_session>(std::move(socket), state_)
          ->read();
      accept();
    });
  }

  // Declared before io_ so that sessions, destroyed with io_, never outlive
  // the state they point to.
  detail::http_server_state state_;
  boost::asio::io_context io_{1};
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::thread thread_;
};

} // namespace orca::test
