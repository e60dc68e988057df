#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <caf/all.hpp>
#include <rapidjson/document.h>

#include "actors/http_provider.hpp"
#include "engine/node_config.hpp"
#include "support/http_server.hpp"

using namespace orca;
using namespace std::chrono_literals;

namespace {

struct test_config : caf::actor_system_config {
  test_config() {
    set("scheduler.max-threads", 2);
  }
};

order_ptr sample_order() {
  auto parsed = order::parse(
    R"({"id": "SO-1", "channel": "web",
        "lines": [{"id": "1", "sku": "A"}, {"id": "2", "sku": "B"}]})");
  REQUIRE(parsed);
  return std::make_shared<const order>(std::move(*parsed));
}

provider_request make_request(action_kind action, std::string key) {
  provider_request request;
  request.idempotency_key = std::move(key);
  request.provider = "billing";
  request.action = action;
  request.flow = "order-to-invoice";
  request.version = 3;
  request.step = "invoice";
  request.attempt = 2;
  request.order = sample_order();
  request.line_ids = {"1", "2"};
  return request;
}

/// A port on 127.0.0.1 that nobody listens on: bound by the kernel's choice,
/// then released.
uint16_t unused_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acceptor{
    io, {boost::asio::ip::make_address("127.0.0.1"), 0}};
  return acceptor.local_endpoint().port();
}

/// A real actor system, an HTTP server, and the adapters a test spawns; the
/// adapters are stopped before the system goes, which waits for them.
class adapter_fixture {
public:
  ~adapter_fixture() {
    for (const auto& adapter : adapters_)
      caf::anon_send_exit(adapter, caf::exit_reason::user_shutdown);
  }

protected:
  caf::actor spawn_adapter(std::string url, uint32_t timeout_ms,
                           uint32_t workers,
                           const limits& lim = default_limits()) {
    http_provider_config config;
    config.url = std::move(url);
    config.timeout_ms = timeout_ms;
    config.workers = workers;
    return spawn_adapter(std::move(config), lim);
  }

  caf::actor spawn_adapter(http_provider_config config,
                           const limits& lim = default_limits()) {
    adapters_.push_back(spawn_http_provider(system_, std::move(config), lim));
    return adapters_.back();
  }

  provider_reply call(const caf::actor& adapter,
                      const provider_request& request) {
    caf::scoped_actor self{system_};
    auto result = provider_reply::failure("no answer");
    self->request(adapter, caf::infinite, request)
      .receive(
        [&](const provider_reply& reply) { result = reply; },
        [&](const caf::error& err) {
          FAIL("the adapter answered with an error: " << system_.render(err));
        });
    return result;
  }

  // Declared first so that it is destroyed last, after every worker is gone.
  test::http_server server_;
  test_config config_;
  caf::actor_system system_{config_};

private:
  std::vector<caf::actor> adapters_;
};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE_METHOD(adapter_fixture,
                 "an http provider posts the request as JSON with its "
                 "idempotency key and reads the invoice id from a 2xx answer") {
  server_.answer("/billing", {200, R"({"invoice_id": "INV-9"})"});
  auto adapter = spawn_adapter(server_.url("/billing"), 2000, 1);
  auto reply = call(adapter,
                    make_request(action_kind::send_to_invoice,
                                 "SO-1/order-to-invoice/3/invoice"));
  CHECK(reply.ok);
  CHECK(reply.error.empty());
  REQUIRE(reply.invoice_id);
  CHECK(*reply.invoice_id == "INV-9");

  auto requests = server_.requests();
  REQUIRE(requests.size() == 1);
  const auto& got = requests.front();
  CHECK(got.method == "POST");
  CHECK(got.target == "/billing");
  CHECK(got.idempotency_key() == "SO-1/order-to-invoice/3/invoice");
  CHECK(got.header("content-type") == "application/json");
  rapidjson::Document body;
  body.Parse(got.body.c_str());
  REQUIRE_FALSE(body.HasParseError());
  REQUIRE(body.IsObject());
  CHECK(std::string{body["idempotency_key"].GetString()}
        == "SO-1/order-to-invoice/3/invoice");
  CHECK(std::string{body["action"].GetString()} == "send_to_invoice");
  CHECK(std::string{body["step"].GetString()} == "invoice");
  CHECK(body["attempt"].GetUint() == 2);
  REQUIRE(body["order"].IsObject());
  CHECK(std::string{body["order"]["id"].GetString()} == "SO-1");
  CHECK(body["lines"].Size() == 2);
}

