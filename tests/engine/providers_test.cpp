// Providers reached from journeys: http against a real server on
// 127.0.0.1, embedded callables, and the node config that registers them.

#include <atomic>
#include <map>
#include <mutex>
#include <set>

#include "support/engine_fixture.hpp"
#include "support/http_server.hpp"

using namespace orca;
using namespace orca::test;

namespace {

std::string erp_flow(const std::string& extra = "") {
  return R"({"name": "ERP", "type": "order", "steps": [
    {"action": "send_to_invoice", "name": "Bill", "provider": "erp")"
    + extra + "}]}";
}

node_config http_config(const http_server& server, uint32_t timeout_ms) {
  node_config config;
  provider_config p;
  p.kind = provider_kind::http;
  p.http.url = server.url("/bill");
  p.http.timeout_ms = timeout_ms;
  config.providers["erp"] = p;
  return config;
}

const char* the_order = R"({"id": "H-1", "lines": [{"id": "1"}]})";

} // namespace

TEST_CASE("an http provider gets the request as JSON and its answer is used") {
  http_server server;
  server.answer("/bill", {200, R"({"invoice_id": "INV-77"})"});
  engine_fixture fx{http_config(server, 2000), true};
  fx.publish(erp_flow());
  REQUIRE(fx.submit(the_order).status == submit_status::accepted);
  auto r = fx.wait_terminal("H-1", "ERP");
  CHECK(r.state == journey_state::completed);
  CHECK(r.invoice_id == std::optional<std::string>{"INV-77"});
  auto requests = server.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].method == "POST");
  CHECK(requests[0].idempotency_key() == "H-1/ERP/1/Bill");
  json_document body;
  body.Parse(requests[0].body.c_str());
  REQUIRE(body.IsObject());
  CHECK(view_of(body["action"]) == "send_to_invoice");
  CHECK(view_of(body["order"]["id"]) == "H-1");
  CHECK(body["attempt"].GetUint() == 1);
}

TEST_CASE("an http provider's 5xx answer is retried with the same key") {
  http_server server;
  std::atomic<int> calls{0};
  server.answer_with("/bill", [&](const http_request_record&) {
    if (++calls < 3)
      return http_answer{503, "busy"};
    return http_answer{200, R"({"invoice_id": "INV-3"})"};
  });
  engine_fixture fx{http_config(server, 2000), true};
  fx.publish(erp_flow(R"(, "retry": {"max_attempts": 4, "backoff_ms": 10})"));
  REQUIRE(fx.submit(the_order).status == submit_status::accepted);
  auto r = fx.wait_terminal("H-1", "ERP");
  CHECK(r.state == journey_state::completed);
  CHECK(r.steps[0].attempts == 3);
  CHECK(r.invoice_id == std::optional<std::string>{"INV-3"});
  auto requests = server.requests();
  REQUIRE(requests.size() == 3);
  for (const auto& req : requests)
    CHECK(req.idempotency_key() == "H-1/ERP/1/Bill");
}

TEST_CASE("an http provider that does not answer in time fails the attempt") {
  http_server server;
  server.answer(
    "/bill",
    {200, R"({"invoice_id": "late"})", std::chrono::milliseconds(3000)});
  engine_fixture fx{http_config(server, 150), true};
  fx.publish(erp_flow(R"(, "retry": {"max_attempts": 2, "backoff_ms": 10})"));
  REQUIRE(fx.submit(the_order).status == submit_status::accepted);
  auto r = fx.wait_terminal("H-1", "ERP");
  CHECK(r.state == journey_state::failed);
  CHECK(r.steps[0].attempts == 2);
  REQUIRE(r.steps[0].error);
  CHECK(r.steps[0].error->find("timed out after 150 ms") != std::string::npos);
  CHECK_FALSE(r.invoice_id);
}

