// The HTTP API's router on a real engine, without sockets: the routes and
// the OpenAPI document agree, tokens and roles are enforced, errors carry
// the statuses of SPEC §7 and name the field or limit, and journeys page
// with cursors. engine/http_server's sockets are tested through a real
// orcad (tests/http).

#include <future>
#include <set>

#include "engine/http_api.hpp"
#include "flows/json.hpp"
#include "support/engine_fixture.hpp"
#include "support/orders.hpp"

using namespace orca;
using namespace orca::test;

namespace {

http_response call(http_api& api, std::string method, std::string target,
                   std::string body = {}, std::string token = {},
                   std::string content_type = "application/json") {
  http_request req;
  req.method = std::move(method);
  req.target = std::move(target);
  req.body = std::move(body);
  req.content_type = std::move(content_type);
  if (!token.empty())
    req.authorization = "Bearer " + token;
  std::promise<http_response> answered;
  api.handle(std::move(req), [&answered](http_response r) {
    answered.set_value(std::move(r));
  });
  return answered.get_future().get();
}

json_document parsed(const http_response& r) {
  json_document doc;
  doc.Parse(r.body.c_str(), r.body.size());
  REQUIRE_FALSE(doc.HasParseError());
  return doc;
}

std::string error_of(const http_response& r) {
  auto doc = parsed(r);
  REQUIRE(doc.IsObject());
  REQUIRE(doc.HasMember("error"));
  return doc["error"].GetString();
}

const char* reader_token = "reader-0123456789abcdef";
const char* submitter_token = "submitter-0123456789abcdef";
const char* admin_token = "admin-0123456789abcdef";

} // namespace

TEST_CASE("every route is in the OpenAPI document and every path in it is "
          "routed") {
  json_document doc;
  auto text = openapi_document();
  doc.Parse(text.data(), text.size());
  REQUIRE_FALSE(doc.HasParseError());
  REQUIRE(doc["openapi"].GetString() == std::string{"3.0.3"});
  std::set<std::pair<std::string, std::string>> documented;
  for (const auto& path : doc["paths"].GetObject())
    for (const auto& method : path.value.GetObject()) {
      std::string m = method.name.GetString();
      for (auto& c : m)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      documented.emplace(m, path.name.GetString());
    }
  std::set<std::pair<std::string, std::string>> routed;
  for (const auto& r : http_routes())
    routed.emplace(r.method, r.path);
  CHECK(documented == routed);
  // Each documented role is the one the router enforces.
  for (const auto& r : http_routes()) {
    std::string method = r.method;
    for (auto& c : method)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const auto& op = doc["paths"][r.path][method.c_str()];
    INFO(r.method << " " << r.path);
    if (r.role)
      CHECK(op["x-orca-role"].GetString() == std::string{to_string(*r.role)});
    else
      CHECK_FALSE(op.HasMember("x-orca-role"));
  }
}

TEST_CASE("with tokens, a request without one is 401 and a role that may not "
          "is 403") {
  engine_fixture fx{with_notify()};
  http_api::options opts;
  auto tokens = parse_tokens(
    std::string{R"({"tokens": [)"} + R"({"token": ")" + reader_token
      + R"(", "role": "reader", "name": "dashboard"},)" + R"({"token": ")"
      + submitter_token + R"(", "role": "submitter", "name": "shop"},)"
      + R"({"token": ")" + admin_token + R"(", "role": "admin"}]})",
    "tokens.json");
  REQUIRE(tokens);
  opts.tokens = *tokens;
  http_api api{*fx.engine, opts};
  auto flow = example("order-to-invoice.json");

  auto none = call(api, "GET", "/v1/flows");
  CHECK(none.status == 401);
  CHECK(error_of(none).find("Authorization: Bearer") != std::string::npos);
  CHECK(call(api, "GET", "/v1/flows", {}, "not-a-token-of-this-node").status
        == 401);
  CHECK(call(api, "GET", "/v1/flows", {}, reader_token).status == 200);
  auto refused = call(api, "POST", "/v1/flows", flow, submitter_token);
  CHECK(refused.status == 403);
  CHECK(error_of(refused)
        == "a submitter token may not POST /v1/flows (it needs admin)");
  CHECK(call(api, "POST", "/v1/flows", flow, admin_token).status == 201);
  CHECK(
    call(api, "POST", "/v1/flows/Order%20to%20invoice/publish", {}, admin_token)
      .status
    == 200);
  CHECK(
    call(api, "POST", "/v1/orders", first_example_order(), reader_token).status
    == 403);
  CHECK(call(api, "POST", "/v1/orders", first_example_order(), submitter_token)
          .status
        == 202);
  // Open without a token.
  CHECK(call(api, "GET", "/healthz").status == 200);
  CHECK(call(api, "GET", "/readyz").status == 200);
  CHECK(call(api, "GET", "/v1/openapi.json").status == 200);

  // A tokens file that says something wrong names the field.
  auto bad = parse_tokens(
    R"({"tokens": [{"token": "short", "role": "admin"}]})", "tokens.json");
  REQUIRE_FALSE(bad);
  CHECK(describe(bad.error())
        == "tokens.json: tokens[0].token: a string of at least 16 characters");
  auto role = parse_tokens(
    R"({"tokens": [{"token": "0123456789abcdefgh", "role": "root"}]})",
    "tokens.json");
  REQUIRE_FALSE(role);
  CHECK(describe(role.error()).find("tokens[0].role: \"root\" is not one of")
        != std::string::npos);
}

