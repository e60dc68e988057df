// A remote provider in a process of its own: it registers with the node
// and serves custom actions; killed, its steps retry; restarted, they
// finish.

#include <catch2/catch.hpp>

#include <thread>

#include "support/node_process.hpp"
#include "support/wait.hpp"

using namespace orca::test;

namespace {

const char* remote_flow = R"({"name": "Remote", "type": "order", "steps": [
  {"action": "custom", "name": "Tell", "provider": "notify",
   "retry": {"max_attempts": 100, "backoff_ms": 50, "max_backoff_ms": 200}}]})";

bool journey_has(const node_process& node, const std::string& order,
                 const std::string& text) {
  auto r = node.ctl_json({"journey", "show", order});
  return r.exit_code == 0 && r.out.find(text) != std::string::npos;
}

void wait_until(const std::function<bool()>& pred, const char* what) {
  if (!eventually(pred, std::chrono::seconds(20),
                  std::chrono::milliseconds(20)))
    FAIL("timed out waiting until " << what);
}

std::unique_ptr<child_process>
start_provider(const node_process& node, std::vector<std::string> more = {}) {
  std::vector<std::string> args{ORCA_PROVIDER_PATH, "--node", node.address(),
                                "--id", "notify"};
  args.insert(args.end(), more.begin(), more.end());
  auto p = std::make_unique<child_process>(std::move(args));
  REQUIRE_FALSE(p->wait_for_line("serving notify").empty());
  return p;
}

} // namespace

TEST_CASE("a remote provider process serves custom actions, which retry while "
          "it is gone and finish once it is back") {
  node_process node{R"({"providers": {"notify": {"kind": "remote"}}})"};
  node.dir().write("remote.json", remote_flow);
  REQUIRE(node.ctl({"flow", "create", node.dir().file("remote.json")}).exit_code
          == 0);
  REQUIRE(node.ctl({"flow", "publish", "Remote"}).exit_code == 0);
  auto before = node.ctl_json({"provider", "list"});
  CHECK(before.out.find(R"({"id":"notify","kind":"remote","connected":false})")
        != std::string::npos);

  auto provider = start_provider(node);
  CHECK(node.ctl_json({"provider", "list"})
          .out.find(R"({"id":"notify","kind":"remote","connected":true})")
        != std::string::npos);
  REQUIRE(
    node.ctl({"order", "submit", "-"}, "{\"id\": \"R-1\", \"lines\": []}\n")
      .exit_code
    == 0);
  wait_until(
    [&] { return journey_has(node, "R-1", "\"state\":\"completed\""); },
    "R-1 completes");
  CHECK(provider->wait_for_line("key R-1/Remote/1/Tell") != "");

  provider->kill(SIGKILL);
  provider->wait();
  REQUIRE(
    node.ctl({"order", "submit", "-"}, "{\"id\": \"R-2\", \"lines\": []}\n")
      .exit_code
    == 0);
  // Without its provider the step fails and is tried again.
  wait_until(
    [&] {
      return journey_has(node, "R-2",
                         "provider failed (node_unreachable): remote provider");
    },
    "R-2's step fails for want of its provider");
  CHECK(journey_has(node, "R-2", "\"state\":\"running\""));

  // Back, it fails every first attempt, and says of what kind.
  provider = start_provider(
    node, {"--fail-first", "1", "--fail-kind", "provider_timeout"});
  wait_until(
    [&] { return journey_has(node, "R-2", "\"state\":\"completed\""); },
    "R-2 completes once the provider is back");
  auto shown = node.ctl_json({"journey", "show", "R-2"});
  CHECK(shown.out.find("\"name\":\"Tell\",\"action\":\"custom\",\"path\":\"\","
                       "\"outcome\":\"succeeded\"")
        != std::string::npos);
  CHECK(shown.out.find("\"attempts\":1,") == std::string::npos);
  CHECK(provider->wait_for_line("key R-2/Remote/1/Tell") != "");

  REQUIRE(
    node.ctl({"order", "submit", "-"}, "{\"id\": \"R-3\", \"lines\": []}\n")
      .exit_code
    == 0);
  wait_until(
    [&] { return journey_has(node, "R-3", "\"state\":\"completed\""); },
    "R-3 completes at its second attempt");
  CHECK(journey_has(
    node, "R-3", "provider failed (provider_timeout): failing attempt 1 of 1"));
}
