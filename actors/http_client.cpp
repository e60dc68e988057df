#include "actors/http_client.hpp"

#include <chrono>
#include <cstdlib>
#include <exception>
#include <memory>
#include <optional>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "flows/json.hpp"

namespace orca {

namespace {

using header_list = std::vector<std::pair<std::string, std::string>>;

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using steady_clock = std::chrono::steady_clock;
using error_code = boost::system::error_code;
using tls_stream = beast::ssl_stream<beast::tcp_stream>;
using tls_context = std::shared_ptr<net::ssl::context>;

/// What is kept of an answer whose status alone counts.
constexpr std::size_t status_only_body_bytes = 64 * 1024;

/// A connection's stream and the io_context that drives it, used by one
/// thread: for one exchange (providers), or kept between exchanges while
/// the peer allows (hooks). The streams go before the io_context.
struct connection_state {
  net::io_context io{1};
  tls_context tls_settings; ///< outlives the TLS stream that uses it
  std::optional<beast::tcp_stream> plain;
  std::optional<tls_stream> tls;
  bool keep = false; ///< ask the peer to keep the connection
  bool open = false; ///< connected, and the last answer allowed reuse
  /// The peer closed a connection after an answer with more requests
  /// written behind it: requests go one at a time from then on.
  bool no_pipelining = false;
};

/// Appends `request` as it goes on the wire.
void append_wire(std::string& out, http::request<http::string_body>& request) {
  http::request_serializer<http::string_body> serializer{request};
  error_code ec;
  while (!ec && !serializer.is_done())
    serializer.next(ec, [&](error_code&, const auto& buffers) {
      for (auto b : beast::buffers_range_ref(buffers))
        out.append(static_cast<const char*>(b.data()), b.size());
      serializer.consume(beast::buffer_bytes(buffers));
    });
}

/// One POST, or several written back to back, from resolving the host to
/// reading the answers, driven by the io_context of the worker that owns
/// it. Asynchronous operations are used because Beast's time limits
/// (`tcp_stream::expires_at`) apply to them and not to blocking calls, and
/// so that answers are read while the requests are still being written (a
/// peer that answers as it reads would otherwise fill the socket's buffers
/// both ways); the worker waits for the exchange on its own thread.
///
/// One time limit covers the whole exchange. When it fails part way, the
/// first post not answered takes the failure and the posts behind it are
/// `not_reached`: one post the peer chokes on does not fail the others.
///
/// Lives in a shared_ptr held by every pending completion handler: after a
/// time-out, a host name lookup may still be running in Asio's resolver
/// thread and complete later, into an exchange that is already done.
class http_exchange : public std::enable_shared_from_this<http_exchange> {
public:
  http_exchange(connection_state& conn, http_url url, std::string url_text,
                uint32_t timeout_ms, std::size_t answer_limit,
                const tls_context& tls)
      : url_(std::move(url)), url_text_(std::move(url_text)),
        timeout_ms_(timeout_ms), resolver_(conn.io), resolve_timer_(conn.io),
        conn_(conn), status_only_(answer_limit == 0),
        // Larger answers are refused rather than buffered (SPEC §8); with
        // no limit given only the status counts, and a long body is cut
        // short.
        body_limit_(status_only_ ? status_only_body_bytes : answer_limit) {
    if (!conn_.open) {
      conn_.plain.reset();
      conn_.tls.reset();
      if (url_.tls) {
        conn_.tls_settings = tls;
        conn_.tls.emplace(conn_.io, *conn_.tls_settings);
      } else {
        conn_.plain.emplace(conn_.io);
      }
    }
  }

