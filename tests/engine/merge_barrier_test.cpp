// A merge barrier joins many concurrent branches: it never completes early
// and never hangs, whatever order they end in.

#include <map>
#include <random>

#include "actors/merge_barrier.hpp"
#include "support/engine_fixture.hpp"

using namespace orca;
using namespace orca::test;

namespace {

constexpr int branch_count = 100;

/// A flow with one splitter_merge of `n` branches, branch i calling
/// provider "p<i>", then a final step after the merge.
std::string wide_flow(int n) {
  std::string branches;
  for (int i = 0; i < n; ++i) {
    if (i > 0)
      branches += ",";
    branches += R"({"name": "b)" + std::to_string(i) + R"(", "steps": [
      {"action": "custom", "name": "call )"
      + std::to_string(i) + R"(", "provider": "p)" + std::to_string(i)
      + R"("}]})";
  }
  return R"({"name": "Wide", "type": "order", "steps": [
    {"element": "splitter_merge", "name": "Fan", "branches": [)"
    + branches + R"(]},
    {"action": "custom", "name": "After", "provider": "after"}]})";
}

} // namespace

TEST_CASE("a merge barrier counts every taken branch once") {
  std::vector<branch_slot> slots{{3, false, false}, {5, false, false}};
  merge_barrier barrier{slots};
  CHECK_FALSE(barrier.done());
  CHECK(barrier.branch_ended(5, true));
  CHECK_FALSE(barrier.branch_ended(5, false)); // twice
  CHECK_FALSE(barrier.branch_ended(4, false)); // not taken
  CHECK_FALSE(barrier.done());
  CHECK(barrier.branch_ended(3, false));
  CHECK(barrier.done());
  CHECK(barrier.outcome() == step_outcome::failed);
  std::vector<branch_slot> none;
  CHECK(merge_barrier{none}.done());
  CHECK(merge_barrier{none}.outcome() == step_outcome::succeeded);
}

TEST_CASE("a merge barrier over 100 branches ending in random order completes "
          "only at the end") {
  for (unsigned seed = 1; seed <= 200; ++seed) {
    std::mt19937 rng{seed};
    std::vector<branch_slot> slots;
    for (int i = 0; i < branch_count; ++i)
      slots.push_back({static_cast<sequence_id>(i + 1), false, false});
    std::vector<sequence_id> order;
    for (int i = 0; i < branch_count; ++i)
      order.push_back(static_cast<sequence_id>(i + 1));
    std::shuffle(order.begin(), order.end(), rng);
    merge_barrier barrier{slots};
    sequence_id failing = order[rng() % order.size()];
    for (std::size_t i = 0; i < order.size(); ++i) {
      REQUIRE_FALSE(barrier.done());
      REQUIRE(barrier.branch_ended(order[i], order[i] == failing));
    }
    REQUIRE(barrier.done());
    REQUIRE(barrier.outcome() == step_outcome::failed);
  }
}

TEST_CASE("a journey with 100 concurrent branches merges after the last one, "
          "for many seeds") {
  for (unsigned seed = 1; seed <= 10; ++seed) {
    INFO("seed " << seed);
    std::mt19937 rng{seed};
    node_config config;
    for (int i = 0; i < branch_count; ++i) {
      provider_config p;
      p.simulated.latency_ms = rng() % 1000;
      config.providers["p" + std::to_string(i)] = p;
    }
    config.providers["after"] = provider_config{};
    engine_fixture fx{config};
    fx.publish(wide_flow(branch_count));
    REQUIRE(fx.submit(R"({"id": "W-1", "lines": [{"id": "1"}]})").status
            == submit_status::accepted);
    auto r = fx.wait_terminal("W-1", "Wide");
    CHECK(r.state == journey_state::completed);
    REQUIRE(r.steps.size() == branch_count + 2);
    // Every branch's step ended before the merge, the merge before After.
    for (int i = 0; i < branch_count; ++i)
      CHECK(r.steps[i].name.rfind("call ", 0) == 0);
    CHECK(r.steps[branch_count].name == "Fan");
    CHECK(r.steps[branch_count].outcome == step_outcome::succeeded);
    CHECK(r.steps[branch_count + 1].name == "After");
    CHECK(fx.engine->simulated_calls("after")->size() == 1);
  }
}

TEST_CASE("a merge of many branches fails when one of them fails, after all "
          "have ended") {
  std::mt19937 rng{42};
  node_config config;
  for (int i = 0; i < 20; ++i) {
    provider_config p;
    p.simulated.latency_ms = rng() % 1000;
    if (i == 7)
      p.simulated.fail_first_attempts = 1;
    config.providers["p" + std::to_string(i)] = p;
  }
  config.providers["after"] = provider_config{};
  engine_fixture fx{config};
  fx.publish(wide_flow(20));
  REQUIRE(fx.submit(R"({"id": "F-1", "lines": [{"id": "1"}]})").status
          == submit_status::accepted);
  auto r = fx.wait_terminal("F-1", "Wide");
  CHECK(r.state == journey_state::failed);
  REQUIRE(r.steps.size() == 21);
  CHECK(r.steps[20].name == "Fan");
  CHECK(r.steps[20].outcome == step_outcome::failed);
  CHECK(r.steps[20].error
        == std::optional<std::string>{"failed branch: \"b7\""});
  CHECK(fx.engine->simulated_calls("after")->size() == 0);
}

TEST_CASE("a split inside a branch merges before its branch goes on, and "
          "the journey merges after both branches") {
  // The inner branches end to a branch, the outer ones to the journey:
  // each kind of parent hears of its branches' ends.
  node_config config;
  for (const char* id : {"slow", "fast"}) {
    provider_config p;
    p.simulated.latency_ms = std::string{id} == "slow" ? 300 : 0;
    config.providers[id] = p;
  }
  engine_fixture fx{config};
  fx.publish(R"({"name": "Nest", "type": "order", "steps": [
    {"element": "splitter_merge", "name": "Outer", "branches": [
      {"name": "A", "steps": [
        {"action": "custom", "name": "a", "provider": "fast"},
        {"element": "splitter_merge", "name": "Inner", "branches": [
          {"name": "A1", "steps": [
            {"action": "custom", "name": "a1", "provider": "slow"}]},
          {"name": "A2", "steps": [
            {"action": "custom", "name": "a2", "provider": "fast"}]}]},
        {"action": "custom", "name": "after inner", "provider": "fast"}]},
      {"name": "B", "steps": [
        {"action": "custom", "name": "b", "provider": "fast"}]}]},
    {"action": "custom", "name": "after outer", "provider": "fast"}]})");
  REQUIRE(fx.submit(R"({"id": "N-1", "lines": [{"id": "1"}]})").status
          == submit_status::accepted);
  auto r = fx.wait_terminal("N-1", "Nest");
  CHECK(r.state == journey_state::completed);
  // Steps are recorded in the order they ended.
  std::map<std::string, std::size_t> at;
  for (std::size_t i = 0; i < r.steps.size(); ++i) {
    at[r.steps[i].name] = i;
    CHECK(r.steps[i].outcome == step_outcome::succeeded);
  }
  REQUIRE(at.size() == 8);
  REQUIRE(r.steps.size() == 8);
  CHECK(at["a"] < at["a1"]);
  CHECK(at["a"] < at["a2"]);
  CHECK(at["a1"] < at["Inner"]);
  CHECK(at["a2"] < at["Inner"]);
  CHECK(at["Inner"] < at["after inner"]);
  CHECK(at["b"] < at["Outer"]);
  CHECK(at["after inner"] < at["Outer"]);
  CHECK(at["Outer"] < at["after outer"]);
}
