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
// a new connection (actors/http_client.hpp; for https, a new TLS session that
// names the host and checks its certificate).

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "actors/http_client.hpp"
#include "actors/provider_protocol.hpp"

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