  /// Starts the exchange; the worker then runs its io_context until done().
  void start(const std::vector<http_post>& posts) {
    deadline_ = steady_clock::now() + std::chrono::milliseconds{timeout_ms_};
    auto host = url_.host.find(':') == std::string::npos
      ? url_.host
      : "[" + url_.host + "]";
    if (url_.port != (url_.tls ? "443" : "80"))
      host += ":" + url_.port;
    for (const auto& post : posts)
      append_request(host, post);
    requests_ = posts.size();
    if (conn_.open) {
      // Kept from the last exchange, TLS session and all.
      tcp_stream().expires_at(deadline_);
      send();
      return;
    }
    error_code ec;
    auto address = net::ip::make_address(url_.host, ec);
    if (!ec) {
      auto port = static_cast<unsigned short>(
        std::strtoul(url_.port.c_str(), nullptr, 10));
      connect(tcp::endpoint{address, port});
      return;
    }
    phase_ = "resolving host " + quote(url_.host);
    resolve_timer_.expires_at(deadline_);
    resolve_timer_.async_wait([self = shared_from_this()](error_code wait_ec) {
      self->on_resolve_deadline(wait_ec);
    });
    resolver_.async_resolve(
      url_.host, url_.port,
      [self = shared_from_this()](error_code resolve_ec,
                                  tcp::resolver::results_type results) {
        self->on_resolve(resolve_ec, std::move(results));
      });
  }

  bool done() const noexcept {
    return done_;
  }

  /// One per post, in order. REQUIRES: done()
  std::vector<http_outcome> take_outcomes() {
    return std::move(outcomes_);
  }

private:
  void append_request(const std::string& host, const http_post& post) {
    http::request<http::string_body> request;
    request.method(http::verb::post);
    request.target(url_.target);
    request.version(11);
    request.set(http::field::host, host);
    request.set(http::field::user_agent, "orca");
    request.set(http::field::content_type, "application/json");
    request.set(http::field::accept, "application/json");
    for (const auto& [name, value] : post.headers)
      request.set(name, value);
    request.keep_alive(conn_.keep);
    request.body() = post.body;
    request.prepare_payload();
    append_wire(wire_, request);
  }

  void on_resolve_deadline(error_code ec) {
    if (done_ || ec == net::error::operation_aborted)
      return;
    resolver_.cancel();
    finish(timed_out());
  }

  void on_resolve(error_code ec, tcp::resolver::results_type results) {
    if (done_)
      return;
    resolve_timer_.cancel();
    if (ec) {
      finish(failed(ec));
      return;
    }
    phase_ = "connecting";
    // One absolute deadline for everything that follows: connect, the TLS
    // handshake, write and read share the time that is left.
    tcp_stream().expires_at(deadline_);
    auto on_done = [self = shared_from_this()](error_code connect_ec,
                                               const tcp::endpoint&) {
      self->on_connect(connect_ec);
    };
    tcp_stream().async_connect(results, std::move(on_done));
  }

  void connect(const tcp::endpoint& endpoint) {
    phase_ = "connecting";
    tcp_stream().expires_at(deadline_);
    auto on_done = [self = shared_from_this()](error_code ec) {
      self->on_connect(ec);
    };
    tcp_stream().async_connect(endpoint, std::move(on_done));
  }

  void on_connect(error_code ec) {
    if (done_)
      return;
    if (ec) {
      finish(failed(ec));
      return;
    }
    if (conn_.tls)
      handshake();
    else
      send();
  }

  /// Names the host to the server (SNI, for a name, not an address) and
  /// checks that the certificate is for that host and signed by a trusted
  /// CA (the provider's `ca_file`, else the system's).
  void handshake() {
    phase_ = "the TLS handshake";
    error_code ec;
    if (!is_ip_address(url_.host)
        && SSL_set_tlsext_host_name(conn_.tls->native_handle(),
                                    url_.host.c_str())
          != 1) {
      finish(failure(url_text_ + ": cannot name host " + quote(url_.host)
                     + " for TLS"));
      return;
    }
    conn_.tls->set_verify_callback(net::ssl::host_name_verification(url_.host),
                                   ec);
    if (ec) {
      finish(failed(ec));
      return;
    }
    auto on_done = [self = shared_from_this()](error_code handshake_ec) {
      self->on_handshake(handshake_ec);
    };
    conn_.tls->async_handshake(net::ssl::stream_base::client,
                               std::move(on_done));
  }

