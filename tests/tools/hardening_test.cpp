// The reproduced ways to take a node down or lose acknowledged work, each
// through a real orcad and orcactl: an over-long order id, deeply nested
// JSON, a catastrophic regular expression, a kill -9 while events stream,
// a second node on the same data directory, and a client that registers as
// a provider the node runs itself.

#include <catch2/catch.hpp>

#include <atomic>
#include <cstring>
#include <future>
#include <mutex>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine/client.hpp"
#include "support/node_process.hpp"
#include "support/orders.hpp"
#include "support/wait.hpp"

using namespace orca::test;

namespace {

const char* notify_config =
  R"({"providers": {"notify": {"kind": "simulated"}}})";

void publish(const node_process& node, const std::string& file,
             const std::string& name) {
  REQUIRE(node.ctl({"flow", "create", file}).exit_code == 0);
  REQUIRE(node.ctl({"flow", "publish", name}).exit_code == 0);
}

/// A client of the node (a failed connection fails the test).
std::unique_ptr<orca::client> connect_to(const node_process& node) {
  orca::client_options opts;
  REQUIRE_FALSE(orca::parse_endpoint(node.address(), opts.host, opts.port));
  auto c = orca::client::connect(opts);
  REQUIRE(c);
  return std::move(*c);
}

/// What many clients submitting at once are given to do.
struct submission_plan {
  std::string prefix; ///< order ids are PREFIX-client-batch-i
  int clients = 1;
  int batches = 1;
  int per_batch = 1;
};

/// Starts `plan.clients` shells, each running orcactl order submit for its
/// batches one after another (writing the batch files into `data`); a
/// submission that fails prints "unanswered".
std::vector<std::unique_ptr<child_process>>
start_submitters(const node_process& node, const temp_dir& data,
                 const submission_plan& plan) {
  std::vector<std::unique_ptr<child_process>> senders;
  for (int c = 0; c < plan.clients; ++c) {
    std::string script;
    for (int b = 0; b < plan.batches; ++b) {
      auto stem =
        plan.prefix + "-" + std::to_string(c) + "-" + std::to_string(b);
      std::string batch;
      for (int i = 0; i < plan.per_batch; ++i)
        batch +=
          with_id(first_example_order(), stem + "-" + std::to_string(i)) + "\n";
      data.write(stem + ".jsonl", batch);
      script += std::string{ORCACTL_PATH} + " --node " + node.address()
        + " order submit " + data.file(stem + ".jsonl")
        + " || echo unanswered; ";
    }
    senders.push_back(std::make_unique<child_process>(
      std::vector<std::string>{"/bin/sh", "-c", script}));
  }
  return senders;
}

} // namespace

TEST_CASE(
  "an order id over the limit is refused alone and the other orders run") {
  temp_dir data;
  node_process node{notify_config, {}, &data};
  publish(node, example_path("order-to-invoice.json"), "Order to invoice");
  auto orders = example("orders.jsonl");
  orders += with_id(first_example_order(), std::string(480, 'X')) + "\n";
  node.dir().write("orders.jsonl", orders);
  auto r = node.ctl({"order", "submit", node.dir().file("orders.jsonl")});
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("id: 480 bytes is over the limit of 128 bytes")
        != std::string::npos);
  for (auto id : {"SO-1001", "SO-1002", "SO-1003", "SO-1004", "SO-1005"})
    wait_state(node, id, "Order to invoice",
               {"waiting", "completed", "failed"});
  CHECK(node.ctl({"order", "event", "SO-1001", "fulfillment_shipped"}).exit_code
        == 0);
  wait_state(node, "SO-1001", "Order to invoice", "completed");
  CHECK(node.stop() == 0);
  node.start(notify_config);
  CHECK(node.ctl({"order", "event", "SO-1004", "fulfillment_shipped"}).exit_code
        == 0);
  wait_state(node, "SO-1004", "Order to invoice", "completed");
}