TEST_CASE(
  "a provider call whose step sets no timeout_ms gets the node's default") {
  auto config = node_config::parse(R"({"providers": {
    "erp": {"kind": "simulated", "latency_ms": 5000}},
    "defaults": {"timeout_ms": 150}})",
                                   "node.json");
  REQUIRE(config);
  CHECK(config->default_timeout_ms == 150);
  engine_fixture fx{*config, true};
  fx.publish(erp_flow(R"(, "retry": {"max_attempts": 2, "backoff_ms": 10})"));
  REQUIRE(fx.submit(the_order).status == submit_status::accepted);
  auto r = fx.wait_terminal("H-1", "ERP");
  CHECK(r.state == journey_state::failed);
  CHECK(r.steps[0].attempts == 2);
  REQUIRE(r.steps[0].error);
  CHECK(r.steps[0].error->find("timed out after 150 ms") != std::string::npos);
}

TEST_CASE(
  "a node's default provider time-out is 30 s and must be a positive number") {
  auto none = node_config::parse("{}", "node.json");
  REQUIRE(none);
  CHECK(none->default_timeout_ms == 30000);
  for (auto bad : {R"({"defaults": {"timeout_ms": 0}})",
                   R"({"defaults": {"timeout_ms": "soon"}})"}) {
    auto config = node_config::parse(bad, "node.json");
    REQUIRE_FALSE(config);
    CHECK(describe(config.error())
            .find("node.json: defaults.timeout_ms: must be a "
                  "whole number of milliseconds")
          != std::string::npos);
  }
  auto unknown =
    node_config::parse(R"({"defaults": {"latency_ms": 1}})", "node.json");
  REQUIRE_FALSE(unknown);
  CHECK(describe(unknown.error())
          .find("node.json: defaults.latency_ms: unknown field")
        != std::string::npos);
}

TEST_CASE("an http answer over the configured answer_bytes fails the attempt") {
  http_server server;
  std::string padded =
    R"({"invoice_id": "INV-9", "note": ")" + std::string(300, 'n') + R"("})";
  server.answer("/bill", {200, padded});
  auto config = http_config(server, 2000);
  config.limits.answer_bytes = 256;
  engine_fixture fx{config, true};
  fx.publish(erp_flow());
  REQUIRE(fx.submit(the_order).status == submit_status::accepted);
  auto r = fx.wait_terminal("H-1", "ERP");
  CHECK(r.state == journey_state::failed);
  REQUIRE(r.steps[0].error);
  CHECK(r.steps[0].error->find("256") != std::string::npos);
  CHECK(r.steps[0].error_code == "limit_exceeded");
  CHECK_FALSE(r.invoice_id);
}

TEST_CASE("an embedded provider is a C++ callable registered on the engine") {
  engine_fixture fx;
  std::atomic<int> calls{0};
  REQUIRE_FALSE(fx.engine->register_embedded_provider(
    "erp", [&](const provider_request& req) {
      ++calls;
      if (req.attempt == 1)
        throw std::runtime_error("first call breaks");
      provider_reply reply;
      reply.ok = true;
      reply.invoice_id = "E-" + req.order->id() + "-" + req.step;
      return reply;
    }));
  fx.publish(erp_flow(R"(, "retry": {"max_attempts": 2, "backoff_ms": 10})"));
  REQUIRE(fx.submit(the_order).status == submit_status::accepted);
  auto r = fx.wait_terminal("H-1", "ERP");
  CHECK(r.state == journey_state::completed);
  CHECK(r.invoice_id == std::optional<std::string>{"E-H-1-Bill"});
  CHECK(calls == 2);
  CHECK(r.steps[0].attempts == 2);
}

TEST_CASE("a provider that is not registered cannot be published") {
  engine_fixture fx;
  REQUIRE(fx.engine->create_flow(erp_flow()));
  auto v = fx.engine->publish_flow("ERP");
  REQUIRE_FALSE(v);
  CHECK(v.error() == errc::unknown_provider);
  auto ids = fx.engine->providers();
  REQUIRE(ids.size() == 4);
  CHECK(ids[0].id == "billing");
  CHECK(ids[0].kind == "simulated");
}