  void on_handshake(error_code ec) {
    if (done_)
      return;
    if (ec) {
      finish(failed(ec));
      return;
    }
    send();
  }

  void send() {
    auto on_done = [self = shared_from_this()](error_code write_ec,
                                               std::size_t) {
      self->on_write(write_ec);
    };
    if (conn_.tls)
      net::async_write(*conn_.tls, net::buffer(wire_), std::move(on_done));
    else
      net::async_write(*conn_.plain, net::buffer(wire_), std::move(on_done));
    read_answer();
  }

  beast::tcp_stream& tcp_stream() {
    return conn_.tls ? conn_.tls->next_layer() : *conn_.plain;
  }

  static bool is_ip_address(const std::string& host) {
    error_code ec;
    net::ip::make_address(host, ec);
    return !ec;
  }

  /// A write that fails leaves the connection broken: the read under way
  /// then fails too (at the latest at the time limit) and says how far the
  /// peer got.
  void on_write(error_code ec) {
    if (done_ || ec)
      return;
    if (requests_ > 1) {
      // A peer that delays sending small answers until the one before is
      // acknowledged (Nagle's algorithm, on by default) would otherwise
      // wait for this side's delayed acknowledgement, 40 ms, after each
      // first answer: acknowledge at once while the answers come in.
      int one = 1;
      ::setsockopt(tcp_stream().socket().native_handle(), IPPROTO_TCP,
                   TCP_QUICKACK, &one, sizeof one);
    }
  }

  void read_answer() {
    phase_ = outcomes_.empty()
      ? "waiting for the answer"
      : "waiting for answer " + std::to_string(outcomes_.size() + 1) + " of "
        + std::to_string(requests_);
    parser_.emplace();
    parser_->body_limit(body_limit_);
    auto on_done = [self = shared_from_this()](error_code read_ec,
                                               std::size_t) {
      self->on_read(read_ec);
    };
    if (conn_.tls)
      http::async_read(*conn_.tls, buffer_, *parser_, std::move(on_done));
    else
      http::async_read(*conn_.plain, buffer_, *parser_, std::move(on_done));
  }

  void on_read(error_code ec) {
    if (done_)
      return;
    if (ec == http::error::body_limit && status_only_
        && parser_->is_header_done()) {
      // The rest of the body is not read: the connection cannot go on.
      http_outcome answer;
      answer.answered = true;
      answer.status = parser_->get().result_int();
      outcomes_.push_back(std::move(answer));
      finish(not_reached("the answer before it was cut short"));
      return;
    }
    if (ec) {
      on_read_failed(ec);
      return;
    }
    auto& response = parser_->get();
    if (response.result_int() >= 100 && response.result_int() < 200) {
      // An interim answer (102 Processing, 103 Early Hints): the final one
      // for the same request follows.
      read_answer();
      return;
    }
    http_outcome answer;
    answer.answered = true;
    answer.status = response.result_int();
    bool keep = conn_.keep && response.keep_alive();
    answer.body = std::move(response.body());
    outcomes_.push_back(std::move(answer));
    if (outcomes_.size() == requests_)
      finish({}, keep);
    else if (!keep)
      finish(not_reached("the peer closed the connection after an answer"));
    else
      read_answer();
  }

  void on_read_failed(error_code ec) {
    bool answered_some = !outcomes_.empty();
    if (answered_some && peer_closed(ec)) {
      // The peer hung up after an answer without saying so: it did not
      // come to the rest, and may not take requests back to back.
      conn_.no_pipelining = true;
      finish(not_reached("the peer closed the connection after an answer"));
    } else if (answered_some && ec == beast::error::timeout) {
      // Slow, but answering: the time ran out on the whole exchange, not
      // on one request.
      finish(not_reached("the time limit ran out behind earlier answers"));
    } else {
      outcomes_.push_back(failed(ec));
      finish(not_reached("an earlier request on the connection failed"));
    }
  }