TEST_CASE(
  "an order nested two hundred thousand deep is refused and the node goes on") {
  node_process node{notify_config};
  std::string deep = R"({"id": "DEEP", "lines": [], "x": )"
    + std::string(200000, '[') + std::string(200000, ']') + "}\n";
  node.dir().write("deep.jsonl", deep);
  auto r = node.ctl({"order", "submit", node.dir().file("deep.jsonl")});
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("nests JSON deeper than the limit of 64 levels")
        != std::string::npos);
  node.dir().write("deep-flow.json",
                   "{\"name\": \"Deep\", \"x\": " + std::string(200000, '['));
  auto flow = node.ctl({"flow", "create", node.dir().file("deep-flow.json")});
  CHECK(flow.exit_code == 3);
  CHECK(flow.err.find("deeper than the limit of 64 levels")
        != std::string::npos);
  CHECK(node.ctl({"node", "status"}).exit_code == 0);
}

TEST_CASE(
  "a catastrophic pattern on a long field neither hangs nor crashes the node") {
  temp_dir data;
  node_process node{notify_config, {}, &data};
  node.dir().write("regex.json", R"({"name": "Regex", "type": "order",
    "policies": {"filter": [{"name": "Runs of a", "scope": "header",
      "when": {"field": "note", "op": "matches", "value": "(a+)+$"}}]},
    "steps": [{"action": "custom", "name": "Tell", "provider": "notify",
               "filter_policies": ["Runs of a"]}]})");
  publish(node, node.dir().file("regex.json"), "Regex");
  node.dir().write("long.jsonl",
                   R"({"id": "R-1", "lines": [], "note": ")"
                     + std::string(200000, 'a') + "!\"}\n"
                     + R"({"id": "R-2", "lines": [], "note": ")"
                     + std::string(200000, 'a') + "\"}\n");
  CHECK(node.ctl({"order", "submit", node.dir().file("long.jsonl")}).exit_code
        == 0);
  wait_state(node, "R-1", "Regex", "skipped");
  wait_state(node, "R-2", "Regex", "completed");
  CHECK(node.stop() == 0);
  node.start(notify_config);
  CHECK(node.ctl({"node", "status"}).exit_code == 0);
  CHECK(state_of(node, "R-2", "Regex") == "completed");
  SECTION("a pattern that needs backtracking is refused at validation") {
    node.dir().write("backref.json", R"({"name": "Backref", "type": "order",
      "policies": {"filter": [{"name": "Twice", "scope": "header",
        "when": {"field": "note", "op": "matches", "value": "(a+)\\1"}}]},
      "steps": [{"action": "custom", "name": "Tell", "provider": "notify",
                 "filter_policies": ["Twice"]}]})");
    auto r = node.ctl({"flow", "validate", node.dir().file("backref.json")});
    CHECK(r.exit_code == 3);
    CHECK(r.err.find("must match in linear time") != std::string::npos);
  }
}

TEST_CASE(
  "events acknowledged while the node is killed reach their parked journeys") {
  temp_dir data;
  node_process node{notify_config, {}, &data};
  publish(node, example_path("order-to-invoice.json"), "Order to invoice");
  constexpr int orders = 300;
  std::string batch;
  for (int i = 0; i < orders; ++i)
    batch += with_id(first_example_order(), "W-" + std::to_string(i)) + "\n";
  node.dir().write("parked.jsonl", batch);
  REQUIRE(
    node.ctl({"order", "submit", node.dir().file("parked.jsonl")}).exit_code
    == 0);
  for (int i = 0; i < orders; i += 37)
    wait_state(node, "W-" + std::to_string(i), "Order to invoice", "waiting");
  // Events one by one from a second thread; the node is killed while they
  // stream. Each event whose orcactl exited 0 was acknowledged.
  std::vector<int> acknowledged; // read once the sender is joined
  std::atomic<std::size_t> count{0};
  std::atomic<bool> killed{false};
  std::thread sender{[&] {
    for (int i = 0; i < orders && !killed.load(); ++i)
      if (node
            .ctl({"order", "event", "W-" + std::to_string(i),
                  "fulfillment_shipped"})
            .exit_code
          == 0) {
        acknowledged.push_back(i);
        ++count;
      }
  }};
  REQUIRE(
    eventually([&] { return count.load() >= 60; }, std::chrono::seconds(60)));
  node.kill();
  killed = true;
  sender.join();
  INFO(acknowledged.size() << " events acknowledged before the kill");
  node.start(notify_config);
  for (int i : acknowledged)
    wait_state(node, "W-" + std::to_string(i), "Order to invoice", "completed");
  // The others wait, or completed if their event was committed just as
  // the node was killed: nothing else happened to them.
  for (int i = 0; i < orders; i += 7)
    if (std::find(acknowledged.begin(), acknowledged.end(), i)
        == acknowledged.end())
      wait_state(node, "W-" + std::to_string(i), "Order to invoice",
                 {"waiting", "completed"});
}

