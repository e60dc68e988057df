// End to end: a real orcad process on a free port, driven by orcactl
// through every command of SPEC §6, checking exit codes, error lines and
// the JSON records of §5.

#include <catch2/catch.hpp>

#include <random>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "flows/json.hpp"
#include "support/lmdb_surgery.hpp"
#include "support/node_process.hpp"
#include "support/wait.hpp"

using namespace orca;
using namespace orca::test;

namespace {

const char* notify_config =
  R"({"providers": {"notify": {"kind": "simulated"}}})";

std::string example_file(const std::string& name) {
  return example_path(name);
}

/// Every line of `out` as a JSON object; fails the test on one that is not.
std::vector<json_document> json_lines(const run_result& r) {
  std::vector<json_document> docs;
  for (const auto& line : r.lines()) {
    if (line.empty())
      continue;
    json_document doc;
    doc.Parse(line.c_str());
    INFO(line);
    REQUIRE_FALSE(doc.HasParseError());
    REQUIRE(doc.IsObject());
    docs.push_back(std::move(doc));
  }
  return docs;
}

/// Checks that `doc` is a journey record with the fields of SPEC §5.
void check_journey_record(const json_document& doc) {
  REQUIRE(doc.HasMember("order_id"));
  CHECK(doc["order_id"].IsString());
  CHECK(doc["flow"].IsString());
  CHECK(doc["version"].IsUint());
  CHECK(doc["state"].IsString());
  REQUIRE(doc["steps"].IsArray());
  for (const auto& s : doc["steps"].GetArray()) {
    CHECK(s["name"].IsString());
    CHECK((s.HasMember("action") || s.HasMember("element")));
    CHECK(s["path"].IsString());
    CHECK(s["outcome"].IsString());
    CHECK(s["attempts"].IsUint());
    CHECK((s["error"].IsNull() || s["error"].IsString()));
  }
  REQUIRE(doc["fulfillment_orders"].IsArray());
  for (const auto& fo : doc["fulfillment_orders"].GetArray()) {
    CHECK(fo["id"].IsString());
    CHECK(fo["source"].IsString());
    CHECK(fo["lines"].IsArray());
    CHECK(fo["sent"].IsBool());
  }
  CHECK((doc["invoice_id"].IsNull() || doc["invoice_id"].IsString()));
}

void publish_examples(const node_process& node) {
  for (auto [file, name] :
       {std::pair{"order-to-invoice.json", "Order to invoice"},
        std::pair{"test-order-flow-sample.json", "Test Order flow sample"}}) {
    REQUIRE(node.ctl({"flow", "create", example_file(file)}).exit_code == 0);
    REQUIRE(node.ctl({"flow", "publish", name}).exit_code == 0);
  }
}

} // namespace

TEST_CASE("orcactl takes a flow through its lifecycle on a running orcad") {
  node_process node{notify_config};
  auto file = example_file("order-to-invoice.json");
  auto created = node.ctl({"flow", "create", file});
  CHECK(created.exit_code == 0);
  CHECK(created.out
        == "flow \"Order to invoice\": Unpublished, draft of version 1\n");
  SECTION("creating it twice is invalid input") {
    auto again = node.ctl({"flow", "create", file});
    CHECK(again.exit_code == 3);
    CHECK(again.err.rfind("error: " + file + ": name: a flow named", 0) == 0);
  }
  SECTION("a flow with errors is refused with one error line each") {
    node.dir().write("bad.json",
                     R"({"name": "Bad", "type": "return", "stepz": 1,
      "steps": [{"action": "custom", "name": "C"}]})");
    auto bad = node.ctl({"flow", "create", node.dir().file("bad.json")});
    CHECK(bad.exit_code == 3);
    CHECK(bad.err.find("error: " + node.dir().file("bad.json")
                       + ": stepz: unknown field")
          != std::string::npos);
    CHECK(
      bad.err.find("error: " + node.dir().file("bad.json")
                   + ": steps[0] \"C\": a custom action needs a \"provider\"")
      != std::string::npos);
  }
  auto published = node.ctl({"flow", "publish", "Order to invoice"});
  CHECK(published.exit_code == 0);
  CHECK(published.out == "flow \"Order to invoice\": Published, version 1\n");
  auto refused = node.ctl({"flow", "update", file});
  CHECK(refused.exit_code == 1);
  CHECK(refused.err.find("pause or stop it before updating it")
        != std::string::npos);
  CHECK(node.ctl({"flow", "pause", "Order to invoice"}).exit_code == 0);
  CHECK(node.ctl({"flow", "resume", "Order to invoice"}).exit_code == 0);
  auto not_paused = node.ctl({"flow", "resume", "Order to invoice"});
  CHECK(not_paused.exit_code == 1);
  CHECK(not_paused.err == "error: flow \"Order to invoice\" is not paused\n");
  CHECK(node.ctl({"flow", "stop", "Order to invoice"}).exit_code == 0);
  CHECK(node.ctl({"flow", "update", file}).exit_code == 0);
  auto v2 = node.ctl_json({"flow", "publish", "Order to invoice"});
  CHECK(v2.exit_code == 0);
  auto v2_json = json_lines(v2);
  REQUIRE(v2_json.size() == 1);
  CHECK(view_of(v2_json[0]["name"]) == "Order to invoice");
  CHECK(view_of(v2_json[0]["type"]) == "order");
  CHECK(view_of(v2_json[0]["description"]).rfind("Validate, source, fulfil", 0)
        == 0);
  CHECK(view_of(v2_json[0]["status"]) == "Published");
  CHECK(v2_json[0]["latest_version"].GetUint() == 2);

  auto list = node.ctl({"flow", "list"});
  CHECK(list.exit_code == 0);
  CHECK(list.out.rfind("NAME", 0) == 0);
  CHECK(list.out.find("NAME              TYPE   STATUS") == 0);
  CHECK(list.out.find("Order to invoice  order  Published  no      2")
        != std::string::npos);
  auto list_json = json_lines(node.ctl_json({"flow", "list"}));
  REQUIRE(list_json.size() == 1);
  CHECK(view_of(list_json[0]["status"]) == "Published");
  CHECK(list_json[0]["latest_version"].GetUint() == 2);

  auto show = node.ctl({"flow", "show", "Order to invoice", "--version", "1"});
  CHECK(show.exit_code == 0);
  CHECK(show.out.find("version 1:") != std::string::npos);
  CHECK(show.out.find("└── Valid?: condition_merge") != std::string::npos);
  auto show_json =
    json_lines(node.ctl_json({"flow", "show", "Order to invoice"}));
  REQUIRE(show_json.size() == 1);
  CHECK(show_json[0]["version"].GetUint() == 2);
  CHECK(show_json[0]["versions"].Size() == 2);
  CHECK(view_of(show_json[0]["definition"]["name"]) == "Order to invoice");
  auto missing =
    node.ctl({"flow", "show", "Order to invoice", "--version", "7"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("has no version 7") != std::string::npos);

  auto dot = node.ctl({"flow", "export", "Order to invoice"});
  CHECK(dot.exit_code == 0);
  CHECK(dot.out.rfind("digraph \"Order to invoice\" {", 0) == 0);
  CHECK(dot.out.find("[label=\"yes\"]") != std::string::npos);
  auto mermaid =
    node.ctl({"flow", "export", "Order to invoice", "--format", "mermaid"});
  CHECK(mermaid.exit_code == 0);
  CHECK(mermaid.out.rfind("flowchart TD", 0) == 0);
  auto svg =
    node.ctl({"flow", "export", "Order to invoice", "--format", "svg"});
  CHECK(svg.exit_code == 0);
  CHECK(svg.out.rfind("<?xml", 0) == 0);
  CHECK(svg.out.find(">Check header<") != std::string::npos);
  CHECK(node.ctl({"flow", "export", "Order to invoice", "--format", "png"})
          .exit_code
        == 2);
  CHECK(node.stop() == 0);
}