  static bool peer_closed(error_code ec) {
    return ec == http::error::end_of_stream || ec == net::error::eof
      || ec == net::error::connection_reset || ec == net::error::broken_pipe;
  }

  http_outcome not_reached(const std::string& why) const {
    auto out = failure(url_text_ + ": not answered: " + why);
    out.not_reached = true;
    return out;
  }

  static http_outcome failure(std::string error,
                              errc code = errc::node_unreachable) {
    http_outcome out;
    out.error = std::move(error);
    out.code = code;
    return out;
  }

  http_outcome timed_out() const {
    return failure(url_text_ + ": timed out after "
                     + std::to_string(timeout_ms_) + " ms while " + phase_,
                   errc::provider_timeout);
  }

  http_outcome failed(error_code ec) const {
    if (ec == beast::error::timeout)
      return timed_out();
    // An answer over answer_bytes is refused by the parser; one that is
    // not HTTP breaks the protocol; a peer that hangs up or cannot be
    // reached is unreachable.
    auto code = errc::node_unreachable;
    if (ec == http::error::body_limit || ec == http::error::header_limit
        || ec == http::error::buffer_overflow)
      code = errc::limit_exceeded;
    else if (ec.category()
               == make_error_code(http::error::bad_version).category()
             && ec != http::error::end_of_stream
             && ec != http::error::partial_message)
      code = errc::protocol_error;
    return failure(url_text_ + ": " + phase_ + " failed: " + ec.message(),
                   code);
  }

  /// Every post not answered yet comes to `rest` (before anything was
  /// sent, a failure is every post's). `keep_open`: the answers were read
  /// whole and both sides keep the connection for the next exchange.
  void finish(const http_outcome& rest, bool keep_open = false) {
    done_ = true;
    outcomes_.resize(requests_, rest);
    resolve_timer_.cancel();
    conn_.open = keep_open;
    if (keep_open) {
      tcp_stream().expires_never();
      return;
    }
    // No TLS close_notify: the request is over either way, and waiting
    // for the peer's would only spend the time limit.
    error_code ignored;
    tcp_stream().socket().shutdown(tcp::socket::shutdown_both, ignored);
    tcp_stream().close();
  }

