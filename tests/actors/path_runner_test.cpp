// path_runner on its own: the rules of one path (SPEC §2.3, §2.4) driven
// through a fake path_host that records what the runner asks of it, with
// time and answers given by the test. No actors, no store.

#include <catch2/catch.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "actors/path_runner.hpp"
#include "support/orders.hpp"

using namespace orca;

namespace {

/// A path_host that records calls and timers and answers from its fields.
class fake_host : public path_host {
public:
  fake_host(const std::string& flow_json, const std::string& order_json) {
    auto parsed = parse_flow(flow_json);
    REQUIRE(parsed.errors.empty());
    model_ = parsed.model;
    auto o = order::parse(order_json);
    REQUIRE(o);
    order_ = std::make_shared<order>(std::move(*o));
  }

  // -- what the runner reads ------------------------------------------------
  const flow& model() const override {
    return *model_;
  }
  const order& the_order() const override {
    return *order_;
  }
  int64_t now() const override {
    return clock;
  }
  int64_t flow_now() const override {
    return clock;
  }
  bool has_event(const std::vector<std::string>& types) const override {
    return holds_event(events, types);
  }
  bool paused() const override {
    return is_paused;
  }
  bool cancelling() const override {
    return is_cancelling;
  }
  uint32_t default_timeout_ms() const override {
    return 30000;
  }

  // -- what the runner does -------------------------------------------------
  void step_ended(step_result result) override {
    ended.push_back(std::move(result));
  }
  void journal(journal_entry&& entry) override {
    journaled.push_back(std::move(entry));
  }
  void path_failed(const path_state& at_step) override {
    failed_at = at_step;
  }
  void add_fulfillment(std::vector<source_group>) override {
  }
  std::optional<std::vector<fulfillment_order>>
  claim_unsent(const path_state&, const std::vector<std::string>&) override {
    return std::vector<fulfillment_order>{};
  }
  void fulfillment_done(const std::vector<std::string>&, bool) override {
  }
  void set_invoice(std::string) override {
  }
  void call_provider(const path_state& p, const step& s,
                     const line_set&) override {
    calls.push_back({s.name, p.attempts, p.token});
  }
  void start_timer(const path_state& p, uint32_t delay_ms) override {
    timers.push_back({delay_ms, p.token});
  }
  void start_branches(const path_state&,
                      std::vector<path_state> children) override {
    for (auto& child : children)
      started.push_back(std::move(child));
  }
  const path_state* saved_branch(sequence_id body) const override {
    auto found = saved.find(body);
    return found != saved.end() ? &found->second : nullptr;
  }
  void restart_branches(const path_state&,
                        std::vector<const path_state*> from_saved,
                        std::vector<path_state> fresh) override {
    for (const auto* child : from_saved)
      restarted_saved.push_back(child->seq);
    for (auto& child : fresh)
      restarted_fresh.push_back(std::move(child));
  }

  struct call {
    std::string step;
    uint32_t attempt;
    uint32_t token;
  };
  struct timer {
    uint32_t delay_ms;
    uint32_t token;
  };

  int64_t clock = 1000;
  std::vector<std::string> events{"new_order"};
  bool is_paused = false;
  bool is_cancelling = false;
  std::vector<call> calls;
  std::vector<timer> timers;
  std::vector<step_result> ended;
  std::vector<journal_entry> journaled;
  std::optional<path_state> failed_at;
  std::vector<path_state> started;
  /// Branch states a restore finds saved, by sequence.
  std::map<sequence_id, path_state> saved;
  std::vector<sequence_id> restarted_saved;
  std::vector<path_state> restarted_fresh;

private:
  flow_ptr model_;
  order_ptr order_;
};

provider_reply ok() {
  provider_reply r;
  r.ok = true;
  return r;
}

/// A flow of two custom calls; the second waits for "shipped".
const char* two_calls = R"({
  "name": "Two calls", "type": "order",
  "steps": [
    {"action": "custom", "name": "Call ERP", "provider": "erp",
     "retry": {"max_attempts": 3, "backoff_ms": 100, "max_backoff_ms": 1000}},
    {"action": "custom", "name": "Tell CRM", "provider": "crm",
     "input_events": ["shipped"], "wait_timeout_ms": 5000}
  ]})";

/// The journey's own path through two_calls, with its runner and host.
struct one_path {
  fake_host host{two_calls, test::first_example_order()};
  path_state path = initial_path(host.the_order());
  path_runner runner{host, path};
};

} // namespace