TEST_CASE_METHOD(adapter_fixture,
                 "an http provider sends the headers its config names, "
                 "values from the environment read when the config is") {
  server_.answer("/billing", {200, R"({"invoice_id": "INV-1"})"});
  ::setenv("ORCA_TEST_ERP_TOKEN", "secret-from-env", 1);
  auto config = node_config::parse(
    R"({"providers": {"erp": {"kind": "http", "url": ")"
      + server_.url("/billing") + R"(", "headers": {"X-Api-Key": "abc",
       "Authorization": {"env": "ORCA_TEST_ERP_TOKEN"}}}}})",
    "node.json");
  ::unsetenv("ORCA_TEST_ERP_TOKEN");
  REQUIRE(config);
  auto adapter = spawn_adapter(config->providers.at("erp").http);
  auto reply =
    call(adapter, make_request(action_kind::send_to_invoice, "SO-1/f/1/i"));
  CHECK(reply.ok);
  auto requests = server_.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests.front().header("x-api-key") == "abc");
  CHECK(requests.front().header("authorization") == "secret-from-env");

  // What cannot be sent is refused when the config is read, by field.
  auto refused = [](const std::string& headers) {
    auto c = node_config::parse(
      R"({"providers": {"erp": {"kind": "http", "url": "http://h/x", )"
      R"("headers": )"
        + headers + "}}}",
      "node.json");
    REQUIRE_FALSE(c);
    return describe(c.error());
  };
  CHECK(
    contains(refused(R"({"Authorization": {"env": "ORCA_NOT_SET_ANYWHERE"}})"),
             "providers.\"erp\".headers.Authorization: the environment "
             "variable \"ORCA_NOT_SET_ANYWHERE\" is not set"));
  CHECK(contains(refused(R"({"X-A": "a\r\nX-Injected: 1"})"),
                 "providers.\"erp\".headers.X-A: the value holds control "
                 "characters"));
  CHECK(contains(refused(R"({"Bad Name": "x"})"), "not a header name"));
  CHECK(contains(refused(R"({"Idempotency-Key": "x"})"),
                 "Orca sets this header itself"));
  CHECK(contains(refused(R"({"X-N": 3})"), "must be a string or"));
}

TEST_CASE_METHOD(adapter_fixture,
                 "an http provider reads a DOM answer's fulfillment orders "
                 "into source groups") {
  server_.answer("/dom", {200, R"({"fulfillment_orders": [
                              {"source": "DC-1", "lines": ["1"]},
                              {"source": "STORE-7", "lines": ["2"]}]})"});
  auto adapter = spawn_adapter(server_.url("/dom"), 2000, 1);
  auto reply =
    call(adapter, make_request(action_kind::send_to_dom, "SO-1/f/1/dom"));
  REQUIRE(reply.ok);
  REQUIRE(reply.fulfillment.size() == 2);
  CHECK(reply.fulfillment[0].source == "DC-1");
  CHECK(reply.fulfillment[0].line_ids == std::vector<std::string>{"1"});
  CHECK(reply.fulfillment[1].source == "STORE-7");
  CHECK(reply.fulfillment[1].line_ids == std::vector<std::string>{"2"});
}

TEST_CASE_METHOD(adapter_fixture,
                 "an http provider turns a non-2xx answer into a failure "
                 "naming the status, the URL and the start of the body") {
  auto adapter = spawn_adapter(server_.url("/billing"), 2000, 1);
  auto request = make_request(action_kind::send_to_invoice, "SO-1/f/1/inv");
  SECTION("a 503 with a short body") {
    server_.answer("/billing",
                   {503, "overloaded, try later", {}, "text/plain"});
    auto reply = call(adapter, request);
    CHECK_FALSE(reply.ok);
    CHECK(reply.error
          == "HTTP 503 from " + server_.url("/billing")
            + ": overloaded, try later");
    CHECK(reply.code == errc::provider_failure);
  }
  SECTION("a 500 with a long body keeps only its first 200 bytes") {
    server_.answer("/billing", {500, std::string(1000, 'x'), {}, "text/plain"});
    auto reply = call(adapter, request);
    CHECK_FALSE(reply.ok);
    CHECK(reply.error
          == "HTTP 500 from " + server_.url("/billing") + ": "
            + std::string(200, 'x'));
  }
  SECTION("a 404 from a path the server does not know") {
    auto elsewhere = spawn_adapter(server_.url("/nowhere"), 2000, 1);
    auto reply = call(elsewhere, request);
    CHECK_FALSE(reply.ok);
    CHECK(contains(reply.error, "HTTP 404 from " + server_.url("/nowhere")));
  }
}