TEST_CASE(
  "a second node on the same data directory exits 1 saying it is in use") {
  temp_dir data;
  node_process node{"", {}, &data};
  auto second =
    run({ORCAD_PATH, "--data", data.file("data"), "--listen", "127.0.0.1:0"});
  CHECK(second.exit_code == 1);
  CHECK(second.err.find("is in use by another process") != std::string::npos);
  CHECK(node.ctl({"node", "status"}).exit_code == 0);
}

TEST_CASE("a client cannot register as a provider the node runs itself") {
  node_process node{notify_config};
  auto taken =
    run({ORCA_PROVIDER_PATH, "--node", node.address(), "--id", "billing"});
  CHECK(taken.exit_code != 0);
  CHECK(taken.err.find("error: provider \"billing\" is a simulated provider")
        != std::string::npos);
  auto providers = node.ctl_json({"provider", "list"});
  CHECK(providers.out.find(R"({"id":"billing","kind":"simulated")")
        != std::string::npos);
}

TEST_CASE("only addresses that are loopback may be listened on without TLS") {
  auto named = run({ORCAD_PATH, "--data", temp_dir{}.file("data"), "--listen",
                    "127.0.0.1.attacker.invalid:0"});
  CHECK(named.exit_code == 2);
  CHECK(named.err.find("listening beyond loopback requires TLS")
        != std::string::npos);
  temp_dir data;
  child_process by_name{{ORCAD_PATH, "--data", data.file("data"), "--listen",
                         "localhost:0", "--http", "127.0.0.1:0"},
                        true};
  auto line = by_name.wait_for_line("listening on localhost:");
  CHECK_FALSE(line.empty());
  by_name.kill(SIGTERM);
  CHECK(by_name.wait() == 0);
}

TEST_CASE("every one of many orcactl processes at once gets its answer") {
  // Each orcactl is a new CAF node on a new connection: the node answers
  // each request on it, however many arrive together.
  temp_dir data;
  submission_plan plan{"M", 8, 10, 50};
  node_process node{notify_config, {}, &data};
  publish(node, example_path("order-to-invoice.json"), "Order to invoice");
  auto senders = start_submitters(node, data, plan);
  std::size_t accepted = 0;
  std::size_t unanswered = 0;
  for (auto& s : senders) {
    CHECK(s->wait() == 0);
    for (const auto& line : s->lines()) {
      accepted += line.rfind("accepted ", 0) == 0;
      unanswered += line == "unanswered";
    }
  }
  CHECK(unanswered == 0);
  CHECK(
    accepted
    == static_cast<std::size_t>(plan.clients * plan.batches * plan.per_batch));
}