TEST_CASE("a node config registers providers and keeps the other defaults") {
  auto config = node_config::parse(R"({"providers": {
    "fulfillment": {"kind": "simulated", "fail_first_attempts": 2},
    "notify": {"kind": "simulated", "latency_ms": 5,
               "fail_when": {"field": "vip", "op": "eq", "value": true}},
    "erp": {"kind": "http", "url": "http://127.0.0.1:8080/orders", "timeout_ms": 2000}
  }})",
                                   "node.json");
  REQUIRE(config);
  REQUIRE(config->providers.size() == 3);
  CHECK(config->providers["fulfillment"].simulated.fail_first_attempts == 2);
  CHECK(config->providers["notify"].simulated.fail_when);
  CHECK(config->providers["erp"].kind == provider_kind::http);
  CHECK(config->providers["erp"].http.timeout_ms == 2000);
  engine_fixture fx{*config};
  std::vector<std::string> ids;
  for (const auto& p : fx.engine->providers())
    ids.push_back(p.id + ":" + p.kind);
  CHECK(ids
        == std::vector<std::string>{
          "billing:simulated", "dom:simulated", "erp:http", "fno:simulated",
          "fulfillment:simulated", "notify:simulated"});
}

TEST_CASE("a broken node config is refused with every problem named") {
  auto config = node_config::parse(R"({"providers": {
    "a": {"kind": "telepathy"},
    "b": {"kind": "http"},
    "c": {"kind": "simulated", "latency": 3},
    "d": {"kind": "http", "url": "ftp://x"},
    "f": {"kind": "http", "url": "https://h", "ca_file": "/nonexistent/ca.pem"},
    "g": {"kind": "http", "url": "http://h", "ca_file": "/etc/hostname"},
    "h": {"kind": "http", "url": "https://h", "ca_file": 7}
  }, "extra": 1})",
                                   "node.json");
  REQUIRE_FALSE(config);
  CHECK(config.error() == errc::invalid_config);
  auto msg = describe(config.error());
  CHECK(msg.find("node.json: extra: unknown field") != std::string::npos);
  CHECK(
    msg.find(
      "node.json: providers.\"a\".kind: unknown provider kind \"telepathy\"")
    != std::string::npos);
  CHECK(msg.find("node.json: providers.\"b\": an http provider needs a \"url\"")
        != std::string::npos);
  CHECK(msg.find("node.json: providers.\"c\".latency: unknown field")
        != std::string::npos);
  CHECK(msg.find("providers.\"d\".url: url \"ftp://x\": only http:// and "
                 "https:// URLs are supported")
        != std::string::npos);
  CHECK(msg.find("providers.\"f\".ca_file: ca_file \"/nonexistent/ca.pem\": ")
        != std::string::npos);
  CHECK(msg.find("providers.\"g\".ca_file: ca_file is for https:// URLs, "
                 "and url \"http://h\" is http://")
        != std::string::npos);
  CHECK(msg.find("providers.\"h\".ca_file: must be the path of a PEM file")
        != std::string::npos);
  auto not_json = node_config::parse("{", "node.json");
  REQUIRE_FALSE(not_json);
  CHECK(describe(not_json.error()).find("node.json: line 1, column 2")
        != std::string::npos);
}

