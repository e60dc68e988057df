#include <catch2/catch.hpp>

#include "flows/flow.hpp"

using namespace orca;

namespace {

const char* policies = R"({
  "filter": [
    {"name": "Big", "scope": "header", "when": {"field": "source", "op": "eq", "value": "BigCommerce"}},
    {"name": "Lines", "scope": "line", "when": {"field": "sku", "op": "exists"}}
  ],
  "execution": [
    {"name": "Header", "kind": "header_validation", "rules": [{"when": {"field": "id", "op": "exists"}, "message": "id"}]},
    {"name": "Line", "kind": "line_validation", "rules": [{"when": {"field": "sku", "op": "exists"}, "message": "sku"}]},
    {"name": "Source", "kind": "fulfillment_source", "rules": [], "default_source": "WH"},
    {"name": "Source 2", "kind": "fulfillment_source", "rules": [], "default_source": "WH2"}
  ]})";

std::string flow_with(const std::string& steps) {
  return std::string{R"({"name": "Rules", "type": "order", "policies": )"}
  + policies + R"(, "steps": )" + steps + "}";
}

std::vector<std::string> errors_of(const std::string& text) {
  return parse_flow(text).errors.lines("flow.json");
}

/// Whether some error line contains every one of `parts`.
bool has_error(const std::vector<std::string>& errors,
               std::initializer_list<std::string> parts) {
  for (const auto& line : errors) {
    bool all = true;
    for (const auto& part : parts)
      if (line.find(part) == std::string::npos)
        all = false;
    if (all)
      return true;
  }
  return false;
}

#define CHECK_ERROR(errors, ...)                                               \
  do {                                                                         \
    auto&& errs_ = (errors);                                                   \
    for (const auto& line_ : errs_)                                            \
      UNSCOPED_INFO(line_);                                                    \
    CHECK(has_error(errs_, {__VA_ARGS__}));                                    \
  } while (false)

} // namespace

TEST_CASE("a flow that follows every rule has no errors") {
  auto errors = errors_of(
    flow_with(R"([{"action": "validate_order_header", "name": "A"}])"));
  CHECK(errors.empty());
}

TEST_CASE("a splitter that does not merge must be the last step") {
  auto errors = errors_of(flow_with(
    R"([{"action": "validate_order_header", "name": "A"},
        {"element": "splitter", "name": "Fan out", "branches": [
          {"name": "one", "steps": [{"action": "send_to_dom", "name": "D1"}]},
          {"name": "two", "steps": [{"action": "send_to_dom", "name": "D2"}]}]},
        {"action": "send_to_dom", "name": "After"}])"));
  CHECK_ERROR(errors,
              "flow.json: steps[1] \"Fan out\": a splitter that does "
              "not merge must be the last step of its sequence");
}

TEST_CASE("a condition that does not merge must be the last step") {
  auto errors = errors_of(flow_with(
    R"([{"action": "validate_order_header", "name": "A"},
        {"element": "condition", "name": "Ok?", "yes": [], "no": []},
        {"action": "send_to_dom", "name": "After"}])"));
  CHECK_ERROR(errors, "steps[1] \"Ok?\"",
              "a condition that does not merge "
              "must be the last step");
}

TEST_CASE("merging elements may be followed by more steps") {
  auto errors = errors_of(flow_with(
    R"([{"action": "validate_order_header", "name": "A"},
        {"element": "condition_merge", "name": "Ok?", "yes": [], "no": []},
        {"element": "splitter_merge", "name": "Fan", "branches": [
          {"name": "one", "steps": [{"action": "send_to_dom", "name": "D1"}]},
          {"name": "two", "steps": [{"action": "send_to_dom", "name": "D2"}]}]},
        {"action": "send_to_invoice", "name": "After"}])"));
  CHECK(errors.empty());
}

TEST_CASE("a condition cannot be the first step of a sequence") {
  SECTION("at top level") {
    auto errors = errors_of(flow_with(
      R"([{"element": "condition", "name": "First", "yes": [], "no": []}])"));
    CHECK_ERROR(errors, "steps[0] \"First\"",
                "cannot be the first step of a sequence");
  }
  SECTION("inside a branch") {
    auto errors = errors_of(flow_with(
      R"([{"action": "validate_order_header", "name": "A"},
          {"element": "condition", "name": "Ok?", "no": [
            {"element": "condition_merge", "name": "Inner", "yes": [], "no": []}]}])"));
    CHECK_ERROR(errors, "steps[1] \"Ok?\".no[0] \"Inner\"",
                "cannot be the first step of a sequence");
  }
}

