#include "engine/http_server.hpp"

#include <pthread.h>

#include <mutex>
#include <set>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "engine/views_json.hpp"

namespace orca {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

/// What the server does with a connection: close it (on stop).
struct connection {
  virtual ~connection() = default;
  virtual void close() = 0;
};

} // namespace

struct http_server::impl {
  http_api* api = nullptr;
  /// The API's engine, which outlives the server and its sessions.
  Engine* engine = nullptr;
  options opts;
  std::function<void(const std::string&)> warn;
  net::io_context io{1};
  std::optional<net::ssl::context> tls;
  tcp::acceptor acceptor{io};
  uint16_t port = 0;
  std::thread thread;
  std::mutex mutex;
  std::set<std::weak_ptr<connection>,
           std::owner_less<std::weak_ptr<connection>>>
    connections;
  bool stopped = false;

  void accept();
  template <class Stream>
  void serve(Stream stream);
  void forget(const std::weak_ptr<connection>& c) {
    std::lock_guard<std::mutex> guard{mutex};
    connections.erase(c);
  }
};

namespace {

/// One connection: requests read one at a time and answered in order;
/// GET /v1/stream turns it into a stream of events.
template <class Stream>
class session : public connection,
                public std::enable_shared_from_this<session<Stream>> {
public:
  session(http_server::impl& server, Stream stream)
      : server_(server), stream_(std::move(stream)),
        timer_(stream_.get_executor()) {
  }

  void start() {
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      read();
    } else {
      beast::get_lowest_layer(stream_).expires_after(server_.opts.idle_timeout);
      stream_.async_handshake(
        net::ssl::stream_base::server,
        [self = this->shared_from_this()](beast::error_code ec) {
          if (ec)
            self->shut();
          else
            self->read();
        });
    }
  }

  void close() override {
    net::post(stream_.get_executor(),
              [self = this->shared_from_this()] { self->shut(); });
  }

  ~session() override {
    if (subscription_ != 0)
      server_.engine->unsubscribe(subscription_);
  }

private:
  using request_parser = http::request_parser<http::string_body>;