TEST_CASE("flow show and export show the draft when there is one, --version a "
          "frozen one") {
  node_process node{R"({"providers": {"notify": {"kind": "simulated"}}})"};
  auto file = example_file("order-to-invoice.json");
  REQUIRE(node.ctl({"flow", "create", file}).exit_code == 0);
  REQUIRE(node.ctl({"flow", "publish", "Order to invoice"}).exit_code == 0);
  REQUIRE(node.ctl({"flow", "stop", "Order to invoice"}).exit_code == 0);
  auto text = orca::test::read_text(file);
  auto at = text.find("Check header");
  REQUIRE(at != std::string::npos);
  text.replace(at, 12, "Check the header");
  node.dir().write("changed.json", text);
  REQUIRE(
    node.ctl({"flow", "update", node.dir().file("changed.json")}).exit_code
    == 0);
  auto draft = node.ctl({"flow", "show", "Order to invoice"});
  CHECK(draft.exit_code == 0);
  CHECK(draft.out.find("draft of version 2:") != std::string::npos);
  CHECK(draft.out.find("Check the header") != std::string::npos);
  auto frozen =
    node.ctl({"flow", "show", "Order to invoice", "--version", "1"});
  CHECK(frozen.out.find("version 1:") != std::string::npos);
  CHECK(frozen.out.find("Check the header") == std::string::npos);
  auto dot = node.ctl({"flow", "export", "Order to invoice"});
  CHECK(dot.out.find("Check the header") != std::string::npos);
  auto dot1 =
    node.ctl({"flow", "export", "Order to invoice", "--version", "1"});
  CHECK(dot1.exit_code == 0);
  CHECK(dot1.out.find("Check the header") == std::string::npos);
  // Published, the draft is version 2 and show says so.
  REQUIRE(node.ctl({"flow", "publish", "Order to invoice"}).exit_code == 0);
  auto published = node.ctl({"flow", "show", "Order to invoice"});
  CHECK(published.out.find("version 2:") != std::string::npos);
  CHECK(published.out.find("draft") == std::string::npos);
  CHECK(node.stop() == 0);
}

