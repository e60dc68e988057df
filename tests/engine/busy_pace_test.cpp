// How a sender paces its offers to a busy node (engine/busy_pace.hpp).

#include <catch2/catch.hpp>

#include <vector>

#include "engine/busy_pace.hpp"

using namespace orca;
using std::chrono::milliseconds;

TEST_CASE("a busy answer halves the offers on their way, and each offer "
          "taken brings one back") {
  busy_pace pace{16};
  CHECK(pace.allowed() == 16);
  CHECK(pace.refused(false) == milliseconds{0}); // others pace the next
  CHECK(pace.allowed() == 8);
  pace.refused(false);
  pace.refused(false);
  pace.refused(false);
  CHECK(pace.allowed() == 1);
  pace.refused(false);
  CHECK(pace.allowed() == 1); // never none
  for (int i = 0; i < 3; ++i)
    pace.taken();
  CHECK(pace.allowed() == 4);
  for (int i = 0; i < 100; ++i)
    pace.taken();
  CHECK(pace.allowed() == 16); // never more than asked for
}

TEST_CASE("an offer refused alone waits 1 ms, twice as long each time in a "
          "row up to 16 ms, and 1 ms again after one is taken") {
  busy_pace pace{4};
  std::vector<milliseconds> waits;
  for (int i = 0; i < 7; ++i)
    waits.push_back(pace.refused(true));
  CHECK(waits
        == std::vector<milliseconds>{
          milliseconds{1}, milliseconds{2}, milliseconds{4}, milliseconds{8},
          milliseconds{16}, milliseconds{16}, milliseconds{16}});
  pace.taken();
  CHECK(pace.refused(true) == milliseconds{1});
}