  void read() {
    parser_.emplace();
    parser_->body_limit(server_.opts.body_limit);
    beast::get_lowest_layer(stream_).expires_after(server_.opts.idle_timeout);
    http::async_read(
      stream_, buffer_, *parser_,
      [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
        self->on_read(ec);
      });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout
        || ec == net::error::operation_aborted || ec == net::error::eof
        || ec == net::error::connection_reset) {
      shut();
      return;
    }
    if (ec == http::error::body_limit) {
      refuse(413,
             "the request body is over "
               + std::to_string(server_.opts.body_limit)
               + " bytes (wire_bytes)");
      return;
    }
    if (ec) {
      refuse(400, "not an HTTP/1.1 request: " + ec.message());
      return;
    }
    beast::get_lowest_layer(stream_).expires_never();
    auto msg = parser_->release();
    keep_alive_ = msg.keep_alive();
    http_request req;
    req.method = std::string{msg.method_string()};
    req.target = std::string{msg.target()};
    req.content_type = std::string{msg[http::field::content_type]};
    req.authorization = std::string{msg[http::field::authorization]};
    for (const auto& field : msg)
      req.headers.emplace_back(std::string{field.name_string()},
                               std::string{field.value()});
    req.body = std::move(msg.body());
    auto path = std::string_view{req.target}.substr(0, req.target.find('?'));
    if (req.method == "GET" && path == "/v1/stream") {
      open_stream(req);
      return;
    }
    // The session lives until its answer is written.
    auto executor = stream_.get_executor();
    server_.api->handle(
      std::move(req),
      [self = this->shared_from_this(), executor](http_response r) mutable {
        net::post(executor,
                  [self = std::move(self), r = std::move(r)]() mutable {
                    self->respond(std::move(r));
                  });
      });
  }

  /// Answers a request that could not be read, then closes.
  void refuse(unsigned status, const std::string& why) {
    keep_alive_ = false;
    respond(http_error(status, why));
  }

  void respond(http_response r) {
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(11);
    res->result(r.status);
    res->set(http::field::server, "orcad");
    res->set(http::field::content_type, r.content_type);
    for (const auto& [name, value] : r.headers)
      res->set(name, value);
    res->keep_alive(keep_alive_);
    res->body() = std::move(r.body);
    res->prepare_payload();
    http::async_write(stream_, *res,
                      [self = this->shared_from_this(),
                       res](beast::error_code ec, std::size_t) {
                        if (ec || !self->keep_alive_)
                          self->shut();
                        else
                          self->read();
                      });
  }

  // -- the stream -------------------------------------------------------------

  void open_stream(const http_request& req) {
    auto [filter, refusal] = server_.api->open_stream(req);
    if (!filter) {
      keep_alive_ = false;
      respond(std::move(refusal));
      return;
    }
    if (!server_.api->ready()) {
      keep_alive_ = false;
      respond(http_error(503, "the node is stopping"));
      return;
    }
    streaming_ = true;
    // The body ends when the connection does.
    pending_ = "HTTP/1.1 200 OK\r\nServer: orcad\r\n"
               "Content-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
               "Connection: close\r\n\r\n: orca journey stream\n\n";
    std::weak_ptr<session> weak = this->shared_from_this();
    auto executor = stream_.get_executor();
    auto flow = filter->flow;
    subscription_ = server_.engine->subscribe(
      [weak, executor, flow](const journey_record& r) {
        if (flow && r.flow != *flow)
          return;
        auto event = "event: journey\ndata: " + journey_json(r) + "\n\n";
        net::post(executor, [weak, event = std::move(event)]() mutable {
          if (auto self = weak.lock())
            self->send(std::move(event));
        });
      },
      filter->terminal_only);
    write_pending();
    keep_alive_tick();
    // Reading tells when the client goes; what it sends is ignored.
    watch_for_close();
  }

  void send(std::string event) {
    if (closed_)
      return;
    if (pending_.size() + writing_.size() + event.size()
        > server_.opts.stream_buffer) {
      server_.warn("a stream client fell " + std::to_string(pending_.size())
                   + " bytes behind: cut off");
      // Reset, not closed: what its socket still holds is dropped, not
      // trickled out to a client that does not read.
      beast::error_code ignored;
      beast::get_lowest_layer(stream_).socket().set_option(
        net::socket_base::linger(true, 0), ignored);
      shut();
      return;
    }
    pending_ += event;
    write_pending();
  }

  void write_pending() {
    if (!writing_.empty() || pending_.empty() || closed_)
      return;
    writing_.swap(pending_);
    net::async_write(
      stream_, net::buffer(writing_),
      [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
        self->writing_.clear();
        if (ec) {
          self->shut();
          return;
        }
        self->write_pending();
      });
  }

  void keep_alive_tick() {
    timer_.expires_after(server_.opts.keep_alive);
    timer_.async_wait([weak = std::weak_ptr<session>(this->shared_from_this())](
                        beast::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || self->closed_)
        return;
      self->send(": keep-alive\n\n");
      self->keep_alive_tick();
    });
  }

  void watch_for_close() {
    stream_.async_read_some(
      net::buffer(scratch_),
      [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
        if (ec)
          self->shut();
        else
          self->watch_for_close();
      });
  }

  void shut() {
    if (closed_)
      return;
    closed_ = true;
    timer_.cancel();
    beast::error_code ignored;
    auto& socket = beast::get_lowest_layer(stream_).socket();
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
    if (subscription_ != 0) {
      server_.engine->unsubscribe(subscription_);
      subscription_ = 0;
    }
    server_.forget(this->weak_from_this());
  }

  http_server::impl& server_;
  Stream stream_;
  net::steady_timer timer_;
  beast::flat_buffer buffer_;
  std::optional<request_parser> parser_;
  bool keep_alive_ = true;
  bool streaming_ = false;
  bool closed_ = false;
  uint64_t subscription_ = 0;
  std::string pending_;
  std::string writing_;
  char scratch_[512];
};

} // namespace