TEST_CASE("errors answer with the statuses of SPEC §7 and name the field, "
          "flow or limit") {
  node_config config = with_notify();
  config.limits.order_bytes = 4096;
  engine_fixture fx{config};
  http_api api{*fx.engine, {}};
  auto flow = example("order-to-invoice.json");

  // 400: a flow that is not valid, naming the field.
  auto broken = call(api, "POST", "/v1/flows", R"({"name": "X", "steps": 3})");
  CHECK(broken.status == 400);
  CHECK(error_of(broken).find("steps") != std::string::npos);
  auto check = call(api, "POST", "/v1/flows:validate",
                    R"({"name": "X", "type": "order", "steps": []})");
  CHECK(check.status == 400);
  CHECK(parsed(check)["valid"].GetBool() == false);
  CHECK(call(api, "POST", "/v1/flows:validate", flow).status == 200);
  // Nothing was stored by validating.
  CHECK(call(api, "GET", "/v1/flows/Order%20to%20invoice").status == 404);

  REQUIRE(call(api, "POST", "/v1/flows", flow).status == 201);
  // 409: it exists; a published flow cannot be updated.
  CHECK(call(api, "POST", "/v1/flows", flow).status == 409);
  REQUIRE(call(api, "POST", "/v1/flows/Order%20to%20invoice/publish").status
          == 200);
  CHECK(call(api, "POST", "/v1/flows/Order%20to%20invoice/resume").status
        == 409);
  // 400: the body's flow is not the URL's.
  auto other = call(api, "PUT", "/v1/flows/Another", flow);
  CHECK(other.status == 400);
  CHECK(error_of(other).rfind("name: ", 0) == 0);
  // 404: no such flow, order, journey or path; 405: no such method.
  CHECK(call(api, "GET", "/v1/flows/Nothing").status == 404);
  CHECK(call(api, "GET", "/v1/orders/NOPE/journeys").status == 404);
  CHECK(call(api, "POST", "/v1/orders/NOPE/cancel").status == 404);
  CHECK(call(api, "GET", "/v1/nothing").status == 404);
  auto wrong = call(api, "DELETE", "/v1/flows");
  CHECK(wrong.status == 405);
  CHECK(wrong.headers.at(0)
        == std::pair<std::string, std::string>{"Allow", "GET, POST"});

  // 413: an order over order_bytes; 400: a bad one, naming the field.
  auto huge = with_id(first_example_order(), "BIG");
  huge.insert(huge.size() - 1,
              ", \"note\": \"" + std::string(5000, 'x') + "\"");
  auto over = call(api, "POST", "/v1/orders", huge);
  CHECK(over.status == 413);
  INFO(over.body);
  CHECK(std::string{parsed(over)["error"].GetString()}.find(
          "over the limit of 4096 bytes")
        != std::string::npos);
  auto bad = call(api, "POST", "/v1/orders", R"({"id": "X-1"})");
  CHECK(bad.status == 400);
  CHECK(parsed(bad)["status"].GetString() == std::string{"rejected"});
  CHECK(std::string{parsed(bad)["error"].GetString()}.find("lines")
        != std::string::npos);
  // A batch with one bad order: 400, the good ones accepted, in order.
  auto batch =
    call(api, "POST", "/v1/orders",
         with_id(first_example_order(), "OK-1") + "\n" + R"({"id": "X-2"})"
           + "\n" + with_id(first_example_order(), "OK-2") + "\n",
         {}, "application/x-ndjson");
  CHECK(batch.status == 400);
  CHECK(batch.content_type == "application/x-ndjson");
  CHECK(batch.body.find(R"({"order_id":"OK-1","status":"accepted")") == 0);
  CHECK(batch.body.find(R"({"order_id":"OK-2","status":"accepted")")
        != std::string::npos);
  // Events: the body names its field.
  auto no_type = call(api, "POST", "/v1/orders/OK-1/events", R"({"kind": 1})");
  CHECK(no_type.status == 400);
  CHECK(error_of(no_type).rfind("type: ", 0) == 0);
  // 413: a body nested past json_depth, read no deeper than the limit.
  auto deep = std::string(200000, '[') + std::string(200000, ']');
  auto deep_event = call(api, "POST", "/v1/orders/OK-1/events", deep);
  CHECK(deep_event.status == 413);
  CHECK(error_of(deep_event)
        == "the body nests JSON deeper than the limit of 64 levels");
  auto deep_flow = call(api, "PUT", "/v1/flows/Another",
                        R"({"name": "Another", "x": )" + deep + "}");
  CHECK(deep_flow.status == 413);
  CHECK(error_of(deep_flow).find("deeper than the limit of 64 levels")
        != std::string::npos);
  // Parameters.
  CHECK(call(api, "GET", "/v1/journeys?limit=1001").status == 400);
  CHECK(call(api, "GET", "/v1/journeys?after=zz").status == 400);
  CHECK(
    call(api, "GET", "/v1/flows/Order%20to%20invoice/diagram?format=png").status
    == 400);
  CHECK(call(api, "GET", "/v1/flows/%zz").status == 400);
  // Once stopping, work is refused with 503 and Retry-After.
  api.stop();
  auto stopping = call(api, "GET", "/v1/flows");
  CHECK(stopping.status == 503);
  CHECK(stopping.headers.at(0)
        == std::pair<std::string, std::string>{"Retry-After", "1"});
  CHECK(call(api, "GET", "/readyz").status == 503);
}

