#pragma once

// The node's HTTP/1.1 server (Boost.Beast): keep-alive, requests of a
// connection answered in order, bodies over the limit refused (413) before
// they are read, idle connections closed, and GET /v1/stream as
// Server-Sent Events. It runs on a thread of its own; engine work runs on
// the router's threads (engine/http_api.hpp), so a slow client never
// stalls the actors or the commit thread. A stream client that stops
// reading is cut off once its buffer is full.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "engine/http_api.hpp"

namespace orca {

class http_server {
public:
  struct options {
    std::string host = "127.0.0.1";
    uint16_t port = 4711; ///< 0: a free port
    /// The largest request body taken (413 past it).
    std::size_t body_limit = std::size_t{64} << 20;
    /// What a stream client may fall behind by before it is cut off.
    std::size_t stream_buffer = std::size_t{4} << 20;
    /// A comment line on every stream this often, to keep it open.
    std::chrono::milliseconds keep_alive{15000};
    /// A connection that sends nothing for this long is closed.
    std::chrono::milliseconds idle_timeout{60000};
    /// TLS: the certificate chain and key (PEM); empty: plain HTTP.
    std::string tls_cert;
    std::string tls_key;
  };

  /// Listens on host:port and serves `api` until stop().
  /// REQUIRES: `api` outlives the server.
  static caf::expected<std::unique_ptr<http_server>>
  start(http_api& api, options opts,
        std::function<void(const std::string&)> warn);

  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  uint16_t port() const;

  /// Stops accepting, closes every connection and stream, and joins the
  /// server's thread.
  void stop();

  struct impl;

private:
  explicit http_server(std::unique_ptr<impl> state);
  std::unique_ptr<impl> impl_;
};

} // namespace orca