TEST_CASE("orcactl changes a paused flow and republishes it: held orders run "
          "on the new version") {
  node_process node{notify_config};
  auto file = example_file("order-to-invoice.json");
  REQUIRE(node.ctl({"flow", "create", file}).exit_code == 0);
  REQUIRE(node.ctl({"flow", "publish", "Order to invoice"}).exit_code == 0);
  REQUIRE(node.ctl({"flow", "pause", "Order to invoice"}).exit_code == 0);
  node.dir().write("one.jsonl",
                   "{\"id\": \"H-1\", \"lines\": [{\"id\": \"1\"}]}\n");
  REQUIRE(node.ctl({"order", "submit", node.dir().file("one.jsonl")}).exit_code
          == 0);
  wait_state(node, "H-1", "Order to invoice", "paused");

  auto text = orca::test::read_text(file);
  auto at = text.find("Check header");
  REQUIRE(at != std::string::npos);
  text.replace(at, 12, "Check the header");
  node.dir().write("changed.json", text);
  auto updated = node.ctl({"flow", "update", node.dir().file("changed.json")});
  CHECK(updated.exit_code == 0);
  CHECK(updated.err.empty());
  auto v2 = node.ctl({"flow", "publish", "Order to invoice"});
  CHECK(v2.exit_code == 0);
  CHECK(v2.out == "flow \"Order to invoice\": Published, paused, version 2\n");
  auto shown = node.ctl({"flow", "show", "Order to invoice"});
  CHECK(shown.out.find("version 2:") != std::string::npos);
  CHECK(shown.out.find("held by the pause: version 1: 1\n")
        != std::string::npos);
  auto shown_json =
    json_lines(node.ctl_json({"flow", "show", "Order to invoice"}));
  REQUIRE(shown_json.size() == 1);
  CHECK(shown_json[0]["paused"].GetBool());
  CHECK(shown_json[0]["held"]["1"].GetUint64() == 1);
  CHECK(shown_json[0]["held"]["2"].GetUint64() == 0);

  REQUIRE(node.ctl({"flow", "resume", "Order to invoice"}).exit_code == 0);
  auto journeys = node.ctl_json({"journey", "show", "H-1"});
  eventually(
    [&] {
      journeys = node.ctl_json({"journey", "show", "H-1"});
      return journeys.out.find("\"version\":2") != std::string::npos;
    },
    std::chrono::seconds(10), std::chrono::milliseconds(20));
  auto records = json_lines(journeys);
  REQUIRE(records.size() == 1);
  CHECK(records[0]["version"].GetUint() == 2);
  CHECK(view_of(records[0]["steps"][0]["name"]) == "Check the header");
  CHECK(node.stop() == 0);
}