TEST_CASE("a splitter needs at least two branches") {
  auto errors = errors_of(flow_with(
    R"([{"element": "splitter", "name": "Lonely", "branches": [
          {"name": "one", "steps": [{"action": "send_to_dom", "name": "D1"}]}]}])"));
  CHECK_ERROR(errors, "steps[0] \"Lonely\".branches", "at least 2 branches");
}

TEST_CASE("branch names are unique within a splitter") {
  auto errors = errors_of(flow_with(
    R"([{"element": "splitter", "name": "Fan", "branches": [
          {"name": "same", "steps": [{"action": "send_to_dom", "name": "D1"}]},
          {"name": "same", "steps": [{"action": "send_to_dom", "name": "D2"}]}]}])"));
  CHECK_ERROR(errors, "steps[0] \"Fan\".branches[1] \"same\"",
              "branch name \"same\" is already used");
}

TEST_CASE("every branch starts with an action") {
  SECTION("a branch that starts with an element") {
    auto errors = errors_of(flow_with(
      R"([{"element": "splitter", "name": "Fan", "branches": [
            {"name": "one", "steps": [{"action": "send_to_dom", "name": "D1"}]},
            {"name": "two", "steps": [
              {"element": "splitter_merge", "name": "Inner", "branches": [
                {"name": "x", "steps": [{"action": "send_to_dom", "name": "D2"}]},
                {"name": "y", "steps": [{"action": "send_to_dom", "name": "D3"}]}]}]}]}])"));
    CHECK_ERROR(errors, "steps[0] \"Fan\".branches[1] \"two\".steps",
                "a branch must start with an action");
  }
  SECTION("an empty branch") {
    auto errors = errors_of(flow_with(
      R"([{"element": "splitter", "name": "Fan", "branches": [
            {"name": "one", "steps": [{"action": "send_to_dom", "name": "D1"}]},
            {"name": "two", "steps": []}]}])"));
    CHECK_ERROR(errors, "branches[1] \"two\".steps",
                "a branch must start with an action");
  }
}

TEST_CASE("yes and no may be empty lists") {
  auto errors = errors_of(flow_with(
    R"([{"action": "validate_order_header", "name": "A"},
        {"element": "condition", "name": "Ok?", "yes": [], "no": []}])"));
  CHECK(errors.empty());
}

TEST_CASE(
  "assign_fulfillment_source needs exactly one fulfillment_source policy") {
  SECTION("none") {
    auto errors = errors_of(flow_with(
      R"([{"action": "assign_fulfillment_source", "name": "Pick"}])"));
    CHECK_ERROR(errors, "steps[0] \"Pick\"", "exactly one fulfillment_source");
  }
  SECTION("two") {
    auto errors = errors_of(flow_with(
      R"([{"action": "assign_fulfillment_source", "name": "Pick",
           "execution_policies": ["Source", "Source 2"]}])"));
    CHECK_ERROR(errors, "steps[0] \"Pick\"", "exactly one fulfillment_source");
  }
  SECTION("one") {
    auto errors = errors_of(flow_with(
      R"([{"action": "assign_fulfillment_source", "name": "Pick",
           "execution_policies": ["Source"]}])"));
    CHECK(errors.empty());
  }
}

TEST_CASE("validation actions take only policies of their own kind") {
  SECTION("header validation with a line policy") {
    auto errors = errors_of(flow_with(
      R"([{"action": "validate_order_header", "name": "H", "execution_policies": ["Line"]}])"));
    CHECK_ERROR(errors, "steps[0] \"H\".execution_policies[0]",
                "\"Line\" (line_validation) does not fit action "
                "validate_order_header");
  }
  SECTION("line validation with a header policy") {
    auto errors = errors_of(flow_with(
      R"([{"action": "validate_order_line", "name": "L", "execution_policies": ["Header"]}])"));
    CHECK_ERROR(errors, "steps[0] \"L\".execution_policies[0]",
                "does not fit action validate_order_line");
  }
  SECTION("a provider action with any execution policy") {
    auto errors = errors_of(flow_with(
      R"([{"action": "send_to_dom", "name": "D", "execution_policies": ["Source"]}])"));
    CHECK_ERROR(errors, "steps[0] \"D\".execution_policies[0]",
                "does not fit action send_to_dom");
  }
}

TEST_CASE("policy references must exist") {
  auto errors = errors_of(flow_with(
    R"([{"action": "validate_order_header", "name": "H",
         "filter_policies": ["Nope"], "execution_policies": ["Missing"]}])"));
  CHECK_ERROR(errors, "steps[0] \"H\".filter_policies[0]",
              "no filter policy named \"Nope\"");
  CHECK_ERROR(errors, "steps[0] \"H\".execution_policies[0]",
              "no execution policy named \"Missing\"");
}

