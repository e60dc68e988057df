// libFuzzer target: the HTTP API. Bytes as a client could send them on the
// node's HTTP port are parsed as the server parses them (Boost.Beast, with
// the body limit) and what parses goes through the router to a real engine
// with the example flow published, as on a node.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <future>
#include <memory>
#include <string>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "engine/engine.hpp"
#include "engine/http_api.hpp"

namespace {

namespace beast = boost::beast;
namespace http = beast::http;

/// One engine and router for the whole run, never torn down: libFuzzer ends
/// the process with exit(), and CAF's teardown then would race its threads.
orca::http_api& router() {
  static orca::http_api* api = [] {
    char dir[] = "/tmp/orca-fuzz-http-XXXXXX";
    if (::mkdtemp(dir) == nullptr)
      std::abort();
    orca::engine_options opts;
    opts.data_dir = dir;
    opts.durable = false;
    opts.threads = 1;
    opts.config.providers["notify"] = orca::provider_config{};
    opts.warn = [](const std::string&) {};
    opts.configure = [](caf::actor_system_config& cfg) {
      cfg.set("logger.verbosity", caf::atom("quiet"));
    };
    auto engine = orca::Engine::open(std::move(opts));
    if (!engine)
      std::abort();
    std::ifstream in{std::string{ORCA_SOURCE_DIR}
                     + "/flows/examples/order-to-invoice.json"};
    std::string flow{std::istreambuf_iterator<char>{in}, {}};
    if (!(*engine)->create_flow(flow)
        || !(*engine)->publish_flow("Order to invoice"))
      std::abort();
    return new orca::http_api(*engine->release(), {});
  }();
  return *api;
}

/// With ORCA_FUZZ_SEEDS=DIR set, writes requests a client sends as seeds.
void write_seeds(const char* dir) {
  auto put = [dir](const std::string& name, const std::string& bytes) {
    std::ofstream out{std::string{dir} + "/" + name, std::ios::binary};
    out << bytes;
  };
  auto post = [](const std::string& target, const std::string& type,
                 const std::string& body) {
    return "POST " + target + " HTTP/1.1\r\nHost: x\r\nContent-Type: " + type
      + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n"
      + body;
  };
  std::string order =
    R"({"id": "SO-1", "channel": "web", "currency": "USD", "lines": [{"id": "1", "sku": "A", "quantity": 1, "source": "WH-SEA"}]})";
  put("get",
      "GET /v1/journeys?state=waiting&limit=5&after=00 HTTP/1.1\r\n"
      "Host: x\r\n\r\n");
  put("order", post("/v1/orders", "application/json", order));
  put("orders",
      post("/v1/orders", "application/x-ndjson", order + "\n" + order));
  put("event",
      post("/v1/orders/SO-1/events", "application/json",
           R"({"type": "fulfillment_shipped"})"));
  put("flow",
      post("/v1/flows:validate", "application/json",
           R"({"name": "F", "type": "order", "steps": []})"));
  put("show",
      "GET /v1/flows/Order%20to%20invoice?version=1 HTTP/1.1\r\n"
      "Host: x\r\n\r\n");
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("ORCA_FUZZ_SEEDS"))
    write_seeds(dir);
  router();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  http::request_parser<http::string_body> parser;
  parser.body_limit(std::size_t{1} << 20);
  parser.eager(true);
  beast::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (ec || !parser.is_done())
    return 0;
  auto msg = parser.release();
  orca::http_request req;
  req.method = std::string{msg.method_string()};
  req.target = std::string{msg.target()};
  req.content_type = std::string{msg[http::field::content_type]};
  req.authorization = std::string{msg[http::field::authorization]};
  req.body = std::move(msg.body());
  std::promise<orca::http_response> answered;
  router().handle(std::move(req), [&answered](orca::http_response r) {
    answered.set_value(std::move(r));
  });
  auto answer = answered.get_future().get();
  // Every answer is JSON but a diagram's.
  if (answer.status < 100 || answer.status > 599)
    std::abort();
  return 0;
}
