#pragma once

// The node's CAF port as the network sees it: a TCP relay in front of CAF's
// middleman that reads the framing of every message a client sends and
// hangs up on one larger than the limit, or holding a type clients never
// send (see wire_framing.hpp), before CAF reads it.
//
// CAF 0.17 reads a message whole into memory before anything of Orca sees
// it, sized by the length its header claims (up to 4 GiB): one client could
// make the node hold gigabytes. Every message on the port is a BASP header
// of 32 bytes (payload length: bytes 4..7, big-endian) followed by that many
// bytes, handshakes included; the guard checks the length and relays the
// bytes unchanged, both ways. CAF itself listens on 127.0.0.1 only.
//
// With TLS the guard ends the clients' TLS (their certificate must be
// signed by the node's CA), reads the framing in the clear, and speaks TLS
// again to CAF on loopback with a key of its own made at start
// (loopback_credentials): a process on the node's machine cannot reach
// CAF around the guard without that key.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include <caf/expected.hpp>

#include "engine/wire_framing.hpp"

namespace orca {

/// PEM files of a certificate, its key and the CA that signs the peers'.
struct tls_files {
  std::string cert;
  std::string key;
  std::string ca;
};

/// A self-signed certificate and key made for one run of a node, in a
/// directory of its own (mode 0700) that goes when this does. CAF takes
/// them as its TLS identity and CA on loopback; the guard connects with
/// them.
class loopback_credentials {
public:
  static caf::expected<std::unique_ptr<loopback_credentials>> make();
  ~loopback_credentials();

  loopback_credentials(const loopback_credentials&) = delete;
  loopback_credentials& operator=(const loopback_credentials&) = delete;

  /// cert and ca are the same file: the certificate trusts itself.
  const tls_files& files() const {
    return files_;
  }

private:
  explicit loopback_credentials(std::string dir);

  std::string dir_;
  tls_files files_;
};

class wire_guard {
public:
  /// TLS on both sides of the guard: what clients must show, and what the
  /// guard shows CAF.
  struct tls_settings {
    tls_files clients;  ///< the node's certificate, key and clients' CA
    tls_files loopback; ///< from loopback_credentials
  };

  /// Listens on `host`:`port` (0: a free port) and relays each connection
  /// to 127.0.0.1:`target_port`, through TLS when `tls` is given. A client
  /// whose message breaks `rules` is cut off and `warn` says so.
  static caf::expected<std::unique_ptr<wire_guard>>
  start(const std::string& host, uint16_t port, uint16_t target_port,
        wire_rules rules, std::function<void(const std::string&)> warn,
        const tls_settings* tls = nullptr);

  /// Stops listening and closes every connection.
  ~wire_guard();

  wire_guard(const wire_guard&) = delete;
  wire_guard& operator=(const wire_guard&) = delete;

  /// The port it listens on.
  uint16_t port() const;

  /// Stops taking new connections; those open go on.
  void stop_accepting();

  /// Waits until every connection has ended (CAF closed its side and what
  /// it sent reached the client), at most `limit`.
  void wait_closed(std::chrono::milliseconds limit);

  struct impl;

private:
  explicit wire_guard(std::unique_ptr<impl> state);

  std::unique_ptr<impl> impl_;
};

} // namespace orca