template <class Stream>
void http_server::impl::serve(Stream stream) {
  auto s = std::make_shared<session<Stream>>(*this, std::move(stream));
  {
    std::lock_guard<std::mutex> guard{mutex};
    if (stopped)
      return;
    connections.insert(s);
  }
  s->start();
}

void http_server::impl::accept() {
  acceptor.async_accept(
    net::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted)
        return;
      if (!ec) {
        beast::tcp_stream stream{std::move(socket)};
        if (tls)
          serve(beast::ssl_stream<beast::tcp_stream>{std::move(stream), *tls});
        else
          serve(std::move(stream));
      } else {
        warn("http: cannot accept a connection: " + ec.message());
      }
      accept();
    });
}

caf::expected<std::unique_ptr<http_server>>
http_server::start(http_api& api, options opts,
                   std::function<void(const std::string&)> warn) {
  auto state = std::make_unique<impl>();
  state->api = &api;
  state->engine = &api.engine();
  state->warn = warn ? std::move(warn) : [](const std::string&) {};
  auto where = opts.host + ":" + std::to_string(opts.port);
  auto failed = [&](const std::string& why) {
    return make_error(errc::invalid_argument, "--http " + where + ": " + why);
  };
  if (!opts.tls_cert.empty()) {
    state->tls.emplace(net::ssl::context::tls_server);
    beast::error_code ec;
    state->tls->set_options(
      net::ssl::context::default_workarounds | net::ssl::context::no_sslv2
        | net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1
        | net::ssl::context::no_tlsv1_1,
      ec);
    state->tls->use_certificate_chain_file(opts.tls_cert, ec);
    if (ec)
      return failed(opts.tls_cert + ": " + ec.message());
    state->tls->use_private_key_file(opts.tls_key, net::ssl::context::pem, ec);
    if (ec)
      return failed(opts.tls_key + ": " + ec.message());
  }
  beast::error_code ec;
  auto address = net::ip::make_address(opts.host, ec);
  if (ec)
    return failed("not an IP address");
  tcp::endpoint endpoint{address, opts.port};
  state->acceptor.open(endpoint.protocol(), ec);
  if (!ec)
    state->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec)
    state->acceptor.bind(endpoint, ec);
  if (!ec)
    state->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    return failed(ec.message());
  state->port = state->acceptor.local_endpoint().port();
  state->opts = std::move(opts);
  state->accept();
  auto* raw = state.get();
  state->thread = std::thread{[raw] {
    pthread_setname_np(pthread_self(), "orca.http");
    raw->io.run();
  }};
  return std::unique_ptr<http_server>{new http_server(std::move(state))};
}

http_server::http_server(std::unique_ptr<impl> state)
    : impl_(std::move(state)) {
}

http_server::~http_server() {
  stop();
}

uint16_t http_server::port() const {
  return impl_->port;
}

void http_server::stop() {
  if (!impl_->thread.joinable())
    return;
  std::vector<std::shared_ptr<connection>> open;
  {
    std::lock_guard<std::mutex> guard{impl_->mutex};
    impl_->stopped = true;
    for (const auto& weak : impl_->connections)
      if (auto c = weak.lock())
        open.push_back(std::move(c));
    impl_->connections.clear();
  }
  net::post(impl_->io, [this] {
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
  });
  // Each connection closes on its own strand (streams unsubscribe); the
  // loop ends after those closes, which were queued first.
  for (auto& c : open)
    c->close();
  open.clear();
  net::post(impl_->io, [io = &impl_->io] { io->stop(); });
  impl_->thread.join();
}

} // namespace orca
