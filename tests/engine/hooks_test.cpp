#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>

#include "engine/hooks.hpp"
#include "engine/node_config.hpp"

using namespace orca;

TEST_CASE("a node config's hooks are read and checked") {
  ::setenv("ORCA_TEST_HOOK_SECRET", "s3cret", 1);
  auto config = node_config::parse(R"({"hooks": {
      "ops": {"url": "http://127.0.0.1:9000/orca",
              "on": ["step_ended", "journey_ended"],
              "flows": ["Order to invoice"],
              "secret_env": "ORCA_TEST_HOOK_SECRET"},
      "all": {"url": "https://hooks.example/in", "on": ["step_started",
              "step_ended", "journey_state", "journey_ended"]}}})",
                                   "node.json");
  REQUIRE(config);
  REQUIRE(config->hooks.size() == 2);
  const auto& ops = config->hooks.at("ops");
  CHECK(ops.kinds == (hook_step_ended | hook_journey_ended));
  CHECK(ops.flows == std::vector<std::string>{"Order to invoice"});
  CHECK(ops.secret == "s3cret");
  CHECK(ops.endpoint->url() == "http://127.0.0.1:9000/orca");
  CHECK(config->hooks.at("all").kinds == 15);
  CHECK(config->hooks.at("all").secret.empty());

  auto bad = node_config::parse(R"({"hooks": {
      "a": {"on": ["step_ended"]},
      "b": {"url": "ftp://x", "on": ["step_ended"]},
      "c": {"url": "http://h/", "on": ["step_done"]},
      "d": {"url": "http://h/", "on": []},
      "e": {"url": "http://h/", "on": ["step_ended"], "flows": "F"},
      "f": {"url": "http://h/", "on": ["step_ended"], "retries": 3}}})",
                                "node.json");
  REQUIRE_FALSE(bad);
  CHECK(bad.error() == errc::invalid_config);
  auto msg = describe(bad.error());
  INFO(msg);
  auto has = [&msg](const std::string& text) {
    return msg.find(text) != std::string::npos;
  };
  CHECK(has("hooks.\"a\".url: a hook needs a \"url\" string"));
  CHECK(has("hooks.\"b\".url: url \"ftp://x\": only http:// and https://"));
  CHECK(has("hooks.\"c\".on: unknown kind \"step_done\""));
  CHECK(has("hooks.\"d\".on: must list what the hook is told of"));
  CHECK(has("hooks.\"e\".flows: must be a list of flow names"));
  CHECK(has("hooks.\"f\".retries: unknown field"));

  // A secret the environment lacks is how the node was started: orcad
  // exits 2 for it, not 3.
  ::unsetenv("ORCA_TEST_UNSET_HOOK_SECRET");
  auto unset = node_config::parse(
    R"({"hooks": {"ops": {"url": "http://h/", "on": ["journey_ended"],
                          "secret_env": "ORCA_TEST_UNSET_HOOK_SECRET"}}})",
    "node.json");
  REQUIRE_FALSE(unset);
  CHECK(unset.error() == errc::invalid_argument);
  CHECK(describe(unset.error())
        == "node.json: hooks.\"ops\".secret_env: the environment variable "
           "\"ORCA_TEST_UNSET_HOOK_SECRET\" is not set (or empty)");
}

TEST_CASE("outbox keys sort by hook, then by sequence number") {
  auto a = outbox_key("ops", 1);
  auto b = outbox_key("ops", 256);
  auto c = outbox_key("ops2", 0);
  CHECK(a.size() == 3 + 1 + 8);
  CHECK(a < b);
  CHECK(b < c); // "ops\0" sorts before "ops2"
}