TEST_CASE(
  "orders submitted with orcactl run and their journeys read back as records") {
  node_process node{notify_config};
  publish_examples(node);
  auto submitted =
    node.ctl_json({"order", "submit", example_file("orders.jsonl")});
  CHECK(submitted.exit_code == 0);
  auto outcomes = json_lines(submitted);
  REQUIRE(outcomes.size() == 5);
  for (const auto& o : outcomes) {
    CHECK(view_of(o["status"]) == "accepted");
    CHECK(o["error"].IsNull());
  }

  SECTION(
    "a duplicate is reported, a malformed order rejected, the rest accepted") {
    std::string input =
      "{\"id\": \"SO-1001\", \"lines\": []}\n"
      "{\"id\": \"NEW-1\", \"lines\": [{\"id\": \"1\"}, {\"id\": \"1\"}]}\n"
      "\n"
      "{\"id\": \"NEW-2\", \"lines\": []}\n";
    auto r = node.ctl({"order", "submit", "-"}, input);
    CHECK(r.exit_code == 3);
    CHECK(r.out == "duplicate SO-1001\nrejected NEW-1\naccepted NEW-2\n");
    CHECK(
      r.err
      == "error: -:2: order \"NEW-1\": lines[1].id: duplicate line id \"1\"\n");
  }

  SECTION(
    "journey list filters by flow and state and prints section 5 records") {
    wait_state(node, "SO-1001", "Order to invoice", "waiting");
    wait_state(node, "SO-1005", "Order to invoice", "completed");
    auto all = json_lines(node.ctl_json({"journey", "list"}));
    CHECK(all.size() == 10);
    for (const auto& doc : all)
      check_journey_record(doc);
    auto failed = json_lines(node.ctl_json(
      {"journey", "list", "--flow", "Order to invoice", "--state", "failed"}));
    REQUIRE(failed.size() == 1);
    CHECK(view_of(failed[0]["order_id"]) == "SO-1003");
    CHECK(json_lines(node.ctl_json({"journey", "list", "--limit", "3"})).size()
          == 3);
    auto table = node.ctl({"journey", "list", "--state", "waiting"});
    CHECK(table.exit_code == 0);
    CHECK(table.out.rfind("ORDER", 0) == 0);
    CHECK(node.ctl({"journey", "list", "--state", "sleepy"}).exit_code == 2);
    // The engine's own "received" is not one of SPEC's states: not asked
    // for, never shown (a journey that has run no step is "running").
    CHECK(node.ctl({"journey", "list", "--state", "received"}).exit_code == 2);
    for (const auto& doc : json_lines(node.ctl_json({"journey", "list"})))
      CHECK(view_of(doc["state"]) != "received");
  }

  SECTION("journey show prints the record and its timeline") {
    wait_state(node, "SO-1001", "Order to invoice", "waiting");
    auto event = node.ctl({"order", "event", "SO-1001", "fulfillment_shipped"});
    CHECK(event.exit_code == 0);
    CHECK(event.out
          == "event fulfillment_shipped recorded for order SO-1001\n");
    wait_state(node, "SO-1001", "Order to invoice", "completed");
    auto shown = json_lines(node.ctl_json({"journey", "show", "SO-1001"}));
    REQUIRE(shown.size() == 2);
    for (const auto& doc : shown) {
      check_journey_record(doc);
      REQUIRE(doc["timeline"].IsArray());
      CHECK(doc["timeline"].Size() > 3);
    }
    auto text =
      node.ctl({"journey", "show", "SO-1001", "--flow", "Order to invoice"});
    CHECK(text.exit_code == 0);
    CHECK(
      text.out.find(
        "order \"SO-1001\" on flow \"Order to invoice\" version 1: completed")
      != std::string::npos);
    CHECK(text.out.find("invoice INV-SO-1001") != std::string::npos);
    CHECK(text.out.find("event \"fulfillment_shipped\"") != std::string::npos);
    auto none = node.ctl({"journey", "show", "NOPE"});
    CHECK(none.exit_code == 1);
    CHECK(none.err == "error: order \"NOPE\" has no journey\n");
  }

  SECTION("cancel ends a waiting journey") {
    wait_state(node, "SO-1004", "Order to invoice", "waiting");
    // --json prints what the cancel changed: the order's journeys.
    auto cancelled = json_lines(node.ctl_json({"order", "cancel", "SO-1004"}));
    REQUIRE(cancelled.size() == 2);
    for (const auto& doc : cancelled) {
      check_journey_record(doc);
      CHECK(view_of(doc["order_id"]) == "SO-1004");
    }
    wait_state(node, "SO-1004", "Order to invoice", "cancelled");
    auto unknown = node.ctl({"order", "event", "NOPE", "x"});
    CHECK(unknown.exit_code == 1);
    CHECK(unknown.err == "error: no order \"NOPE\" on this node\n");
  }

  SECTION("replay and redrive") {
    wait_state(node, "SO-1003", "Order to invoice", "failed");
    auto replayed = json_lines(node.ctl_json(
      {"journey", "replay", "SO-1003", "--flow", "Order to invoice"}));
    REQUIRE(replayed.size() == 1);
    CHECK_FALSE(replayed[0]["diverges"].GetBool());
    CHECK(view_of(replayed[0]["replayed_state"]) == "failed");
    auto text =
      node.ctl({"journey", "replay", "SO-1003", "--flow", "Order to invoice"});
    CHECK(text.out.find("no divergence") != std::string::npos);
    auto several = node.ctl({"journey", "replay", "SO-1003"});
    CHECK(several.exit_code == 2);
    CHECK(several.err.find("has journeys on flows") != std::string::npos);
    auto redriven =
      node.ctl({"journey", "redrive", "SO-1003", "--flow", "Order to invoice"});
    CHECK(redriven.exit_code == 0);
    CHECK(redriven.out.rfind("redriven: ", 0) == 0);
    wait_state(node, "SO-1003", "Order to invoice", "failed");
    auto not_failed =
      node.ctl({"journey", "redrive", "SO-1005", "--flow", "Order to invoice"});
    CHECK(not_failed.exit_code == 1);
    CHECK(not_failed.err.find("not failed") != std::string::npos);
  }

  SECTION("replay against a changed version reports where it diverges") {
    wait_state(node, "SO-1005", "Order to invoice", "completed");
    REQUIRE(node.ctl({"flow", "stop", "Order to invoice"}).exit_code == 0);
    auto text = read_text(example_file("order-to-invoice.json"));
    auto rule = std::string{R"("op": "gt", "value": 0})"};
    text.replace(text.find(rule), rule.size(), R"("op": "ge", "value": 0})");
    node.dir().write("v2.json", text);
    REQUIRE(node.ctl({"flow", "update", node.dir().file("v2.json")}).exit_code
            == 0);
    REQUIRE(node.ctl({"flow", "publish", "Order to invoice"}).exit_code == 0);
    auto r = node.ctl({"journey", "replay", "SO-1005", "--flow",
                       "Order to invoice", "--against-version", "2"});
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("version 2 (recorded on version 1)") != std::string::npos);
    CHECK(
      r.out.find("diverges: step 2 at the top level: recorded \"Check lines\" "
                 "failed")
      != std::string::npos);
    auto same =
      json_lines(node.ctl_json({"journey", "replay", "SO-1001", "--flow",
                                "Order to invoice", "--against-version", "1"}));
    REQUIRE(same.size() == 1);
    CHECK_FALSE(same[0]["diverges"].GetBool());
    CHECK(node
            .ctl({"journey", "replay", "SO-1001", "--flow", "Order to invoice",
                  "--against-version", "9"})
            .exit_code
          == 1);
  }

  SECTION("stop with --cancel-in-flight cancels the journeys still running") {
    wait_state(node, "SO-1002", "Order to invoice", "waiting");
    auto stopped =
      node.ctl({"flow", "stop", "Order to invoice", "--cancel-in-flight"});
    CHECK(stopped.exit_code == 0);
    CHECK(stopped.out == "flow \"Order to invoice\": Unpublished, version 1\n");
    wait_state(node, "SO-1002", "Order to invoice", "cancelled");
    wait_state(node, "SO-1001", "Order to invoice", "cancelled");
    auto again = node.ctl({"flow", "stop", "Order to invoice"});
    CHECK(again.exit_code == 1);
    CHECK(again.err == "error: flow \"Order to invoice\" is not published\n");
  }

  SECTION("provider list and node status") {
    auto providers = json_lines(node.ctl_json({"provider", "list"}));
    REQUIRE(providers.size() == 5);
    CHECK(view_of(providers[0]["id"]) == "billing");
    auto status = json_lines(node.ctl_json({"node", "status"}));
    REQUIRE(status.size() == 1);
    CHECK(view_of(status[0]["listen"]) == node.address());
    CHECK(status[0]["flows"].GetUint() == 2);
    CHECK(node.ctl({"node", "status"}).out.rfind("node " + node.address(), 0)
          == 0);
  }
  CHECK(node.stop() == 0);
}