TEST_CASE("path_runner calls each action and ends when the last succeeds") {
  one_path t;
  auto& [host, path, runner] = t;
  host.events.push_back("shipped"); // the event came before its step
  runner.run();
  REQUIRE(host.calls.size() == 1);
  CHECK(host.calls[0].step == "Call ERP");
  CHECK(path.phase == path_phase::calling);
  runner.on_reply(host.calls[0].token, ok());
  REQUIRE(host.calls.size() == 2);
  CHECK(host.calls[1].step == "Tell CRM");
  runner.on_reply(host.calls[1].token, ok());
  CHECK(path.phase == path_phase::ended);
  CHECK_FALSE(path.failed);
  REQUIRE(host.ended.size() == 2);
  CHECK(host.ended[0].outcome == step_outcome::succeeded);
  CHECK(host.ended[0].attempts == 1);
}

TEST_CASE("path_runner retries a failed call after its back-off, then fails "
          "the path") {
  one_path t;
  auto& [host, path, runner] = t;
  runner.run();
  runner.on_reply(host.calls.back().token,
                  provider_reply::failure("the ERP is down"));
  // The call had the node's default time limit (no timeout_ms); now a
  // back-off of 100 ms in flow time, by a timer.
  CHECK(path.phase == path_phase::backoff);
  REQUIRE(host.timers.size() == 2);
  CHECK(host.timers[0].delay_ms == 30000);
  CHECK(host.timers[1].delay_ms == 100);
  CHECK(host.calls.size() == 1);
  // A timer that fires early (time has not reached the deadline) does
  // not retry.
  runner.on_timer(host.timers[1].token);
  CHECK(host.calls.size() == 1);
  host.clock += 100;
  runner.on_timer(host.timers.back().token);
  REQUIRE(host.calls.size() == 2);
  CHECK(host.calls[1].attempt == 2);
  runner.on_reply(host.calls[1].token, provider_reply::failure("still down"));
  host.clock += 200; // exponential: 200 ms the second time
  runner.on_timer(host.timers.back().token);
  REQUIRE(host.calls.size() == 3);
  runner.on_reply(host.calls[2].token, provider_reply::failure("down"));
  // Three attempts were all it had.
  CHECK(path.phase == path_phase::ended);
  CHECK(path.failed);
  REQUIRE(host.ended.size() == 1);
  CHECK(host.ended[0].outcome == step_outcome::failed);
  CHECK(host.ended[0].attempts == 3);
  CHECK(host.ended[0].error == "down");
  CHECK(host.ended[0].error_code == errc::provider_failure);
  REQUIRE(host.failed_at);
  CHECK(host.failed_at->position == 0);
}

TEST_CASE("a step that fails at its provider says what kind of failure") {
  one_path t;
  auto& [host, path, runner] = t;
  runner.run();
  // Attempt 1: no answer within the node's default time limit.
  runner.on_timer(host.timers.back().token);
  CHECK(path.last_error_code == errc::provider_timeout);
  host.clock += 100;
  runner.on_timer(host.timers.back().token);
  // Attempt 2: the provider cannot be reached.
  REQUIRE(host.calls.size() == 2);
  runner.on_reply(
    host.calls.back().token,
    provider_reply::failure("not reachable", errc::node_unreachable));
  CHECK(path.last_error_code == errc::node_unreachable);
  host.clock += 200;
  runner.on_timer(host.timers.back().token);
  // Attempt 3, the last: an answer naming a line it was not sent breaks
  // the protocol, and that is what the step ends with.
  REQUIRE(host.calls.size() == 3);
  auto answer = ok();
  answer.fulfillment.push_back(source_group{"WH-1", {"99"}});
  runner.on_reply(host.calls.back().token, answer);
  REQUIRE(host.ended.size() == 1);
  CHECK(host.ended[0].outcome == step_outcome::failed);
  CHECK(host.ended[0].error_code == errc::protocol_error);
  CHECK(host.ended[0].error.find("names line \"99\"") != std::string::npos);
  // The journal says the same of the failed answer and the step's end.
  std::vector<errc> codes;
  for (const auto& e : host.journaled)
    if ((e.kind == journal_kind::provider_answered && !e.ok)
        || e.kind == journal_kind::step_ended)
      codes.push_back(e.code);
  CHECK(codes
        == std::vector<errc>{errc::node_unreachable, errc::protocol_error});
}

TEST_CASE("path_runner ignores an answer whose token is not the call's") {
  one_path t;
  auto& [host, path, runner] = t;
  runner.run();
  runner.on_reply(host.calls[0].token + 1, ok()); // a late, stale answer
  CHECK(path.phase == path_phase::calling);
  CHECK(host.ended.empty());
}