TEST_CASE("the simulated DOM makes one fulfillment order per ship_from value") {
  simulated_config sim;
  engine_fixture fx;
  fx.publish(R"({"name": "DOM", "type": "order", "steps": [
    {"action": "send_to_dom", "name": "Route"},
    {"action": "send_to_fulfillment", "name": "Ship"}]})");
  REQUIRE(fx.submit(R"({"id": "D-1", "lines": [
    {"id": "1", "ship_from": "WH-A"}, {"id": "2", "ship_from": "WH-B"},
    {"id": "3", "ship_from": "WH-A"}, {"id": "4"}]})")
            .status
          == submit_status::accepted);
  auto r = fx.wait_terminal("D-1", "DOM");
  CHECK(r.state == journey_state::completed);
  REQUIRE(r.fulfillment_orders.size() == 3);
  CHECK(r.fulfillment_orders[0].source == "WH-A");
  CHECK(r.fulfillment_orders[0].lines == std::vector<std::string>{"1", "3"});
  CHECK(r.fulfillment_orders[1].source == "WH-B");
  CHECK(r.fulfillment_orders[2].source == "DEFAULT");
  CHECK(r.fulfillment_orders[2].lines == std::vector<std::string>{"4"});
  for (const auto& fo : r.fulfillment_orders)
    CHECK(fo.sent);
  SECTION("with nothing to send, send_to_fulfillment is skipped") {
    fx.publish(R"({"name": "Nothing", "type": "order", "steps": [
      {"action": "send_to_fulfillment", "name": "Ship"}]})");
    REQUIRE(fx.submit(R"({"id": "D-2", "lines": []})").status
            == submit_status::accepted);
    auto nothing = fx.wait_terminal("D-2", "Nothing");
    CHECK(nothing.state == journey_state::skipped);
    CHECK(nothing.steps[0].outcome == step_outcome::skipped);
  }
}

TEST_CASE(
  "the simulated provider fails orders matching fail_when on every attempt") {
  auto config =
    node_config::parse(R"({"providers": {"notify": {"kind": "simulated",
    "fail_when": {"field": "vip", "op": "eq", "value": true}}}})",
                       "n.json");
  REQUIRE(config);
  engine_fixture fx{*config};
  fx.publish(R"({"name": "N", "type": "order", "steps": [
    {"action": "custom", "name": "Tell", "provider": "notify",
     "retry": {"max_attempts": 3, "backoff_ms": 1}}]})");
  REQUIRE(fx.submit(R"({"id": "V-1", "vip": true, "lines": []})").status
          == submit_status::accepted);
  REQUIRE(fx.submit(R"({"id": "V-2", "vip": false, "lines": []})").status
          == submit_status::accepted);
  auto vip = fx.wait_terminal("V-1", "N");
  CHECK(vip.state == journey_state::failed);
  CHECK(vip.steps[0].attempts == 3);
  CHECK(vip.steps[0].error
        == std::optional<std::string>{
          "simulated failure: the order matches fail_when"});
  CHECK(fx.wait_terminal("V-2", "N").state == journey_state::completed);
}

TEST_CASE(
  "a provider sees only the lines in scope and may not answer for others") {
  engine_fixture fx;
  std::mutex mutex;
  std::vector<std::string> seen_lines;
  std::vector<std::string> asked;
  std::string customer;
  bool stray = GENERATE(false, true);
  REQUIRE_FALSE(fx.engine->register_embedded_provider(
    "dom", [&](const provider_request& req) {
      {
        std::lock_guard<std::mutex> guard{mutex};
        seen_lines.clear();
        for (std::size_t i = 0; i < req.order->line_count(); ++i)
          seen_lines.emplace_back(req.order->line_id(i));
        asked = req.line_ids;
        customer = std::string{view_of(req.order->header()["customer"])};
      }
      provider_reply reply;
      reply.ok = true;
      reply.fulfillment.push_back({"WH-1", {stray ? "2" : "1"}});
      return reply;
    }));
  fx.publish(R"({"name": "Scoped", "type": "order",
    "policies": {"filter": [
      {"name": "Physical", "scope": "line",
       "when": {"field": "kind", "op": "ne", "value": "gift_card"}}]},
    "steps": [
      {"action": "send_to_dom", "name": "Source", "provider": "dom",
       "filter_policies": ["Physical"]}]})");
  REQUIRE(fx.submit(R"({"id": "S-1", "customer": "C-9", "lines": [
    {"id": "1", "kind": "box"}, {"id": "2", "kind": "gift_card"}]})")
            .status
          == submit_status::accepted);
  auto r = fx.wait_terminal("S-1", "Scoped");
  {
    std::lock_guard<std::mutex> guard{mutex};
    CHECK(seen_lines == std::vector<std::string>{"1"});
    CHECK(asked == std::vector<std::string>{"1"});
    CHECK(customer == "C-9"); // the header as it was
  }
  if (!stray) {
    CHECK(r.state == journey_state::completed);
    REQUIRE(r.fulfillment_orders.size() == 1);
    CHECK(r.fulfillment_orders[0].lines == std::vector<std::string>{"1"});
  } else {
    CHECK(r.state == journey_state::failed);
    CHECK(r.steps[0].error
          == std::optional<std::string>{
            "the provider's answer names line \"2\", which is not among the "
            "lines sent to it"});
    CHECK(r.fulfillment_orders.empty());
  }
}