  // Copies, not references to the worker's: an exchange may outlive the
  // worker while a late host name lookup still holds it.
  http_url url_;
  std::string url_text_;
  uint32_t timeout_ms_;
  steady_clock::time_point deadline_;
  std::string phase_ = "starting";
  tcp::resolver resolver_;
  net::steady_timer resolve_timer_;
  connection_state& conn_;
  std::string wire_; ///< the requests, as they go on the wire
  std::size_t requests_ = 0;
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::string_body>> parser_;
  bool done_ = false;
  bool status_only_;
  std::size_t body_limit_;
  std::vector<http_outcome> outcomes_;
};

/// Runs one exchange of `posts` on `conn`, on the calling thread, until
/// their answers or a time limit. A kept connection that the peer has
/// closed meanwhile fails at once: the exchange then runs once more on a
/// new one. Never throws: every problem becomes outcomes that are not
/// answered.
std::vector<http_outcome> post_on(connection_state& conn, const http_url& url,
                                  const std::string& url_text,
                                  const tls_context& tls,
                                  const std::vector<http_post>& posts,
                                  uint32_t timeout_ms,
                                  std::size_t answer_limit) noexcept {
  auto failure = [&](const std::string& why) {
    http_outcome out;
    out.error = url_text + ": " + why;
    out.code = errc::node_unreachable;
    conn.open = false;
    return std::vector<http_outcome>(posts.size(), out);
  };
  if (posts.empty())
    return {};
  try {
    for (int round = 0;; ++round) {
      bool reused = conn.open;
      auto exchange = std::make_shared<http_exchange>(
        conn, url, url_text, timeout_ms, answer_limit, tls);
      conn.io.restart();
      exchange->start(posts);
      while (!exchange->done()) {
        // Pending work (our own operations, at least the time limit)
        // keeps run_one blocking until some handler has run.
        if (conn.io.run_one() == 0)
          return failure("the request stopped without an answer");
      }
      // Let the cancelled operations of this exchange complete now.
      conn.io.poll();
      auto outcomes = exchange->take_outcomes();
      const auto& first = outcomes.front();
      if (reused && round == 0 && !first.answered
          && first.code != errc::provider_timeout)
        continue;
      return outcomes;
    }
  } catch (const std::exception& e) {
    return failure(e.what());
  } catch (...) {
    return failure("unknown error");
  }
}

/// The TLS settings of an https endpoint, shared by the threads that post
/// to it (OpenSSL's
/// contexts may be shared once set up): TLS 1.2 or later, the peer's
/// certificate checked against `ca_file`, or the system's CAs without one.
caf::expected<tls_context> client_tls(const std::string& ca_file) {
  auto context =
    std::make_shared<net::ssl::context>(net::ssl::context::tls_client);
  context->set_options(
    net::ssl::context::default_workarounds | net::ssl::context::no_sslv2
    | net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1
    | net::ssl::context::no_tlsv1_1);
  context->set_verify_mode(net::ssl::verify_peer);
  error_code ec;
  if (ca_file.empty())
    context->set_default_verify_paths(ec);
  else
    context->load_verify_file(ca_file, ec);
  if (ec)
    return make_error(errc::invalid_config,
                      ca_file.empty()
                        ? "the system's CA certificates: " + ec.message()
                        : "ca_file " + quote(ca_file) + ": " + ec.message());
  return context;
}

} // namespace

struct http_endpoint::impl {
  http_url url;
  std::string text;
  tls_context tls;
};

caf::expected<std::shared_ptr<const http_endpoint>>
http_endpoint::make(const std::string& url, const std::string& ca_file) {
  auto parsed = parse_http_url(url);
  if (!parsed)
    return parsed.error();
  tls_context tls;
  if (!parsed->tls) {
    if (!ca_file.empty())
      return make_error(errc::invalid_config,
                        "ca_file is for https:// URLs, and url " + quote(url)
                          + " is http://");
  } else {
    auto made = client_tls(ca_file);
    if (!made)
      return made.error();
    tls = std::move(*made);
  }
  return std::make_shared<const http_endpoint>(
    std::make_shared<impl>(impl{std::move(*parsed), url, std::move(tls)}));
}

http_outcome http_endpoint::post(const header_list& headers, std::string body,
                                 uint32_t timeout_ms,
                                 std::size_t answer_limit) const noexcept {
  // A connection of its own, closed after this post.
  connection_state conn;
  return std::move(post_on(conn, impl_->url, impl_->text, impl_->tls,
                           {{headers, std::move(body)}}, timeout_ms,
                           answer_limit)
                     .front());
}

struct http_endpoint::connection::state : connection_state {};

http_endpoint::connection::connection() : state_(std::make_unique<state>()) {
  state_->keep = true;
}

http_endpoint::connection::~connection() = default;

bool http_endpoint::connection::pipelines() const noexcept {
  return state_->open && !state_->no_pipelining;
}

http_outcome http_endpoint::post(connection& kept, const header_list& headers,
                                 std::string body, uint32_t timeout_ms,
                                 std::size_t answer_limit) const noexcept {
  return std::move(
    post_batch(kept, {{headers, std::move(body)}}, timeout_ms, answer_limit)
      .front());
}

std::vector<http_outcome>
http_endpoint::post_batch(connection& kept, const std::vector<http_post>& posts,
                          uint32_t timeout_ms,
                          std::size_t answer_limit) const noexcept {
  return post_on(*kept.state_, impl_->url, impl_->text, impl_->tls, posts,
                 timeout_ms, answer_limit);
}

const std::string& http_endpoint::url() const noexcept {
  return impl_->text;
}

} // namespace orca