TEST_CASE("path_runner waits for an input event, and fails the step when "
          "its wait runs out") {
  one_path t;
  auto& [host, path, runner] = t;
  runner.run();
  runner.on_reply(host.calls[0].token, ok());
  CHECK(path.phase == path_phase::waiting_event);
  REQUIRE_FALSE(host.timers.empty());
  CHECK(host.timers.back().delay_ms == 5000);
  SECTION("the event arrives") {
    host.events.push_back("shipped");
    runner.on_event();
    REQUIRE(host.calls.size() == 2);
    CHECK(host.calls[1].step == "Tell CRM");
  }
  SECTION("the wait runs out") {
    host.clock += 5000;
    runner.on_timer(host.timers.back().token);
    CHECK(path.phase == path_phase::ended);
    CHECK(path.failed);
    CHECK(host.calls.size() == 1);
    REQUIRE(host.ended.size() == 2);
    CHECK(host.ended[1].outcome == step_outcome::failed);
  }
}

TEST_CASE("path_runner starts no step while paused and goes on at resume") {
  one_path t;
  auto& [host, path, runner] = t;
  host.is_paused = true;
  runner.run();
  CHECK(host.calls.empty());
  CHECK(path.held);
  host.is_paused = false;
  runner.on_resume();
  CHECK_FALSE(path.held);
  REQUIRE(host.calls.size() == 1);
  CHECK(host.calls[0].step == "Call ERP");
}

TEST_CASE("path_runner ends a path at a step boundary when cancelled") {
  one_path t;
  auto& [host, path, runner] = t;
  runner.run();
  // A cancel while the call is out: the path ends when the answer comes,
  // and the rest of the flow does not run.
  host.is_cancelling = true;
  runner.on_cancel();
  CHECK(path.phase == path_phase::calling);
  runner.on_reply(host.calls[0].token, ok());
  CHECK(path.phase == path_phase::ended);
  CHECK(path.cancelled);
  CHECK(host.calls.size() == 1);
}

TEST_CASE("a path restored while branching restarts its saved branches and "
          "starts afresh those that had not reported") {
  // Three branches; the first ended before the save, the second had
  // reported, the third had not.
  fake_host host{R"({
    "name": "Three ways", "type": "order",
    "steps": [
      {"element": "splitter_merge", "name": "Tell", "branches": [
        {"name": "ERP", "steps": [
          {"action": "custom", "name": "Call ERP", "provider": "erp"}]},
        {"name": "CRM", "steps": [
          {"action": "custom", "name": "Call CRM", "provider": "crm"}]},
        {"name": "WMS", "steps": [
          {"action": "custom", "name": "Call WMS", "provider": "wms"}]}]}
    ]})",
                 test::first_example_order()};
  auto path = initial_path(host.the_order());
  path_runner{host, path}.run();
  REQUIRE(path.phase == path_phase::branching);
  REQUIRE(host.started.size() == 3);
  REQUIRE(path.branches.size() == 3);

  path_runner{host, path}.on_branch_ended(host.started[0].seq, false);
  auto saved = path; // as the snapshot holds it
  host.saved[host.started[1].seq] = host.started[1];
  host.started.clear();

  path_runner{host, saved}.on_restore();
  CHECK(host.started.empty()); // restored branches are not new ones
  REQUIRE(host.restarted_saved.size() == 1);
  CHECK(host.restarted_saved[0] == path.branches[1].body);
  REQUIRE(host.restarted_fresh.size() == 1);
  const auto& fresh = host.restarted_fresh[0];
  CHECK(fresh.seq == path.branches[2].body);
  CHECK(fresh.phase == path_phase::ready);
  CHECK(fresh.position == 0);
  CHECK(fresh.lines == path.lines);
}

TEST_CASE("a waiting journey sleeps until its earliest deadline, unless a "
          "path is about to go on") {
  one_path t;
  auto top = t.path;
  top.phase = path_phase::waiting_event;
  top.position = 1; // "Tell CRM", which waits for "shipped"
  top.deadline = 7000;
  CHECK(sleep_until(t.host.model(), {top}, {}) == std::optional<int64_t>{7000});
  // Its event came already: the path goes on.
  CHECK_FALSE(sleep_until(t.host.model(), {top}, {"shipped"}));
  // A branch that ended is still among the paths: the element that waits
  // for it has yet to count it, and goes on then.
  path_state ended;
  ended.seq = 1;
  ended.phase = path_phase::ended;
  CHECK_FALSE(sleep_until(t.host.model(), {top, ended}, {}));
}