TEST_CASE(
  "a node stopped while orders stream in answers every order it stored") {
  // Clients submit batch after batch; the node gets SIGTERM meanwhile.
  // Every order the store holds afterwards was answered "accepted" to its
  // client: a stop answers what it committed before the node ends.
  temp_dir data;
  submission_plan plan{"T", 4, 6, 100};
  std::set<std::string> answered;
  {
    node_process node{notify_config, {}, &data};
    publish(node, example_path("order-to-invoice.json"), "Order to invoice");
    auto senders = start_submitters(node, data, plan);
    REQUIRE_FALSE(senders.front()->wait_for_line("accepted ").empty());
    CHECK(node.stop() == 0);
    for (auto& s : senders) {
      s->wait();
      for (const auto& line : s->lines())
        if (line.rfind("accepted ", 0) == 0)
          answered.insert(line.substr(9));
    }
  }
  INFO(answered.size() << " orders answered accepted before the stop");
  CHECK(answered.size() < static_cast<std::size_t>(
          plan.clients * plan.batches * plan.per_batch)); // it stopped midway
  node_process again{notify_config, {}, &data};
  std::set<std::string> stored;
  auto list = again.ctl_json({"journey", "list", "--limit", "100000"});
  REQUIRE(list.exit_code == 0);
  std::istringstream lines{list.out};
  std::string line;
  while (std::getline(lines, line)) {
    auto at = line.find("\"order_id\":\"");
    REQUIRE(at != std::string::npos);
    at += 12;
    stored.insert(line.substr(at, line.find('"', at) - at));
  }
  std::vector<std::string> unanswered;
  for (const auto& id : stored)
    if (answered.count(id) == 0)
      unanswered.push_back(id);
  CHECK(unanswered.empty());
  CHECK(stored.size() == answered.size());
}

namespace {

/// Connects to `address` (HOST:PORT) and sends `header`, then up to
/// `stream` bytes of payload; returns how many payload bytes went out
/// before the node hung up.
std::size_t send_claim(const std::string& address, const std::string& header,
                       std::size_t stream) {
  auto colon = address.rfind(':');
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port =
    htons(static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
  REQUIRE(inet_pton(AF_INET, address.substr(0, colon).c_str(), &to.sin_addr)
          == 1);
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) == 0);
  REQUIRE(::send(fd, header.data(), header.size(), MSG_NOSIGNAL)
          == static_cast<ssize_t>(header.size()));
  std::string chunk(65536, 'x');
  std::size_t sent = 0;
  while (sent < stream) {
    auto n = ::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL);
    if (n <= 0)
      break;
    sent += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return sent;
}

} // namespace

TEST_CASE("a wire message over wire_bytes cuts its client off before the node "
          "reads it") {
  node_process node{R"({"providers": {"notify": {"kind": "simulated"}},
                        "limits": {"wire_bytes": 65536}})"};
  publish(node, example_path("order-to-invoice.json"), "Order to invoice");
  // A header that claims 1 GiB of payload, then 256 MiB of it: the node
  // hangs up long before.
  std::string header(32, '\0');
  header[0] = 0x02; // a direct message
  header[4] = 0x40; // payload length 0x40000000, big-endian
  auto sent = send_claim(node.address(), header, std::size_t{256} << 20);
  CHECK(sent < (std::size_t{256} << 20));
  // An orcactl submission over the limit is cut off: exit 1, nothing taken.
  std::string big;
  for (int i = 0; i < 200; ++i)
    big += with_id(first_example_order(), "BIG-" + std::to_string(i)) + "\n";
  node.dir().write("big.jsonl", big);
  auto refused = node.ctl({"order", "submit", node.dir().file("big.jsonl")});
  CHECK(refused.exit_code == 1);
  // The node goes on: a submission within the limit is taken.
  auto small = node.ctl({"order", "submit", example_path("orders.jsonl")});
  CHECK(small.exit_code == 0);
  CHECK(state_of(node, "BIG-0", "Order to invoice").empty());
  wait_state(node, "SO-1001", "Order to invoice", "waiting");
  REQUIRE(node.stop() == 0);
  std::size_t warnings = 0;
  for (const auto& line : node.log())
    if (line.find("over the limit of 65536 bytes (wire_bytes)")
        != std::string::npos)
      ++warnings;
  CHECK(warnings == 2);
}