TEST_CASE("order submit --wait prints each journey once it settles, or exits 1 "
          "at the time-out") {
  node_process node{R"({"providers": {"notify": {"kind": "simulated"},
    "slow": {"kind": "simulated", "latency_ms": 60000}}})"};
  publish_examples(node);
  auto r = node.ctl_json({"order", "submit", example_file("orders.jsonl"),
                          "--wait", "--timeout", "20"});
  CHECK(r.exit_code == 0);
  auto docs = json_lines(r);
  // Five submission results, then one record per journey.
  REQUIRE(docs.size() == 5 + 10);
  for (std::size_t i = 5; i < docs.size(); ++i) {
    check_journey_record(docs[i]);
    auto state = std::string{view_of(docs[i]["state"])};
    CHECK((state == "waiting" || state == "completed" || state == "failed"
           || state == "skipped"));
  }
  node.dir().write("slow.json", R"({"name": "Slow", "type": "order", "steps": [
    {"action": "custom", "name": "Wait long", "provider": "slow"}]})");
  REQUIRE(node.ctl({"flow", "create", node.dir().file("slow.json")}).exit_code
          == 0);
  REQUIRE(node.ctl({"flow", "publish", "Slow"}).exit_code == 0);
  auto slow = node.ctl({"order", "submit", "-", "--wait", "--timeout", "1"},
                       "{\"id\": \"S-1\", \"lines\": []}\n");
  CHECK(slow.exit_code == 1);
  CHECK(slow.err.find("error: not every journey settled within 1 s")
        != std::string::npos);
  CHECK(slow.out.find("order \"S-1\" on flow \"Slow\" version 1: running")
        != std::string::npos);

  // Each journey is printed as it settles: the order's journey on the
  // example flow (failed: the order lacks what its validation wants) comes
  // out while its journey on Slow still runs.
  node.dir().write("two.jsonl",
                   "{\"id\": \"S-2\", \"lines\": [{\"id\": \"1\"}]}\n");
  child_process streaming{{ORCACTL_PATH, "--node", node.address(), "--json",
                           "order", "submit", node.dir().file("two.jsonl"),
                           "--wait", "--timeout", "60"}};
  auto line = streaming.wait_for_line("\"flow\":\"Order to invoice\"");
  CHECK(line.find("\"order_id\":\"S-2\"") != std::string::npos);
  CHECK(line.find("\"state\":\"failed\"") != std::string::npos);
  for (const auto& l : streaming.lines())
    CHECK(l.find("\"flow\":\"Slow\"") == std::string::npos);
  streaming.kill(SIGTERM);
  streaming.wait();
}

TEST_CASE("usage errors exit 2 and an unreachable node exits 1") {
  auto ctl = [](std::vector<std::string> args) {
    args.insert(args.begin(), ORCACTL_PATH);
    return run(args);
  };
  CHECK(ctl({"flow"}).exit_code == 2);
  CHECK(ctl({"order", "submit"}).exit_code == 2);
  CHECK(ctl({"journey", "show"}).exit_code == 2);
  CHECK(ctl({"--node", "nowhere", "flow", "list"}).exit_code == 2);
  CHECK(ctl({"order", "submit", "x.jsonl", "--timeout", "3"}).exit_code == 2);
  auto unreachable = ctl({"--node", "127.0.0.1:1", "flow", "list"});
  CHECK(unreachable.exit_code == 1);
  CHECK(unreachable.err.rfind("error: cannot reach node 127.0.0.1:1", 0) == 0);
  auto orcad = run({ORCAD_PATH, "--data", "/tmp/x", "--listen", "0.0.0.0:0"});
  CHECK(orcad.exit_code == 2);
  CHECK(orcad.err.find("requires TLS") != std::string::npos);
  CHECK(run({ORCAD_PATH}).exit_code == 2);
}

TEST_CASE("a store that is full is a runtime failure of the submission, not a "
          "rejection") {
  // 1 MiB of store: it fills within the submission below.
  node_process node{notify_config, {"--map-size", "1048576"}};
  node.dir().write("w.json", R"({"name": "W", "type": "order", "steps": [
    {"action": "validate_order_header", "name": "Check"}]})");
  REQUIRE(node.ctl({"flow", "create", node.dir().file("w.json")}).exit_code
          == 0);
  REQUIRE(node.ctl({"flow", "publish", "W"}).exit_code == 0);
  std::string orders;
  for (int i = 0; i < 30000; ++i)
    orders += R"({"id": "F-)" + std::to_string(i) + R"(", "customer": ")"
      + std::string(500, 'c') + R"(", "lines": []})" + "\n";
  node.dir().write("orders.jsonl", orders);
  auto full = node.ctl({"order", "submit", node.dir().file("orders.jsonl")});
  CHECK(full.exit_code == 1); // §6: the node's failure, not the orders'
  CHECK(full.err.find("storage full") != std::string::npos);
  CHECK(full.err.find("--map-size") != std::string::npos);
  // The node goes on, and still has the orders it took. (Their journeys
  // may have failed for want of room to save their state, saying so.)
  CHECK(node.ctl({"node", "status"}).exit_code == 0);
  auto first = json_lines(node.ctl_json({"journey", "show", "F-0"}));
  CHECK(first.size() == 1);
}

TEST_CASE("orcad stops cleanly on SIGTERM and keeps every accepted order") {
  temp_dir data;
  {
    node_process node{notify_config, {}, &data};
    publish_examples(node);
    CHECK(node.ctl({"order", "submit", example_file("orders.jsonl")}).exit_code
          == 0);
    CHECK(node.stop() == 0);
  }
  node_process again{notify_config, {}, &data};
  auto all = json_lines(again.ctl_json({"journey", "list"}));
  CHECK(all.size() == 10);
  auto flows = json_lines(again.ctl_json({"flow", "list"}));
  CHECK(flows.size() == 2);
  REQUIRE(
    again.ctl({"order", "event", "SO-1001", "fulfillment_shipped"}).exit_code
    == 0);
  wait_state(again, "SO-1001", "Order to invoice", "completed");
}

