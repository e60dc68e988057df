#include <catch2/catch.hpp>

#include <dirent.h>

#include "flows/flow.hpp"
#include "flows/order.hpp"
#include "support/files.hpp"

using namespace orca;

namespace {

std::vector<std::string> example_files(const std::string& suffix) {
  std::vector<std::string> result;
  std::string dir = std::string{ORCA_SOURCE_DIR} + "/flows/examples";
  if (DIR* d = ::opendir(dir.c_str())) {
    while (auto* entry = ::readdir(d)) {
      std::string name = entry->d_name;
      if (name.size() > suffix.size()
          && name.compare(name.size() - suffix.size(), suffix.size(), suffix)
            == 0)
        result.push_back(name);
    }
    ::closedir(d);
  }
  return result;
}

} // namespace

TEST_CASE("every example flow parses and validates") {
  auto files = example_files(".json");
  REQUIRE(files.size() >= 2);
  for (const auto& name : files) {
    INFO(name);
    auto parsed = parse_flow(test::example(name));
    for (const auto& line : parsed.errors.lines(name))
      UNSCOPED_INFO(line);
    CHECK(parsed.errors.empty());
    REQUIRE(parsed.model != nullptr);
    CHECK(parsed.model->type == "order");
  }
}

TEST_CASE("every example order parses") {
  auto text = test::example("orders.jsonl");
  std::istringstream lines{text};
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    if (line.empty())
      continue;
    auto o = order::parse(line);
    INFO(line);
    REQUIRE(o);
    CHECK(!o->id().empty());
    CHECK(o->line_count() >= 1);
    ++count;
  }
  CHECK(count == 5);
}

TEST_CASE("the order-to-invoice example has the structure the spec describes") {
  auto parsed = parse_flow(test::example("order-to-invoice.json"));
  REQUIRE(parsed.model);
  const auto& f = *parsed.model;
  REQUIRE(f.top().steps.size() == 3);
  const auto& valid = f.steps[f.top().steps[2]];
  CHECK(valid.name == "Valid?");
  CHECK(!valid.is_action);
  CHECK(valid.element == element_kind::condition_merge);
  REQUIRE(valid.branches.size() == 2);
  CHECK(valid.branches[0].name == "yes");
  CHECK(f.sequences[valid.branches[0].body].path == "Valid?/yes");
  CHECK(f.sequences[valid.branches[1].body].path == "Valid?/no");
  const auto* ship = f.find_step("Ship it");
  REQUIRE(ship);
  CHECK(f.sequences[ship->sequence].path == "Valid?/yes/Channel split/Retail");
  REQUIRE(ship->retry);
  CHECK(ship->retry->max_attempts == 5);
  CHECK(ship->retry->backoff_ms == 50);
  CHECK(ship->retry->max_backoff_ms == 10000);
  CHECK(ship->provider == "fulfillment");
  const auto* bill = f.find_step("Bill it");
  REQUIRE(bill);
  CHECK(bill->input_events == std::vector<std::string>{"fulfillment_shipped"});
  const auto* notify = f.find_step("Notify customer service");
  REQUIRE(notify);
  CHECK(notify->provider == "notify");
  const auto* pick = f.find_step("Pick warehouse");
  REQUIRE(pick);
  REQUIRE(pick->filters.size() == 2);
  CHECK(f.filters[pick->filters[1]].scope == policy_scope::line);
  CHECK(f.provider_ids()
        == std::vector<std::string>{"fulfillment", "fno", "billing", "notify"});
}