TEST_CASE("a custom action needs a provider, which defaults for the others") {
  auto parsed = parse_flow(flow_with(R"([{"action": "custom", "name": "C"}])"));
  CHECK_ERROR(parsed.errors.lines("flow.json"), "steps[0] \"C\"",
              "a custom action needs a \"provider\"");
  auto ok = parse_flow(flow_with(
    R"([{"action": "send_to_invoice", "name": "Bill"},
        {"action": "send_to_dom", "name": "Dom", "provider": "my-dom"}])"));
  REQUIRE(ok.model);
  CHECK(ok.model->find_step("Bill")->provider == "billing");
  CHECK(ok.model->find_step("Dom")->provider == "my-dom");
}

TEST_CASE("provider references are checked against registered providers") {
  auto parsed = parse_flow(flow_with(
    R"([{"action": "custom", "name": "C", "provider": "notify"},
        {"action": "send_to_dom", "name": "D"}])"));
  REQUIRE(parsed.model);
  auto missing = check_providers(*parsed.model, {"dom"});
  auto lines = missing.lines("");
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find("step \"C\"") != std::string::npos);
  CHECK(lines[0].find("provider \"notify\" is not registered")
        != std::string::npos);
  CHECK(check_providers(*parsed.model, {"dom", "notify"}).empty());
}

TEST_CASE("step names are unique within the flow") {
  auto errors = errors_of(flow_with(
    R"([{"action": "validate_order_header", "name": "Same"},
        {"element": "condition_merge", "name": "Ok?", "yes": [
          {"action": "send_to_dom", "name": "Same"}]}])"));
  CHECK_ERROR(errors, "steps[1] \"Ok?\".yes[0] \"Same\"",
              "step name \"Same\" is already used by steps[0] \"Same\"");
}

TEST_CASE("policy names are unique") {
  auto errors = errors_of(R"({"name": "P", "type": "order",
    "policies": {"filter": [
      {"name": "F", "when": {"field": "a", "op": "exists"}},
      {"name": "F", "when": {"field": "b", "op": "exists"}}]},
    "steps": [{"action": "send_to_dom", "name": "D"}]})");
  CHECK_ERROR(errors, "policies.filter[1] \"F\"",
              "filter policy name \"F\" is already used");
}

TEST_CASE("unknown fields are errors that name the field") {
  SECTION("at the top") {
    auto errors = errors_of(R"({"name": "P", "type": "order", "stepz": [],
      "steps": [{"action": "send_to_dom", "name": "D"}]})");
    CHECK_ERROR(errors, "flow.json: stepz: unknown field \"stepz\"");
  }
  SECTION("in a step") {
    auto errors = errors_of(
      flow_with(R"([{"action": "send_to_dom", "name": "D", "retries": 3}])"));
    CHECK_ERROR(errors, "steps[0] \"D\".retries: unknown field \"retries\"");
  }
  SECTION("in a predicate") {
    auto errors = errors_of(R"({"name": "P", "type": "order",
      "policies": {"filter": [{"name": "F", "when": {"field": "a", "op": "eq", "valeu": 1}}]},
      "steps": [{"action": "send_to_dom", "name": "D"}]})");
    CHECK_ERROR(errors, "policies.filter[0] \"F\".when.valeu",
                "unknown field \"valeu\"");
  }
  SECTION("in retry") {
    auto errors = errors_of(flow_with(
      R"([{"action": "send_to_dom", "name": "D", "retry": {"attempts": 3}}])"));
    CHECK_ERROR(errors, "steps[0] \"D\".retry.attempts: unknown field");
  }
}

TEST_CASE("the header fields are checked") {
  SECTION("type must be order") {
    auto errors = errors_of(R"({"name": "P", "type": "return",
      "steps": [{"action": "send_to_dom", "name": "D"}]})");
    CHECK_ERROR(errors, "type: unsupported orchestration type \"return\"",
                "supported: \"order\"");
  }
  SECTION("name must be 1 to 128 bytes") {
    auto long_name = std::string(129, 'x');
    auto errors = errors_of(R"({"name": ")" + long_name + R"(", "type": "order",
      "steps": [{"action": "send_to_dom", "name": "D"}]})");
    CHECK_ERROR(errors, "name: 129 bytes is over the limit of 128 bytes");
    auto empty = errors_of(R"({"name": "", "type": "order",
      "steps": [{"action": "send_to_dom", "name": "D"}]})");
    CHECK_ERROR(empty, "name: must not be empty");
  }
  SECTION("a flow needs steps") {
    auto errors = errors_of(R"({"name": "P", "type": "order", "steps": []})");
    CHECK_ERROR(errors, "steps: a flow needs at least one step");
  }
}