TEST_CASE("orcactl keeps a policy library that flows use and publish freezes") {
  node_process node{notify_config};
  auto policies = [](const std::string& message) {
    return R"({"filter": [{"name": "US only", "when": {"field": "country", "op": "eq", "value": "US"}}],
      "execution": [{"name": "Needs customer", "kind": "header_validation",
        "rules": [{"when": {"field": "customer", "op": "exists"}, "message": ")"
      + message + R"("}]}]})";
  };
  node.dir().write("lib.json", policies("customer is required"));
  auto put = node.ctl({"policy", "put", node.dir().file("lib.json")});
  CHECK(put.exit_code == 0);
  CHECK(put.out.find("Needs customer  execution") != std::string::npos);
  auto list = json_lines(node.ctl_json({"policy", "list"}));
  REQUIRE(list.size() == 2);
  CHECK(view_of(list[0]["name"]) == "Needs customer");
  CHECK(view_of(list[1]["kind"]) == "filter");
  auto shown = node.ctl({"policy", "show", "US only"});
  CHECK(shown.exit_code == 0);
  CHECK(shown.out.rfind("policy \"US only\" (filter)", 0) == 0);

  node.dir().write("flow.json", R"({"name": "Lib", "type": "order",
    "description": "checks with library policies", "steps": [
    {"action": "validate_order_header", "name": "Check",
     "filter_policies": ["US only"], "execution_policies": ["Needs customer"]}]})");
  // Offline there is no library, unless a file stands for it.
  auto offline = node.ctl({"flow", "validate", node.dir().file("flow.json")});
  CHECK(offline.exit_code == 3);
  CHECK(
    offline.err.find("no filter policy named \"US only\" in the flow or the "
                     "policy library")
    != std::string::npos);
  CHECK(node
          .ctl({"flow", "validate", node.dir().file("flow.json"), "--policies",
                node.dir().file("lib.json")})
          .exit_code
        == 0);
  REQUIRE(node.ctl({"flow", "create", node.dir().file("flow.json")}).exit_code
          == 0);
  // The draft is read with the library, as publish will read it.
  auto draft = node.ctl({"flow", "show", "Lib"});
  CHECK(draft.exit_code == 0);
  CHECK(draft.out.find("draft of version 1:\n") != std::string::npos);
  CHECK(draft.out.find("Check") != std::string::npos);
  auto drawn = node.ctl({"flow", "export", "Lib"});
  CHECK(drawn.exit_code == 0);
  CHECK(drawn.out.find("Check") != std::string::npos);
  auto draft_json = json_lines(node.ctl_json({"flow", "show", "Lib"}));
  REQUIRE(draft_json.size() == 1);
  CHECK(view_of(draft_json[0]["type"]) == "order");
  CHECK(view_of(draft_json[0]["description"])
        == "checks with library policies");
  REQUIRE(node.ctl({"flow", "publish", "Lib"}).exit_code == 0);
  node.dir().write("orders.jsonl",
                   "{\"id\": \"P-1\", \"country\": \"US\", \"lines\": []}\n");
  REQUIRE(
    node.ctl({"order", "submit", node.dir().file("orders.jsonl")}).exit_code
    == 0);
  wait_state(node, "P-1", "Lib", "failed");
  auto p1 = json_lines(node.ctl_json({"journey", "show", "P-1"}));
  REQUIRE(p1.size() == 1);
  CHECK(view_of(p1[0]["steps"][0]["error"]) == "customer is required");

  // A library change does not alter version 1; the next publish takes it.
  node.dir().write("lib2.json", policies("who is it for?"));
  REQUIRE(node.ctl({"policy", "put", node.dir().file("lib2.json")}).exit_code
          == 0);
  auto v1 =
    json_lines(node.ctl_json({"flow", "show", "Lib", "--version", "1"}));
  REQUIRE(v1.size() == 1);
  CHECK(
    view_of(
      v1[0]["definition"]["policies"]["execution"][0]["rules"][0]["message"])
    == "customer is required");
  REQUIRE(node.ctl({"flow", "stop", "Lib"}).exit_code == 0);
  auto v2 = node.ctl({"flow", "publish", "Lib"});
  CHECK(v2.out == "flow \"Lib\": Published, version 2\n");
  node.dir().write("orders2.jsonl",
                   "{\"id\": \"P-2\", \"country\": \"US\", \"lines\": []}\n");
  REQUIRE(
    node.ctl({"order", "submit", node.dir().file("orders2.jsonl")}).exit_code
    == 0);
  wait_state(node, "P-2", "Lib", "failed");
  auto p2 = json_lines(node.ctl_json({"journey", "show", "P-2"}));
  REQUIRE(p2.size() == 1);
  CHECK(p2[0]["version"].GetUint() == 2);
  CHECK(view_of(p2[0]["steps"][0]["error"]) == "who is it for?");

  // A flow that defines a library policy's name is refused, naming both.
  node.dir().write("clash.json", R"({"name": "Clash", "type": "order",
    "policies": {"filter": [{"name": "US only", "when": {"field": "a", "op": "exists"}}]},
    "steps": [{"action": "custom", "name": "C", "provider": "notify",
               "filter_policies": ["US only"]}]})");
  auto clash = node.ctl({"flow", "create", node.dir().file("clash.json")});
  CHECK(clash.exit_code == 3);
  CHECK(clash.err.find("policy \"US only\" is defined both in this flow and in "
                       "the node's policy library")
        != std::string::npos);
  auto bad = node.ctl({"policy", "put", node.dir().file("flow.json")});
  CHECK(bad.exit_code == 3);
  CHECK(bad.err.find("unknown field \"name\"") != std::string::npos);
  auto deleted = json_lines(node.ctl_json({"policy", "delete", "US only"}));
  REQUIRE(deleted.size() == 1);
  CHECK(view_of(deleted[0]["name"]) == "US only");
  CHECK(view_of(deleted[0]["kind"]) == "filter");
  CHECK(view_of(deleted[0]["definition"]["when"]["value"]) == "US");
  auto gone = node.ctl({"policy", "show", "US only"});
  CHECK(gone.exit_code == 1);
  CHECK(gone.err == "error: no policy named \"US only\" in the library\n");
}