TEST_CASE("a remote subscriber that stops reading loses updates instead of the "
          "node buffering them") {
  node_process node{notify_config};
  publish(node, example_path("order-to-invoice.json"), "Order to invoice");
  auto c = connect_to(node);
  // The subscriber takes its first update, then stops reading until told.
  std::promise<void> release;
  auto released = release.get_future().share();
  std::atomic<std::size_t> received{0};
  REQUIRE_FALSE(c->subscribe({}, [&](const orca::journey_record&) {
    if (received++ == 0)
      released.wait();
  }));
  constexpr int orders = 3000;
  std::string batch;
  for (int i = 0; i < orders; ++i)
    batch += with_id(first_example_order(), "U-" + std::to_string(i)) + "\n";
  node.dir().write("updates.jsonl", batch);
  REQUIRE(
    node.ctl({"order", "submit", node.dir().file("updates.jsonl")}).exit_code
    == 0);
  // Every journey parks waiting for shipping: at least two updates each
  // (started, waiting), far more than the subscriber may leave unread.
  // Once all wait, no more updates come.
  std::size_t waiting = 0;
  eventually(
    [&] {
      auto list = node.ctl_json(
        {"journey", "list", "--state", "waiting", "--limit", "100000"});
      waiting = static_cast<std::size_t>(
        std::count(list.out.begin(), list.out.end(), '\n'));
      return waiting >= orders;
    },
    std::chrono::seconds(60), std::chrono::milliseconds(100));
  REQUIRE(waiting == orders);
  CHECK(node.ctl({"node", "status"}).exit_code == 0); // the node goes on
  release.set_value();
  eventually([&] { return received.load() >= 1024; });
  // And a moment for a flood, which must not come, to show.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  INFO(received.load() << " updates received of at least " << 2 * orders);
  CHECK(received.load() <= 1025);
  CHECK(received.load() >= 1024);
}

TEST_CASE("a remote subscription to some orders hears of those orders only") {
  node_process node{notify_config};
  publish(node, example_path("order-to-invoice.json"), "Order to invoice");
  auto c = connect_to(node);
  std::mutex mutex;
  std::set<std::string> heard;
  std::size_t updates = 0;
  REQUIRE_FALSE(
    c->subscribe({"SO-1001", "SO-1003"}, [&](const orca::journey_record& r) {
      std::lock_guard<std::mutex> guard{mutex};
      heard.insert(r.order_id);
      ++updates;
    }));
  REQUIRE(node.ctl({"order", "submit", example_path("orders.jsonl")}).exit_code
          == 0);
  // Every example order settles; by then every update has been sent.
  for (auto id : {"SO-1001", "SO-1002", "SO-1003", "SO-1004", "SO-1005"})
    wait_state(node, id, "Order to invoice",
               {"waiting", "completed", "failed"});
  eventually([&] {
    std::lock_guard<std::mutex> guard{mutex};
    return heard.size() >= 2 && updates >= 4;
  });
  // And a moment for updates of other orders, which must not come, to show.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::lock_guard<std::mutex> guard{mutex};
  CHECK(heard == std::set<std::string>{"SO-1001", "SO-1003"});
  CHECK(updates >= 4); // each journey's start and where it settled
}

TEST_CASE("a pipelined submission to a busy node offers the refused batches "
          "again and answers every order in its place") {
  // Journeys wait for an event nobody sends, and stay in flight until
  // they leave memory: the node soon has its 60 orders in flight.
  node_process node{
    R"({"providers": {"notify": {"kind": "simulated"}},
        "limits": {"orders_in_flight": 60}})"};
  temp_dir files;
  files.write("park.json", R"({"name": "Park", "type": "order", "steps": [
    {"action": "custom", "name": "Wait", "provider": "notify",
     "input_events": ["never"]}]})");
  publish(node, files.file("park.json"), "Park");
  auto c = connect_to(node);
  std::vector<std::string> orders;
  for (int i = 0; i < 1200; ++i)
    orders.push_back(with_id(first_example_order(), "P-" + std::to_string(i)));
  std::size_t busy = 0;
  auto results = c->submit_pipelined(orders, 20, 16, {}, true, &busy);
  REQUIRE(results);
  REQUIRE(results->size() == orders.size());
  for (std::size_t i = 0; i < orders.size(); ++i) {
    INFO("order " << i);
    CHECK((*results)[i].order_id == "P-" + std::to_string(i));
    CHECK((*results)[i].status == "accepted");
  }
  CHECK(busy > 0); // the limit was reached, and every refusal retried
}