TEST_CASE_METHOD(adapter_fixture,
                 "an http provider gives up on a slow server after its time "
                 "limit instead of waiting for the answer") {
  server_.answer("/slow", {200, R"({"invoice_id": "late"})", 1500ms});
  auto adapter = spawn_adapter(server_.url("/slow"), 200, 1);
  auto started = std::chrono::steady_clock::now();
  auto reply = call(adapter, make_request(action_kind::send_to_invoice, "k"));
  auto waited = std::chrono::steady_clock::now() - started;
  CHECK_FALSE(reply.ok);
  CHECK(contains(reply.error, "timed out after 200 ms"));
  CHECK(reply.code == errc::provider_timeout);
  CHECK(contains(reply.error, server_.url("/slow")));
  CHECK(waited < 1500ms);
}

TEST_CASE_METHOD(adapter_fixture,
                 "an http answer over answer_bytes fails as over the limit") {
  limits lim;
  lim.answer_bytes = 64;
  server_.answer(
    "/billing", {200, R"({"invoice_id": ")" + std::string(200, 'i') + R"("})"});
  auto adapter = spawn_adapter(server_.url("/billing"), 2000, 1, lim);
  auto reply = call(adapter, make_request(action_kind::send_to_invoice, "k"));
  CHECK_FALSE(reply.ok);
  CHECK(reply.code == errc::limit_exceeded);
}

TEST_CASE_METHOD(adapter_fixture,
                 "an http provider reports a refused connection as a failure "
                 "naming the URL") {
  auto url = "http://127.0.0.1:" + std::to_string(unused_port()) + "/dom";
  auto adapter = spawn_adapter(url, 2000, 1);
  auto reply = call(adapter, make_request(action_kind::send_to_dom, "k"));
  CHECK_FALSE(reply.ok);
  CHECK(contains(reply.error, url + ": connecting failed: "));
  CHECK(reply.code == errc::node_unreachable);
}

TEST_CASE_METHOD(adapter_fixture,
                 "an http provider rejects a 2xx answer that is not the JSON "
                 "the action needs") {
  auto adapter = spawn_adapter(server_.url("/billing"), 2000, 1);
  auto request = make_request(action_kind::send_to_invoice, "k");
  SECTION("not JSON at all") {
    server_.answer("/billing", {200, "<html>fine</html>", {}, "text/html"});
    auto reply = call(adapter, request);
    CHECK_FALSE(reply.ok);
    CHECK(reply.error
          == server_.url("/billing")
            + ": the provider's answer is not a JSON object");
    CHECK(reply.code == errc::protocol_error);
  }
  SECTION("JSON without an invoice id") {
    server_.answer("/billing", {200, R"({"status": "fine"})"});
    auto reply = call(adapter, request);
    CHECK_FALSE(reply.ok);
    CHECK(contains(reply.error, "no \"invoice_id\""));
    CHECK(reply.code == errc::protocol_error);
  }
}

TEST_CASE_METHOD(adapter_fixture,
                 "an http provider refuses to send an idempotency key that "
                 "would break its header") {
  server_.answer("/billing", {200, R"({"invoice_id": "INV-1"})"});
  auto adapter = spawn_adapter(server_.url("/billing"), 2000, 1);
  auto reply =
    call(adapter,
         make_request(action_kind::send_to_invoice, "SO-1\r\nX-Injected: yes"));
  CHECK_FALSE(reply.ok);
  CHECK(contains(reply.error, "control characters"));
  CHECK(reply.code == errc::protocol_error);
  CHECK(server_.requests().empty());
}