TEST_CASE("a damaged flow record is listed as damaged and the node goes on") {
  temp_dir data;
  {
    node_process node{notify_config, {}, &data};
    publish_examples(node);
    REQUIRE(node.stop() == 0);
  }
  REQUIRE(damage_records(data.file("data"), format::db_flows,
                         "Order to invoice",
                         [](std::string v) { return truncate(v, 5); })
          == 1);
  node_process node{notify_config, {}, &data};
  auto list = node.ctl({"flow", "list"});
  CHECK(list.exit_code == 0);
  CHECK(list.out.find("Order to invoice        -      damaged")
        != std::string::npos);
  auto list_json = json_lines(node.ctl_json({"flow", "list"}));
  REQUIRE(list_json.size() == 2);
  CHECK(view_of(list_json[0]["damaged"])
          .find("record flows/\"Order to invoice\" is damaged")
        == 0);
  CHECK(view_of(list_json[1]["status"]) == "Published");
  auto status = node.ctl({"node", "status"});
  CHECK(status.exit_code == 0);
  auto shown = node.ctl({"flow", "show", "Order to invoice"});
  CHECK(shown.exit_code == 1);
  CHECK(shown.err.find("is damaged") != std::string::npos);
  // The other flow takes orders and runs them.
  node.dir().write("one.jsonl",
                   R"({"id": "D-1", "source": "Shopify", "lines": []})"
                   "\n");
  REQUIRE(node.ctl({"order", "submit", node.dir().file("one.jsonl")}).exit_code
          == 0);
  auto ran = json_lines(node.ctl_json({"journey", "show", "D-1"}));
  REQUIRE(ran.size() == 1);
  CHECK(view_of(ran[0]["flow"]) == "Test Order flow sample");
}

TEST_CASE("a damaged library policy holds up only the flows that use it") {
  temp_dir data;
  {
    node_process node{notify_config, {}, &data};
    data.write("lib.json", R"({"filter": [
      {"name": "US only", "when": {"field": "country", "op": "eq", "value": "US"}},
      {"name": "Big", "when": {"field": "total", "op": "gt", "value": 100}}]})");
    REQUIRE(node.ctl({"policy", "put", data.file("lib.json")}).exit_code == 0);
    REQUIRE(node.stop() == 0);
  }
  REQUIRE(damage_records(data.file("data"), format::db_policies, "US only",
                         [](std::string v) { return truncate(v, 5); })
          == 1);
  node_process node{notify_config, {}, &data};
  auto list = node.ctl({"policy", "list"});
  CHECK(list.exit_code == 0);
  CHECK(list.out.find("US only  damaged") != std::string::npos);
  auto listed = json_lines(node.ctl_json({"policy", "list"}));
  REQUIRE(listed.size() == 2);
  CHECK(view_of(listed[1]["name"]) == "US only");
  CHECK(view_of(listed[1]["damaged"]).find("is damaged") != std::string::npos);
  auto flow = [&](const char* name, const char* policy) {
    data.write("flow.json",
               std::string{R"({"name": ")"} + name
                 + R"(", "type": "order", "steps": [
      {"action": "custom", "name": "C", "provider": "notify",
       "filter_policies": [")"
                 + policy + R"("]}]})");
    return node.ctl({"flow", "create", data.file("flow.json")});
  };
  CHECK(flow("Fine", "Big").exit_code == 0);
  CHECK(node.ctl({"flow", "publish", "Fine"}).exit_code == 0);
  auto refused = flow("Stuck", "US only");
  CHECK(refused.exit_code == 3);
  CHECK(
    refused.err.find("policy \"US only\" of the node's policy library cannot "
                     "be read")
    != std::string::npos);
  // A damaged policy can be deleted like any other.
  CHECK(node.ctl({"policy", "delete", "US only"}).exit_code == 0);
  CHECK(json_lines(node.ctl_json({"policy", "list"})).size() == 1);
}

