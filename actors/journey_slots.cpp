#include "actors/journey_slots.hpp"

#include <sys/mman.h>

#include <cassert>
#include <cstdlib>
#include <new>
#include <stdexcept>

namespace orca {

namespace {

constexpr std::size_t huge_page = std::size_t{2} << 20;
constexpr std::size_t first_buckets = 1024;

std::size_t whole_pages(std::size_t bytes) {
  constexpr std::size_t page = 4096;
  return (bytes + page - 1) & ~(page - 1);
}

/// `bytes` (at least 2 MiB) mapped on a huge page boundary and marked for
/// transparent huge pages (the kernel here gives them on request): a table
/// reached at random then also misses the TLB far less. Zero-filled.
void* map_huge(std::size_t bytes) {
  auto size = whole_pages(bytes);
  void* mapped = mmap(nullptr, size + huge_page, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED)
    throw std::bad_alloc{};
  auto start = reinterpret_cast<std::uintptr_t>(mapped);
  auto aligned = (start + huge_page - 1) & ~(huge_page - 1);
  if (aligned > start)
    munmap(mapped, aligned - start);
  if (auto tail = start + size + huge_page - (aligned + size); tail > 0)
    munmap(reinterpret_cast<void*>(aligned + size), tail);
  madvise(reinterpret_cast<void*>(aligned), size, MADV_HUGEPAGE);
  return reinterpret_cast<void*>(aligned);
}

/// Zero-filled memory for `bytes`: small blocks from the heap, others in
/// huge pages.
void* zeroed(std::size_t bytes) {
  if (bytes >= huge_page)
    return map_huge(bytes);
  void* p = std::calloc(1, bytes);
  if (p == nullptr)
    throw std::bad_alloc{};
  return p;
}

void release(void* p, std::size_t bytes) {
  if (p == nullptr)
    return;
  if (bytes >= huge_page)
    munmap(p, whole_pages(bytes));
  else
    std::free(p);
}

uint64_t hash_of(std::string_view order_id) {
  return std::hash<std::string_view>{}(order_id);
}

uint32_t tag_of(uint64_t hash) {
  return static_cast<uint32_t>(hash);
}

} // namespace

journey_slots::~journey_slots() {
  for (std::size_t c = 0; c < chunks_.size(); ++c) {
    auto in_use = std::min<std::size_t>(chunk_size, used_ - c * chunk_size);
    for (std::size_t i = 0; i < in_use; ++i)
      chunks_[c][i].~entry();
    // The first chunk comes from the heap, so that a supervisor of a few
    // journeys does not take a huge page.
    if (c == 0)
      ::operator delete(chunks_[c]);
    else
      release(chunks_[c], chunk_size * sizeof(entry));
  }
  release(buckets_, (mask_ + 1) * sizeof(uint64_t));
}

std::size_t journey_slots::probe(std::string_view order_id, uint64_t hash) {
  auto tag = tag_of(hash);
  for (auto b = hash & mask_;; b = (b + 1) & mask_) {
    auto bucket = buckets_[b];
    if (bucket == 0)
      return b;
    if ((bucket >> 32) == tag
        && at(static_cast<uint32_t>(bucket) - 1).order_id == order_id)
      return b;
  }
}

journey_slot* journey_slots::find(std::string_view order_id) {
  if (buckets_ == nullptr)
    return nullptr;
  auto bucket = buckets_[probe(order_id, hash_of(order_id))];
  return bucket == 0 ? nullptr : &at(static_cast<uint32_t>(bucket) - 1).slot;
}

std::pair<journey_slot*, bool>
journey_slots::try_emplace(std::string_view order_id) {
  assert(!order_id.empty());
  // At most 7/8 full: probes stay short.
  if (buckets_ == nullptr || (size_ + 1) * 8 > (mask_ + 1) * 7)
    grow();
  auto hash = hash_of(order_id);
  auto b = probe(order_id, hash);
  if (buckets_[b] != 0)
    return {&at(static_cast<uint32_t>(buckets_[b]) - 1).slot, false};
  std::string id{order_id}; // before an entry is taken: it may throw
  auto number = new_entry();
  auto& e = at(number);
  e.order_id = std::move(id);
  buckets_[b] = uint64_t{tag_of(hash)} << 32 | (uint64_t{number} + 1);
  ++size_;
  return {&e.slot, true};
}

uint32_t journey_slots::new_entry() {
  // Entry numbers are kept + 1 in 32 bits.
  constexpr uint32_t most_entries = 0xfffffffe;
  if (!free_.empty()) {
    auto number = free_.back();
    free_.pop_back();
    return number;
  }
  if (used_ == most_entries)
    throw std::length_error{"journey_slots: too many journeys"};
  if (used_ == chunks_.size() * chunk_size) {
    auto bytes = chunk_size * sizeof(entry);
    void* memory = chunks_.empty() ? ::operator new(bytes) : map_huge(bytes);
    auto* chunk = static_cast<entry*>(memory);
    chunks_.push_back(chunk);
  }
  new (&at(used_)) entry{};
  return used_++;
}

void journey_slots::erase(std::string_view order_id) {
  if (buckets_ == nullptr)
    return;
  auto b = probe(order_id, hash_of(order_id));
  if (buckets_[b] == 0)
    return;
  auto number = static_cast<uint32_t>(buckets_[b]) - 1;
  free_.push_back(number); // first: nothing below throws
  auto& e = at(number);
  std::string{}.swap(e.order_id); // a long id's memory goes too
  e.slot = journey_slot{};
  --size_;
  // Backward shift: each later bucket of the run moves into the gap if
  // its home is not between the gap and itself, so that no probe ever
  // stops early at the gap.
  auto gap = b;
  for (auto next = (gap + 1) & mask_; buckets_[next] != 0;
       next = (next + 1) & mask_) {
    auto home = (buckets_[next] >> 32) & mask_;
    bool stays =
      gap <= next ? (gap < home && home <= next) : (gap < home || home <= next);
    if (stays)
      continue;
    buckets_[gap] = buckets_[next];
    gap = next;
  }
  buckets_[gap] = 0;
}

void journey_slots::grow() {
  auto old_buckets = buckets_;
  auto old_count = buckets_ == nullptr ? 0 : mask_ + 1;
  auto count = old_count == 0 ? first_buckets : old_count * 2;
  // A bucket's home comes from the 32 bits of hash it keeps.
  if (count > (std::size_t{1} << 32))
    throw std::length_error{"journey_slots: too many journeys"};
  buckets_ = static_cast<uint64_t*>(zeroed(count * sizeof(uint64_t)));
  mask_ = count - 1;
  // The tags say where each goes: the slots themselves are not read.
  for (std::size_t i = 0; i < old_count; ++i) {
    auto bucket = old_buckets[i];
    if (bucket == 0)
      continue;
    auto b = (bucket >> 32) & mask_;
    while (buckets_[b] != 0)
      b = (b + 1) & mask_;
    buckets_[b] = bucket;
  }
  release(old_buckets, old_count * sizeof(uint64_t));
}

void journey_slots::for_each(
  const std::function<void(const std::string&, journey_slot&)>& fn) {
  for (uint32_t number = 0; number < used_; ++number) {
    auto& e = at(number);
    if (!e.order_id.empty())
      fn(e.order_id, e.slot);
  }
}

} // namespace orca
