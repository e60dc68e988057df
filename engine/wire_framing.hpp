#pragma once

// What the wire guard (wire_guard.hpp) reads of each message a client sends
// on the node's CAF port: its framing, and the types it holds.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <set>
#include <string>

namespace orca {

/// What a client may send on the node's CAF port.
struct wire_rules {
  /// The largest message, header and payload (SPEC's wire_bytes).
  std::size_t max_message_bytes = 0;
  /// The names of the node's own message types (those it registers with
  /// CAF); with CAF's flat types, the only types a client's message holds.
  std::set<std::string> client_types;
};

/// Follows the framing of the bytes one client sends on the node's CAF
/// port, however they are cut into reads, and reads the start of each
/// message before its last byte passes.
///
/// Size alone does not make a message safe: CAF 0.17 sizes a byte buffer
/// (std::vector<char>) by the length it reads before it checks that many
/// bytes follow, so 20 bytes claiming a 4 GiB buffer inside an error's
/// context make the node allocate 4 GiB. The screen therefore reads each
/// message's type list (the "@<>+T1+T2" CAF writes before the values) and
/// refuses any type outside wire_rules::client_types and CAF's flat types
/// (numbers, atoms, strings, string lists, actor handles). An error is
/// taken only as a whole answer, its context screened the same way; a
/// down message only with such an error. Handshakes, monitor messages and
/// heartbeats hold node ids and strings, which CAF reads with bounds.
class wire_framing {
public:
  /// BASP: a header of this many bytes, the operation in byte 0, the
  /// payload length at bytes 4..7 (big-endian).
  static constexpr std::size_t header_bytes = 32;
  /// How much of a payload the screen reads at most.
  static constexpr std::size_t screened_bytes = 4096;

  explicit wire_framing(std::shared_ptr<const wire_rules> rules)
      : rules_(std::move(rules)) {
  }

  /// Takes the next `n` bytes. False once a message is refused: over the
  /// limit (too_large() then says how large it claims to be) or of a kind
  /// clients never send; refusal() says which, in words.
  bool feed(const char* data, std::size_t n);

  uint64_t too_large() const {
    return too_large_;
  }

  const std::string& refusal() const {
    return refusal_;
  }

private:
  bool screen();

  std::shared_ptr<const wire_rules> rules_;
  unsigned char header_[header_bytes] = {};
  std::size_t header_have_ = 0;
  uint64_t payload_left_ = 0;
  /// The start of the current payload, until it is screened.
  std::string start_;
  std::size_t start_want_ = 0;
  uint64_t too_large_ = 0;
  std::string refusal_;
};

} // namespace orca
