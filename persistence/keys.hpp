#pragma once

// Every key Orca stores records under, and the fixed-width integers of keys
// and record headers: the layouts of FORMAT.md, in one place. Integers in
// keys are big-endian, so that LMDB's byte order is their numeric order;
// integers in headers and the meta database are little-endian.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace orca {

// -- fixed-width integers -----------------------------------------------------

// The readers and set_le are defined here, so that a call with a constant
// width compiles to a load or a store: headers are read on every write.

void put_be(std::string& out, uint64_t x, int bytes);
void put_le(std::string& out, uint64_t x, int bytes);

inline uint64_t get_be(std::string_view in, std::size_t offset, int bytes) {
  uint64_t x = 0;
  for (int i = 0; i < bytes; ++i)
    x = (x << 8) | static_cast<unsigned char>(in[offset + i]);
  return x;
}

/// Writes `x` over the `bytes` bytes at `at`, little-endian.
inline void set_le(char* at, uint64_t x, int bytes) {
  for (int i = 0; i < bytes; ++i)
    at[i] = static_cast<char>((x >> (8 * i)) & 0xFF);
}

inline uint64_t get_le(std::string_view in, std::size_t offset, int bytes) {
  uint64_t x = 0;
  for (int i = bytes - 1; i >= 0; --i)
    x = (x << 8) | static_cast<unsigned char>(in[offset + i]);
  return x;
}

// -- keys ---------------------------------------------------------------------

/// flows: the flow's name. flow_versions: name, 0, version (u32).
std::string flow_version_key(const std::string& name, uint32_t version);

/// journeys: order id, 0, flow name, 0, version (u32).
std::string journey_key(const std::string& order_id, const std::string& flow,
                        uint32_t version);

/// Prefix of the keys of every journey of an order.
std::string journey_prefix(const std::string& order_id);

/// A journey's identity, as its key spells it.
struct journey_id {
  std::string order_id;
  std::string flow;
  uint32_t version = 0;

  std::string key() const {
    return journey_key(order_id, flow, version);
  }

  /// The parts of a journey key, if it is one.
  static std::optional<journey_id> from_key(std::string_view key);
};

/// journey_states: flow name, 0, the journey's visible state (u8), order
/// id, 0, version (u32). The index of journeys by flow and state; within
/// one flow and state its keys sort as the journeys' own do.
std::string journey_state_key(const std::string& flow, uint8_t state,
                              const std::string& order_id, uint32_t version);

/// The same key for the journey stored under `journey_key`, built from the
/// parts of that key in place; "" if it is not a journey key.
std::string journey_state_key(std::string_view journey_key, uint8_t state);

/// Prefix of the journey_states keys of a flow, and of one of its states.
std::string journey_state_prefix(const std::string& flow);
std::string journey_state_prefix(const std::string& flow, uint8_t state);

/// The parts of a journey_states key, if it is one.
struct journey_state_entry {
  uint8_t state = 0;
  journey_id id;

  static std::optional<journey_state_entry> from_key(std::string_view key);
};

/// journal: journey key, 0, chunk number (u32).
std::string journal_key(const std::string& journey_key, uint32_t n);

/// Prefix of the keys of every chunk of a journey's journal.
std::string journal_prefix(const std::string& journey_key);

/// journal_expiry: when the journey ended (i64 ms), then its key.
std::string journal_expiry_key(int64_t ended_on,
                               const std::string& journey_key);

/// The parts of a journal_expiry key, if it is one.
struct journal_expiry {
  int64_t ended_on = 0;
  std::string journey_key;

  static std::optional<journal_expiry> from_key(std::string_view key);
};

/// provider_calls: provider id, 0, idempotency key.
std::string provider_call_key(const std::string& provider,
                              const std::string& key);

/// Prefix of the keys of every call to a provider.
std::string provider_call_prefix(const std::string& provider);

} // namespace orca