TEST_CASE("flow stop --cancel-in-flight holds across a kill -9 right after it "
          "is acknowledged") {
  constexpr int orders = 3000;
  temp_dir data;
  node_process node{notify_config, {}, &data};
  data.write("wait.json", R"({"name": "Wait", "type": "order", "steps": [
    {"action": "custom", "name": "After go", "provider": "notify",
     "input_events": ["go"]}]})");
  REQUIRE(node.ctl({"flow", "create", data.file("wait.json")}).exit_code == 0);
  REQUIRE(node.ctl({"flow", "publish", "Wait"}).exit_code == 0);
  std::string lines;
  for (int i = 0; i < orders; ++i)
    lines += "{\"id\": \"K-" + std::to_string(i)
      + "\", \"lines\": [{\"id\": \"1\"}]}\n";
  data.write("orders.jsonl", lines);
  REQUIRE(node.ctl({"order", "submit", data.file("orders.jsonl")}).exit_code
          == 0);
  auto count = [](const node_process& n, const std::string& state) {
    return json_lines(n.ctl_json({"journey", "list", "--flow", "Wait",
                                  "--state", state, "--limit", "100000"}))
      .size();
  };
  eventually([&] { return count(node, "waiting") >= orders; },
             std::chrono::seconds(10), std::chrono::milliseconds(20));
  REQUIRE(count(node, "waiting") == orders);
  // Every journey waits in the store; the acknowledged stop must reach
  // each, though the node dies at once.
  REQUIRE(node.ctl({"flow", "stop", "Wait", "--cancel-in-flight"}).exit_code
          == 0);
  node.kill();
  node.start(notify_config);
  std::size_t cancelled = 0;
  eventually(
    [&] {
      cancelled = count(node, "cancelled");
      return cancelled >= orders;
    },
    std::chrono::seconds(10), std::chrono::milliseconds(20));
  CHECK(cancelled == orders);
  CHECK(count(node, "waiting") == 0);
}

namespace {

/// Connects to `address` (HOST:PORT), writes `bytes`, waits a little for
/// the node to read them, and hangs up.
void send_raw(const std::string& address, const std::string& bytes) {
  auto colon = address.rfind(':');
  sockaddr_in to{};
  to.sin_family = AF_INET;
  auto port = std::stoi(address.substr(colon + 1));
  to.sin_port = htons(static_cast<uint16_t>(port));
  auto host = address.substr(0, colon);
  REQUIRE(inet_pton(AF_INET, host.c_str(), &to.sin_addr) == 1);
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) == 0);
  // The node may hang up first; a failed write is fine.
  (void)::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ::close(fd);
}

} // namespace

TEST_CASE("journeys held by a pause reach the new version though a kill -9 "
          "follows the resume") {
  constexpr int orders = 3000;
  temp_dir data;
  node_process node{notify_config, {}, &data};
  // Version 1 waits for an event; version 2 does not.
  auto flow = [](bool wait) {
    return std::string{R"({"name": "Held", "type": "order", "steps": [
      {"action": "custom", "name": "Tell", "provider": "notify")"}
    + (wait ? R"(, "input_events": ["go"])" : "") + "}]}";
  };
  data.write("v1.json", flow(true));
  data.write("v2.json", flow(false));
  REQUIRE(node.ctl({"flow", "create", data.file("v1.json")}).exit_code == 0);
  REQUIRE(node.ctl({"flow", "publish", "Held"}).exit_code == 0);
  REQUIRE(node.ctl({"flow", "pause", "Held"}).exit_code == 0);
  std::string lines;
  for (int i = 0; i < orders; ++i)
    lines += "{\"id\": \"H-" + std::to_string(i) + "\", \"lines\": []}\n";
  data.write("orders.jsonl", lines);
  REQUIRE(node.ctl({"order", "submit", data.file("orders.jsonl")}).exit_code
          == 0);
  REQUIRE(node.ctl({"flow", "update", data.file("v2.json")}).exit_code == 0);
  REQUIRE(node.ctl({"flow", "publish", "Held"}).exit_code == 0);
  // The resume is acknowledged once it is durable; the node dies before
  // (most of) its journeys have moved.
  REQUIRE(node.ctl({"flow", "resume", "Held"}).exit_code == 0);
  node.kill();
  node.start(notify_config);
  auto journeys = [&] {
    return json_lines(node.ctl_json(
      {"journey", "list", "--flow", "Held", "--limit", "100000"}));
  };
  std::size_t done = 0;
  eventually(
    [&] {
      auto all = journeys();
      done = std::count_if(all.begin(), all.end(), [](const json_document& d) {
        return view_of(d["state"]) == "completed";
      });
      return done == orders;
    },
    std::chrono::seconds(10), std::chrono::milliseconds(20));
  CHECK(done == orders);
  auto all = journeys();
  CHECK(all.size() == orders);
  CHECK(std::all_of(all.begin(), all.end(), [](const json_document& d) {
    return d["version"].GetUint() == 2;
  }));
}

TEST_CASE("garbage on the node's port is refused and the node goes on") {
  node_process node{notify_config};
  publish_examples(node);
  REQUIRE(node.ctl({"order", "submit", example_file("orders.jsonl")}).exit_code
          == 0);

  std::mt19937 gen{42};
  std::string noise(8192, '\0');
  for (auto& c : noise)
    c = static_cast<char>(gen());
  // A length field far beyond anything the node should allocate.
  auto huge_length = std::string("\x7f\xff\xff\xff", 4) + noise.substr(0, 64);
  const std::vector<std::string> attacks{noise,
                                         std::string(64, '\0'),
                                         std::string(64, '\xff') + huge_length,
                                         "GET / HTTP/1.1\r\nHost: orca\r\n\r\n",
                                         huge_length,
                                         ""};
  for (const auto& bytes : attacks)
    send_raw(node.address(), bytes);

  auto status = node.ctl({"node", "status"});
  CHECK(status.exit_code == 0);
  auto all = json_lines(node.ctl_json({"journey", "list"}));
  CHECK(all.size() == 10);
  REQUIRE(
    node.ctl({"order", "event", "SO-1001", "fulfillment_shipped"}).exit_code
    == 0);
  wait_state(node, "SO-1001", "Order to invoice", "completed");
  CHECK(node.stop() == 0);
}
