#pragma once

// A flow version's supervisor keeps one slot per order it holds a journey
// for: the journey's actor while it runs, its wake-up time while it sleeps
// in the store. A node may hold ten million sleeping journeys, so the slots
// are kept small and dense:
//
// - the slots sit in chunks of 65,536 (4 MiB, in transparent huge pages
//   where the kernel gives them), each slot with its order id: 64 bytes;
// - an open-addressing index (linear probing) maps the order id's hash to
//   its slot: 8 bytes a bucket, holding the hash's low 32 bits beside the
//   slot's number, so that probing and growing never touch the slots.
//
// Filing a slot reaches one random bucket and appends to a chunk, where a
// node-based hash map reached a bucket, a chain of nodes and, while it
// grew, every node again. A slot never moves: references stay valid until
// that slot is erased.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/actor.hpp>

namespace orca {

/// One order's journey on a flow version: running as an actor, or
/// passivated (in the store only) until something wakes it.
struct journey_slot {
  caf::actor actor;       ///< invalid while passivated
  uint64_t forwarded = 0; ///< messages forwarded to the current actor
  /// Passivated: when (the flow's time) a wait times out; 0: never.
  int64_t wake_at = 0;
  uint64_t wake_token = 0;
};

class journey_slots {
public:
  journey_slots() = default;
  ~journey_slots();
  journey_slots(const journey_slots&) = delete;
  journey_slots& operator=(const journey_slots&) = delete;

  /// The slot of `order_id`, or nullptr.
  journey_slot* find(std::string_view order_id);

  /// The slot of `order_id`, and whether it was added now (a fresh slot).
  /// REQUIRES: `order_id` is not empty (order ids never are).
  std::pair<journey_slot*, bool> try_emplace(std::string_view order_id);

  /// Removes the slot of `order_id`, if there is one.
  void erase(std::string_view order_id);

  std::size_t size() const noexcept {
    return size_;
  }

  /// Calls `fn(order_id, slot)` for every slot; `fn` may change the slot
  /// but not add or erase any.
  void
  for_each(const std::function<void(const std::string&, journey_slot&)>& fn);

private:
  struct entry {
    std::string order_id; ///< empty: a free entry
    journey_slot slot;
  };
  static constexpr unsigned chunk_bits = 16;
  static constexpr std::size_t chunk_size = std::size_t{1} << chunk_bits;

  entry& at(uint32_t number) {
    return chunks_[number >> chunk_bits][number & (chunk_size - 1)];
  }
  /// The bucket of `order_id`'s entry, or of the empty bucket where it
  /// would go.
  std::size_t probe(std::string_view order_id, uint64_t hash);
  uint32_t new_entry();
  void grow();

  std::vector<entry*> chunks_;
  uint32_t used_ = 0;           ///< entries ever handed out
  std::vector<uint32_t> free_;  ///< entries erased, to hand out again
  uint64_t* buckets_ = nullptr; ///< 0: empty; else hash << 32 | (entry + 1)
  std::size_t mask_ = 0;        ///< bucket count - 1 (a power of two)
  std::size_t size_ = 0;
};

} // namespace orca
