#pragma once

// The HTTP API of SPEC §7 as a router over an Engine: a request in, a
// response out, with no sockets (engine/http_server.hpp speaks HTTP). Every
// operation of §6 is here with the same rules; errors are JSON naming the
// field, step path or limit, with the statuses of §7. Work that waits for
// the store runs on the router's own threads, never on the caller's.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/engine.hpp"
#include "engine/node_protocol.hpp"

namespace orca {

struct http_request {
  std::string method; ///< "GET", "POST", ...
  std::string target; ///< path and query, as sent ("/v1/flows?x=1")
  std::string content_type;
  std::string authorization; ///< the Authorization header, if any
  /// Every header as sent (names in their case), for the routes that read
  /// headers of their own (intake's signature and topic).
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct http_response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

/// What a token may do; each role may do what the ones before it may.
enum class http_role : uint8_t { reader, submitter, operator_, admin };

const char* to_string(http_role role);

struct http_token {
  std::string token;
  http_role role = http_role::reader;
  std::string name;
};

/// Reads a tokens file: {"tokens": [{"token", "role", "name"}]}. Errors
/// name `origin` and the field.
caf::expected<std::vector<http_token>> parse_tokens(std::string_view json,
                                                    const std::string& origin);

/// Who sent a request: the role and name of its token. Without a tokens
/// file everyone is an admin with no name. On the open routes a missing or
/// unknown token has no role.
struct http_caller {
  std::optional<http_role> role;
  std::string name;
  bool tokens = false; ///< whether the node has a tokens file
};

namespace http_detail {
struct call;
} // namespace http_detail

/// One route of the API: its method, its path with {parameters}, the
/// least role that may use it (none: open to all, and answered while the
/// node stops), and what answers it.
struct http_route {
  const char* method;
  const char* path;
  std::optional<http_role> role;
  void (*handler)(http_detail::call&);
};

/// Every route the API serves, GET /v1/stream (served by the server)
/// included; the OpenAPI document lists exactly these.
const std::vector<http_route>& http_routes();

/// The OpenAPI 3 document of the API (engine/openapi.json).
std::string_view openapi_document();

/// The filters of a stream request (GET /v1/stream).
struct stream_filter {
  std::optional<std::string> flow;
  bool terminal_only = false;
};

class http_api {
public:
  struct options {
    /// Empty: everyone may do everything (a node on loopback only).
    std::vector<http_token> tokens;
    /// GET /v1/providers and GET /v1/node, as the node answers them (it
    /// knows its connected clients); without them, the engine's part.
    std::function<caf::expected<std::vector<provider_view>>()> providers;
    std::function<caf::expected<node_status>()> status;
  };

  /// REQUIRES: `engine` outlives this object.
  http_api(Engine& engine, options opts);
  ~http_api();
  http_api(const http_api&) = delete;
  http_api& operator=(const http_api&) = delete;

  /// Answers `req`; `done` is called once, on this thread or another.
  void handle(http_request req, std::function<void(http_response)> done);

  /// For GET /v1/stream: the filters, or the response that refuses the
  /// request (a bad token, a bad parameter).
  std::pair<std::optional<stream_filter>, http_response>
  open_stream(const http_request& req) const;

  /// Whether the node takes work: false once stop() was called.
  bool ready() const;
  /// Refuses further work with 503 (the node is stopping).
  void stop();

  Engine& engine() {
    return engine_;
  }

private:
  struct impl;
  Engine& engine_;
  std::unique_ptr<impl> impl_;
};

/// A JSON error response: {"error": text}.
http_response http_error(unsigned status, const std::string& text);

/// The status an engine error answers with (400, 404, 409, 413, 503, 500).
unsigned http_status_of(const caf::error& err);

} // namespace orca
