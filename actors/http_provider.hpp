#pragma once

// The `http` provider adapter: an actor that carries out provider calls by
// POSTing each provider_request as JSON to one URL and turning the HTTP
// answer into a provider_reply. Paths (journey and branch actors) talk to it
// with the protocol in actors/provider_protocol.hpp; whoever wires the engine
// spawns one adapter per configured http provider and stops it with an exit
// message when the engine shuts down.
//
// Blocking network I/O never runs on CAF's scheduler threads: the adapter is
// a pool of detached workers, each with its own thread, and each request uses
// a new TCP connection (for https, a new TLS session that names the host and
// checks its certificate).

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "actors/provider_protocol.hpp"
#include "flows/errc.hpp"

namespace orca {

/// How an http provider is reached.
struct http_provider_config {
  /// "http://HOST[:PORT][/PATH]" or "https://..."; PORT defaults to 80
  /// (443 for https), PATH to "/".
  std::string url;
  /// Time limit for one whole request (resolve, connect, write and read),
  /// counted from the moment a worker starts it.
  uint32_t timeout_ms = 10000;
  /// How many requests may run at the same time (0 counts as 1).
  uint32_t workers = 4;
  /// Sent with every request, after Orca's own (the node config's
  /// `headers`, values from the environment already read).
  std::vector<std::pair<std::string, std::string>> headers;
  /// For https: a PEM file of the CA certificates that may sign the
  /// server's; empty means the system's CAs.
  std::string ca_file;
};

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
};

/// Where POSTs go: a parsed http:// or https:// URL and, for https, its TLS
/// settings (as for the http provider). Shared by threads; each post runs
/// on the calling thread.
class http_endpoint {
public:
  /// Checks the URL and `ca_file` as check_http_provider does.
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

  const std::string& url() const noexcept;

  struct impl;
  explicit http_endpoint(std::shared_ptr<impl> i) : impl_(std::move(i)) {
  }

private:
  std::shared_ptr<impl> impl_;
};

/// Whether `config` can make an adapter: its URL parses, `ca_file` is given
/// only for https and holds certificates. The error names the problem.
caf::error check_http_provider(const http_provider_config& config);

/// Spawns the adapter. It answers every provider_request with a
/// provider_reply as the response to that request: ok with the parsed answer
/// for a 2xx status, otherwise a failure whose error names the URL and the
/// cause (HTTP status and the start of the body, time-out, connection error,
/// unreadable answer). A config that check_http_provider refuses gives an
/// adapter that answers every request with that error.
///
/// The caller owns the returned handle and must stop it with an exit message
/// (e.g. `caf::anon_send_exit(adapter, caf::exit_reason::user_shutdown)`)
/// before `system` is destroyed; a worker busy with a request finishes it
/// (at most `timeout_ms`) before it exits.
/// Answers over `lim.answer_bytes` or nested deeper than `lim.json_depth`
/// are failed attempts.
caf::actor spawn_http_provider(caf::actor_system& system,
                               http_provider_config config,
                               const limits& lim = default_limits());

} // namespace orca