TEST_CASE("all errors of a file are reported in one pass") {
  auto errors = errors_of(R"({"name": "P", "type": "x", "extra": 1,
    "steps": [{"action": "teleport", "name": "T"},
              {"element": "condition", "name": "C", "yes": []},
              {"action": "send_to_dom", "name": "D", "timeout_ms": -1}]})");
  CHECK(errors.size() >= 5);
  CHECK_ERROR(errors, "type: unsupported");
  CHECK_ERROR(errors, "extra: unknown field");
  CHECK_ERROR(errors, "steps[0] \"T\".action: unknown action \"teleport\"");
  CHECK_ERROR(errors, "steps[1] \"C\": a condition that does not merge");
  CHECK_ERROR(errors, "steps[2] \"D\".timeout_ms: must be a whole number");
}

TEST_CASE("text that is not JSON gets a parse error with line and column") {
  auto errors = errors_of("{\n  \"name\": \"x\",\n  \"type\" \"order\"\n}");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("flow.json: line 3, column 10") != std::string::npos);
}

TEST_CASE("retry defaults and backoff grow exponentially up to the cap") {
  auto parsed = parse_flow(flow_with(
    R"([{"action": "send_to_dom", "name": "D", "retry": {"backoff_ms": 100, "max_backoff_ms": 350}}])"));
  REQUIRE(parsed.model);
  const auto& retry = *parsed.model->find_step("D")->retry;
  CHECK(retry.max_attempts == 3);
  CHECK(retry.delay_before(2) == 100);
  CHECK(retry.delay_before(3) == 200);
  CHECK(retry.delay_before(4) == 350);
  CHECK(retry.delay_before(30) == 350);
}

TEST_CASE(
  "wait_timeout_ms needs input_events and retries need a provider action") {
  auto errors = errors_of(flow_with(
    R"([{"action": "send_to_dom", "name": "D", "wait_timeout_ms": 10},
        {"action": "validate_order_line", "name": "V", "timeout_ms": 5}])"));
  CHECK_ERROR(errors, "steps[0] \"D\".wait_timeout_ms",
              "only an action with input_events waits");
  CHECK_ERROR(errors, "steps[1] \"V\".timeout_ms", "provider actions only");
}

TEST_CASE("a flow over a limit of SPEC 8 is refused naming the limit") {
  SECTION("more than 100 attempts, or no back-off") {
    auto errors = errors_of(flow_with(
      R"([{"action": "send_to_dom", "name": "D", "retry": {"max_attempts": 101, "backoff_ms": 0}}])"));
    CHECK_ERROR(errors, "steps[0] \"D\".retry.max_attempts",
                "101 is over the limit of 100 attempts");
    CHECK_ERROR(errors, "steps[0] \"D\".retry.backoff_ms",
                "must be a whole number from 1");
  }
  SECTION("a step name or provider id over 128 bytes") {
    auto long_name = std::string(200, 'n');
    auto errors =
      errors_of(flow_with(R"([{"action": "custom", "name": ")" + long_name
                          + R"(", "provider": ")" + long_name + R"("}])"));
    CHECK_ERROR(errors, ".name: 200 bytes is over the limit of 128 bytes");
    CHECK_ERROR(errors, ".provider: 200 bytes is over the limit of 128 bytes");
  }
  SECTION("JSON nested deeper than 64 levels") {
    auto errors = errors_of(
      flow_with(R"([{"action": "send_to_dom", "name": "D"}], "x": )"
                + std::string(100000, '[') + std::string(100000, ']')));
    CHECK_ERROR(errors, "nests JSON deeper than the limit of 64 levels");
  }
  SECTION("more steps than the limit") {
    limits lim;
    lim.flow_steps = 2;
    auto parsed =
      parse_flow(flow_with(R"([{"action": "send_to_dom", "name": "A"},
                    {"action": "send_to_dom", "name": "B"},
                    {"action": "send_to_dom", "name": "C"}])"),
                 lim);
    CHECK_ERROR(parsed.errors.lines("flow.json"),
                "steps: 3 steps is over the limit of 2 steps");
  }
  SECTION("a document larger than the limit") {
    limits lim;
    lim.flow_bytes = 100;
    auto parsed =
      parse_flow(flow_with(R"([{"action": "send_to_dom", "name": "A"}])"), lim);
    CHECK_ERROR(parsed.errors.lines("flow.json"),
                "is over the limit of 100 bytes");
  }
}