TEST_CASE("GET /v1/journeys pages through every journey with its cursors") {
  engine_fixture fx{with_notify()};
  http_api api{*fx.engine, {}};
  REQUIRE(
    call(api, "POST", "/v1/flows", example("order-to-invoice.json")).status
    == 201);
  REQUIRE(call(api, "POST", "/v1/flows/Order%20to%20invoice/publish").status
          == 200);
  std::string batch;
  for (int i = 0; i < 7; ++i)
    batch += with_id(first_example_order(), "P-" + std::to_string(i)) + "\n";
  REQUIRE(
    call(api, "POST", "/v1/orders", batch, {}, "application/x-ndjson").status
    == 202);
  for (int i = 0; i < 7; ++i)
    fx.wait_state("P-" + std::to_string(i), "Order to invoice",
                  journey_state::waiting);
  std::vector<std::string> seen;
  std::string target = "/v1/journeys?state=waiting&limit=3";
  for (int page = 0; page < 5; ++page) {
    auto r = call(api, "GET", target);
    REQUIRE(r.status == 200);
    auto doc = parsed(r);
    for (const auto& j : doc["journeys"].GetArray())
      seen.push_back(j["order_id"].GetString());
    if (doc["next"].IsNull())
      break;
    target = "/v1/journeys?state=waiting&limit=3&after="
      + std::string{doc["next"].GetString()};
  }
  CHECK(seen
        == std::vector<std::string>{"P-0", "P-1", "P-2", "P-3", "P-4", "P-5",
                                    "P-6"});
  // An order's journeys come with their timelines.
  auto one = call(api, "GET", "/v1/orders/P-3/journeys");
  REQUIRE(one.status == 200);
  CHECK(parsed(one)["journeys"][0]["timeline"].IsArray());
}
