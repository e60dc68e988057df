#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <string>

#include "actors/journey_slots.hpp"

using namespace orca;

TEST_CASE("journey slots are found by order id, added once and erased") {
  journey_slots slots;
  CHECK(slots.find("SO-1") == nullptr);
  auto [slot, added] = slots.try_emplace("SO-1");
  REQUIRE(slot != nullptr);
  CHECK(added);
  slot->wake_at = 42;
  auto [again, added_again] = slots.try_emplace("SO-1");
  CHECK_FALSE(added_again);
  CHECK(again == slot);
  CHECK(slots.find("SO-1")->wake_at == 42);
  CHECK(slots.size() == 1);
  slots.erase("SO-2"); // not there: nothing happens
  CHECK(slots.size() == 1);
  slots.erase("SO-1");
  CHECK(slots.find("SO-1") == nullptr);
  CHECK(slots.size() == 0);
  auto [fresh, added_fresh] = slots.try_emplace("SO-1");
  CHECK(added_fresh);
  CHECK(fresh->wake_at == 0); // an erased slot comes back clean
}

TEST_CASE("journey slots agree with a map through growth and erasure, and "
          "never move") {
  // Enough to grow the index past 2 MiB (huge pages) and to fill more
  // than one chunk of slots; ids long and short (heap and inline).
  journey_slots slots;
  std::map<std::string, std::pair<int64_t, journey_slot*>> model;
  std::mt19937_64 random{7};
  constexpr uint64_t ids = 400000;
  auto id_of = [](uint64_t n) {
    return n % 3 == 0 ? "order-with-a-long-id-" + std::to_string(n)
                      : std::to_string(n);
  };
  for (uint64_t n = 0; n < ids; n += 2) {
    auto [slot, added] = slots.try_emplace(id_of(n));
    REQUIRE(added);
    slot->wake_at = static_cast<int64_t>(n) + 1;
    model[id_of(n)] = {slot->wake_at, slot};
  }
  for (int round = 0; round < 300000; ++round) {
    auto n = random() % ids;
    auto id = id_of(n);
    if (random() % 4 == 0) {
      slots.erase(id);
      model.erase(id);
    } else {
      auto [slot, added] = slots.try_emplace(id);
      auto it = model.find(id);
      REQUIRE(added == (it == model.end()));
      if (added) {
        slot->wake_at = static_cast<int64_t>(n) + 1;
        model[id] = {slot->wake_at, slot};
      } else {
        REQUIRE(slot == it->second.second); // it did not move
      }
    }
  }
  REQUIRE(slots.size() == model.size());
  for (uint64_t n = 0; n < ids; ++n) {
    auto id = id_of(n);
    auto* slot = slots.find(id);
    auto it = model.find(id);
    if (it == model.end()) {
      CHECK(slot == nullptr);
    } else {
      REQUIRE(slot == it->second.second);
      CHECK(slot->wake_at == it->second.first);
    }
  }
  std::size_t seen = 0;
  slots.for_each([&](const std::string& id, journey_slot& slot) {
    ++seen;
    auto it = model.find(id);
    REQUIRE(it != model.end());
    CHECK(&slot == it->second.second);
  });
  CHECK(seen == model.size());
}
