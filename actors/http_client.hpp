#pragma once

// HTTP POSTs from Orca to other systems (the http provider, hooks), with
// Boost.Beast: http:// or https:// (TLS 1.2 or later, SNI for host names,
// the certificate checked for the host against a CA file or the system's
// CAs), one time limit for the whole exchange, answers over a limit
// refused. A post runs on the calling thread, which it blocks.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <caf/expected.hpp>

#include "flows/errc.hpp"

namespace orca {

/// The parts of an http:// URL that a client needs.
struct http_url {
  std::string host;   ///< name or IP address, without IPv6 brackets
  std::string port;   ///< decimal, "80" if the URL has none
  std::string target; ///< path plus query, always starting with '/'
  bool tls = false;   ///< https://
};

/// Parses an http:// or https:// URL. Errors are `errc::invalid_config` and
/// name the URL and the problem, e.g. `url "ftp://x": only http:// and
/// https:// URLs are supported`.
caf::expected<http_url> parse_http_url(const std::string& url);

/// What one HTTP POST came to.
struct http_outcome {
  bool answered = false; ///< an HTTP answer came, of any status
  unsigned status = 0;
  std::string body;
  /// When not answered: the URL and the cause (time-out, connection, TLS,
  /// an answer over the limit or not HTTP).
  std::string error;
  errc code = errc{};
  /// Of a request written behind others on one connection: not answered
  /// through no fault of its own (the peer closed the connection after an
  /// earlier answer, an earlier request failed, or the time ran out while
  /// answers were still coming). It may go again on a new connection.
  bool not_reached = false;
};

/// One request of a batch: its headers (after Orca's own) and JSON body.
struct http_post {
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

/// Where POSTs go: a parsed http:// or https:// URL and, for https, its TLS
/// settings (as for the http provider). Shared by threads; each post runs
/// on the calling thread.
class http_endpoint {
public:
  /// Parses `url`; for https, reads `ca_file` (a PEM file of the CAs that
  /// may sign the server's certificate; empty: the system's). Errors are
  /// errc::invalid_config: a URL that does not parse, a CA file that does
  /// not read, a CA file for an http:// URL.
  static caf::expected<std::shared_ptr<const http_endpoint>>
  make(const std::string& url, const std::string& ca_file = {});

  /// POSTs `body` as JSON with `headers` (after Orca's own) and waits for
  /// the answer or `timeout_ms` (the whole exchange). An answer's body over
  /// `answer_limit` is a failure, except with 0: then only the status
  /// counts (the body is kept up to 64 KiB, or cut off). Never throws.
  http_outcome
  post(const std::vector<std::pair<std::string, std::string>>& headers,
       std::string body, uint32_t timeout_ms,
       std::size_t answer_limit) const noexcept;

  /// A connection kept open between the posts of one thread (HTTP
  /// keep-alive), to one endpoint. Not shared between threads.
  class connection {
  public:
    connection();
    ~connection();
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;

    /// Open, and the peer answered the last request on it keeping it open:
    /// the next requests may go back to back.
    bool pipelines() const noexcept;

  private:
    friend class http_endpoint;
    struct state;
    std::unique_ptr<state> state_;
  };

  /// As post, on `kept`: the connection of the last post, if the peer kept
  /// it (a new one if it closed it meanwhile), else a new one, kept after
  /// this post if the peer allows.
  http_outcome
  post(connection& kept,
       const std::vector<std::pair<std::string, std::string>>& headers,
       std::string body, uint32_t timeout_ms,
       std::size_t answer_limit) const noexcept;

  /// As post on `kept`, for several requests written back to back in one
  /// write (HTTP/1.1 pipelining) and answered in order, the answers read
  /// while the write goes on: one outcome per post, in order. `timeout_ms`
  /// covers the whole exchange. When it fails part way, the first post not
  /// answered fails (none does if answers were still coming when the time
  /// ran out) and those behind it are `not_reached`, as are those behind
  /// an answer that closed the connection; after a close of that kind the
  /// connection no longer pipelines. Interim 1xx answers are passed over.
  std::vector<http_outcome> post_batch(connection& kept,
                                       const std::vector<http_post>& posts,
                                       uint32_t timeout_ms,
                                       std::size_t answer_limit) const noexcept;

  const std::string& url() const noexcept;

  struct impl;
  explicit http_endpoint(std::shared_ptr<impl> i) : impl_(std::move(i)) {
  }

private:
  std::shared_ptr<impl> impl_;
};

} // namespace orca