TEST_CASE(
  "a fulfillment order is sent by a step whose scope holds all its lines") {
  engine_fixture fx;
  REQUIRE_FALSE(
    fx.engine->register_embedded_provider("dom", [](const provider_request&) {
      provider_reply reply;
      reply.ok = true;
      reply.fulfillment.push_back({"WH-A", {"1", "2"}});
      reply.fulfillment.push_back({"WH-B", {"3"}});
      return reply;
    }));
  std::mutex mutex;
  // Per call to the fulfillment provider: the lines it was given, and the
  // lines of the fulfillment orders it was asked to send.
  std::vector<std::pair<std::set<std::string>, std::set<std::string>>> calls;
  REQUIRE_FALSE(fx.engine->register_embedded_provider(
    "fulfillment", [&](const provider_request& req) {
      std::set<std::string> given, sent;
      for (std::size_t i = 0; i < req.order->line_count(); ++i)
        given.emplace(req.order->line_id(i));
      for (const auto& fo : req.fulfillment_orders)
        sent.insert(fo.lines.begin(), fo.lines.end());
      std::lock_guard<std::mutex> guard{mutex};
      calls.emplace_back(std::move(given), std::move(sent));
      provider_reply reply;
      reply.ok = true;
      return reply;
    }));
  fx.publish(R"({"name": "Ship", "type": "order",
    "policies": {"filter": [
      {"name": "Boxes", "scope": "line",
       "when": {"field": "kind", "op": "eq", "value": "box"}},
      {"name": "Gifts", "scope": "line",
       "when": {"field": "kind", "op": "eq", "value": "gift_card"}}]},
    "steps": [
      {"action": "send_to_dom", "name": "Source", "provider": "dom"},
      {"element": "splitter_merge", "name": "Split", "branches": [
        {"name": "B", "steps": [{"action": "send_to_fulfillment",
          "name": "Send boxes", "filter_policies": ["Boxes"]}]},
        {"name": "G", "steps": [{"action": "send_to_fulfillment",
          "name": "Send gifts", "filter_policies": ["Gifts"]}]}]},
      {"action": "send_to_fulfillment", "name": "Send the rest"}]})");
  REQUIRE(fx.submit(R"({"id": "F-1", "lines": [{"id": "1", "kind": "box"},
    {"id": "2", "kind": "gift_card"}, {"id": "3", "kind": "box"}]})")
            .status
          == submit_status::accepted);
  auto r = fx.wait_terminal("F-1", "Ship");
  CHECK(r.state == journey_state::completed);
  std::map<std::string, step_outcome> outcome;
  for (const auto& s : r.steps)
    outcome[s.name] = s.outcome;
  // WH-A holds a box and a gift card: neither branch may send it (each
  // sees only its own lines); the step after the merge, with all, does.
  CHECK(outcome["Send boxes"] == step_outcome::succeeded);
  CHECK(outcome["Send gifts"] == step_outcome::skipped);
  CHECK(outcome["Send the rest"] == step_outcome::succeeded);
  for (const auto& fo : r.fulfillment_orders)
    CHECK(fo.sent);
  std::lock_guard<std::mutex> guard{mutex};
  REQUIRE(calls.size() == 2);
  for (const auto& [given, sent] : calls)
    for (const auto& line : sent)
      CHECK(given.count(line) == 1);
}