TEST_CASE_METHOD(adapter_fixture,
                 "an http provider whose url does not parse fails every call "
                 "as unreachable, with the reason") {
  auto adapter = spawn_adapter("http://h:0/billing", 2000, 1);
  auto reply = call(adapter,
                    make_request(action_kind::send_to_invoice,
                                 "SO-1/order-to-invoice/3/invoice"));
  CHECK_FALSE(reply.ok);
  CHECK(
    reply.error
    == R"(url "http://h:0/billing": port "0" is not a number from 1 to 65535)");
  CHECK(reply.code == errc::node_unreachable);
}

TEST_CASE_METHOD(adapter_fixture,
                 "an http provider runs up to its number of workers at once "
                 "and gives every requester its own answer") {
  server_.answer_with("/billing", [](const test::http_request_record& got) {
    return test::http_answer{
      200, R"({"invoice_id": "INV-)" + got.idempotency_key() + "\"}", 100ms};
  });
  auto adapter = spawn_adapter(server_.url("/billing"), 5000, 4);
  caf::scoped_actor self{system_};
  using handle =
    decltype(self->request(adapter, caf::infinite, provider_request{}));
  std::vector<handle> pending;
  for (int i = 0; i < 8; ++i)
    pending.push_back(self->request(
      adapter, caf::infinite,
      make_request(action_kind::send_to_invoice, "k" + std::to_string(i))));
  for (int i = 0; i < 8; ++i) {
    pending[i].receive(
      [&](const provider_reply& reply) {
        CHECK(reply.ok);
        REQUIRE(reply.invoice_id);
        CHECK(*reply.invoice_id == "INV-k" + std::to_string(i));
      },
      [&](const caf::error& err) {
        FAIL("request " << i << " failed: " << system_.render(err));
      });
  }
  CHECK(server_.requests().size() == 8);
  CHECK(server_.peak_concurrency() > 1);
  CHECK(server_.peak_concurrency() <= 4);
}

TEST_CASE_METHOD(adapter_fixture,
                 "an http provider with a URL that does not parse fails every "
                 "request with the reason") {
  auto adapter = spawn_adapter("ftp://x", 2000, 2);
  auto reply = call(adapter, make_request(action_kind::send_to_dom, "k"));
  CHECK_FALSE(reply.ok);
  CHECK(reply.error
        == R"(url "ftp://x": only http:// and https:// URLs are supported)");
}

TEST_CASE("parse_http_url splits an http URL into host, port and target") {
  auto check = [](const std::string& url, const std::string& host,
                  const std::string& port, const std::string& target) {
    INFO(url);
    auto parsed = parse_http_url(url);
    REQUIRE(parsed);
    CHECK(parsed->host == host);
    CHECK(parsed->port == port);
    CHECK(parsed->target == target);
  };
  check("http://127.0.0.1:8080/dom/orders?x=1", "127.0.0.1", "8080",
        "/dom/orders?x=1");
  check("http://billing.internal", "billing.internal", "80", "/");
  check("http://billing.internal/", "billing.internal", "80", "/");
  check("HTTP://Billing:81/a", "Billing", "81", "/a");
  check("http://[::1]:9000/x", "::1", "9000", "/x");
  check("http://[::1]", "::1", "80", "/");
  check("http://h?x=1", "h", "80", "/?x=1");
  check("http://h/p#part", "h", "80", "/p");
  check("http://h:00080/", "h", "80", "/");
  check("https://billing.example/v1", "billing.example", "443", "/v1");
  check("HTTPS://127.0.0.1:8443", "127.0.0.1", "8443", "/");
  CHECK(parse_http_url("https://h/")->tls);
  CHECK_FALSE(parse_http_url("http://h/")->tls);
}

TEST_CASE("parse_http_url names the URL and the problem when it rejects one") {
  auto problem = [](const std::string& url) {
    auto parsed = parse_http_url(url);
    REQUIRE_FALSE(parsed);
    CHECK(orca_code(parsed.error())
          == static_cast<uint8_t>(errc::invalid_config));
    return describe(parsed.error());
  };
  CHECK(problem("ftp://x")
        == R"(url "ftp://x": only http:// and https:// URLs are supported)");
  CHECK(problem("billing:80")
        == R"(url "billing:80": only http:// and https:// URLs are supported)");
  CHECK(problem("") == R"(url "": must not be empty)");
  CHECK(problem("http://") == R"(url "http://": has no host)");
  CHECK(problem("http://:80/") == R"(url "http://:80/": has no host)");
  CHECK(problem("http://h:/")
        == R"(url "http://h:/": port "" is not a number from 1 to 65535)");
  CHECK(problem("http://h:0")
        == R"(url "http://h:0": port "0" is not a number from 1 to 65535)");
  CHECK(
    problem("http://h:65536")
    == R"(url "http://h:65536": port "65536" is not a number from 1 to 65535)");
  CHECK(problem("http://h:8o")
        == R"(url "http://h:8o": port "8o" is not a number from 1 to 65535)");
  CHECK(
    problem("http://user:pw@h/")
    == R"(url "http://user:pw@h/": user names and passwords in URLs are not supported)");
  CHECK(
    problem("http://h/a b")
    == R"(url "http://h/a b": must not contain spaces or control characters)");
  CHECK(problem("http://[::1/")
        == R"(url "http://[::1/": the IPv6 address has no closing ']')");
  CHECK(problem("http://[::1]x/")
        == R"(url "http://[::1]x/": unexpected text after the IPv6 address)");
}
