// A flow version's supervisor and its journey and branch actors, run by
// CAF's deterministic scheduler (test_coordinator): a message is handled only
// when the test runs the scheduler, and time moves only when the test moves
// the manual clock. What a test checks is what the actors did with what they
// were given, never what they had time to do. The store is an in-memory
// journey_sink that can be told to fail.

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "actors/simulated_provider.hpp"
#include "actors/supervisor.hpp"
#include "support/orders.hpp"

using namespace orca;

namespace {

/// A journey_sink in memory: every save succeeds at once, until the test
/// says that saves fail.
class memory_sink : public journey_sink {
public:
  void save(const journey_snapshot& snapshot,
            const std::vector<journal_entry>& chunk,
            std::function<void(const caf::error&)> done) override {
    if (fail_unanswered && !done) {
      // Held as a commit thread holds a failed save's news until the
      // commit is over: it goes out before what a later commit says.
      held_failures.push_back(snapshot.order_id);
      return;
    }
    for (const auto& id : held_failures)
      caf::anon_send(supervisor, save_failed_atom::value, id,
                     std::string{"the disk is full"});
    held_failures.clear();
    if (failing) {
      // As the engine's sink does: through the supervisor when the
      // journey asked for no answer.
      auto err = make_error(errc::storage_failure, "the disk is full");
      if (done)
        done(err);
      else
        caf::anon_send(supervisor, save_failed_atom::value, snapshot.order_id,
                       describe(err));
      return;
    }
    ++saves;
    latest[snapshot.order_id] = snapshot;
    states[snapshot.order_id].push_back(snapshot.state);
    auto& j = journals[snapshot.order_id];
    j.insert(j.end(), chunk.begin(), chunk.end());
    if (done)
      done(caf::error{});
  }

  bool watches_every_change(const std::string&) const override {
    return watched;
  }

  void journey_failed(const std::string& order_id, const std::string&, uint32_t,
                      const std::string& reason) override {
    failures[order_id] = reason;
  }

  void move(const journey_snapshot&, const journey_snapshot& to,
            std::function<void(const caf::error&)> done) override {
    latest[to.order_id] = to;
    done(caf::error{});
  }

  caf::expected<restart_point> load(const std::string& order_id,
                                    const std::string&, uint32_t) override {
    ++loads;
    auto it = latest.find(order_id);
    if (it == latest.end())
      return make_error(errc::no_such_journey, order_id);
    restart_point r;
    r.the_order = orders.at(order_id);
    r.snapshot = it->second;
    return r;
  }

  /// The states of `order_id`'s journey, one per save, with repeats
  /// dropped.
  std::vector<journey_state> course(const std::string& order_id) const {
    std::vector<journey_state> result;
    auto it = states.find(order_id);
    if (it != states.end())
      for (auto s : it->second)
        if (result.empty() || result.back() != s)
          result.push_back(s);
    return result;
  }

  bool failing = false;
  bool watched = true; ///< see journey_sink::watches_every_change
  std::size_t saves = 0;
  /// Saves without `done` fail, and are told to the supervisor only when
  /// the next save with one comes (its commit is the next one).
  bool fail_unanswered = false;
  std::vector<std::string> held_failures;
  caf::actor supervisor; ///< where failures of saves without `done` go
  std::size_t loads = 0;
  std::map<std::string, order_ptr> orders;
  std::map<std::string, journey_snapshot> latest;
  std::map<std::string, std::vector<journey_state>> states;
  std::map<std::string, std::vector<journal_entry>> journals;
  std::map<std::string, std::string> failures;
};

/// A custom call to "erp", then a wait for "shipped" (at most 60 s), then
/// a split into two branches that each call "erp".
const char* ship_flow = R"({
  "name": "Ship", "type": "order",
  "steps": [
    {"action": "custom", "name": "Book", "provider": "erp",
     "retry": {"max_attempts": 2, "backoff_ms": 1000}},
    {"action": "custom", "name": "Confirm", "provider": "erp",
     "input_events": ["shipped"], "wait_timeout_ms": 60000},
    {"element": "splitter_merge", "name": "Tell", "branches": [
      {"name": "CRM", "steps": [
        {"action": "custom", "name": "Tell CRM", "provider": "erp"}]},
      {"name": "Mail", "steps": [
        {"action": "custom", "name": "Tell mail", "provider": "erp"}]}]}
  ]})";

/// A call to "erp", then a condition whose side for a booked order waits
/// for "packed" (at most 60 s) and calls "erp" twice.
const char* check_flow = R"({
  "name": "Check", "type": "order",
  "steps": [
    {"action": "custom", "name": "Book", "provider": "erp"},
    {"element": "condition_merge", "name": "Booked?",
     "yes": [
       {"action": "custom", "name": "Pack", "provider": "erp",
        "input_events": ["packed"], "wait_timeout_ms": 60000},
       {"action": "custom", "name": "Bill", "provider": "erp"}],
     "no": [
       {"action": "custom", "name": "Undo", "provider": "erp"}]}
  ]})";

/// A split whose "Ship" branch picks a warehouse and, on the side of a
/// condition, sends to fulfillment once the order is "packed" (within
/// 60 s); its other branch calls "erp".
const char* branch_check_flow = R"({
  "name": "Ship checked", "type": "order",
  "policies": {"execution": [
    {"name": "One warehouse", "kind": "fulfillment_source", "rules": [],
     "default_source": "WH-1"}]},
  "steps": [
    {"element": "splitter_merge", "name": "Both", "branches": [
      {"name": "Ship", "steps": [
        {"action": "assign_fulfillment_source", "name": "Pick",
         "execution_policies": ["One warehouse"]},
        {"element": "condition_merge", "name": "Picked?",
         "yes": [
           {"action": "send_to_fulfillment", "name": "Send", "provider": "erp",
            "input_events": ["packed"], "wait_timeout_ms": 60000}],
         "no": [
           {"action": "custom", "name": "Undo", "provider": "erp"}]}]},
      {"name": "Tell", "steps": [
        {"action": "custom", "name": "Tell CRM", "provider": "erp"}]}]}
  ]})";

caf::actor_system_config& deterministic(caf::actor_system_config& cfg) {
  cfg.set("scheduler.policy", caf::atom("testing"));
  return cfg;
}

struct supervised {
  caf::actor_system_config cfg;
  caf::actor_system system{deterministic(cfg)};
  caf::scheduler::test_coordinator& sched =
    dynamic_cast<caf::scheduler::test_coordinator&>(system.scheduler());
  std::shared_ptr<manual_clock> time = std::make_shared<manual_clock>();
  memory_sink sink;
  services_ptr services = std::make_shared<journey_services>();
  std::shared_ptr<call_log> calls = std::make_shared<call_log>();
  flow_ptr model;
  /// The flow's own time, which the engine stops while the flow is paused.
  flow_clock_ptr flow_time = std::make_shared<flow_clock>();
  caf::actor supervisor;

  explicit supervised(simulated_config erp = {},
                      const char* flow_text = ship_flow) {
    auto parsed = parse_flow(flow_text);
    REQUIRE(parsed.errors.empty());
    model = parsed.model;
    services->time = time;
    services->sink = &sink;
    services->providers.add(
      "erp", spawn_simulated_provider(system, services, "erp", erp, calls),
      "simulated");
    supervisor = spawn_supervisor(system, services, model, flow_time, 1, false);
    sink.supervisor = supervisor;
    sched.run();
  }

  ~supervised() {
    caf::anon_send_exit(supervisor, caf::exit_reason::user_shutdown);
    for (const auto& p : services->providers.list())
      caf::anon_send_exit(p.adapter, caf::exit_reason::user_shutdown);
    sched.run();
    services->providers.clear();
  }

  /// Hands the supervisor a new journey for `order_id`, as intake does.
  void start(const std::string& order_id) {
    auto parsed = order::parse(test::minimal_order(order_id));
    REQUIRE(parsed);
    order_ptr o = std::make_shared<order>(std::move(*parsed));
    sink.orders[order_id] = o;
    caf::anon_send(supervisor, start_atom::value, o, fresh(*o));
  }

  /// The snapshot a journey of `o` starts from (run `run`: 0, or the
  /// count of redrives).
  journey_snapshot fresh(const order& o, uint32_t run = 0) const {
    journey_snapshot snap;
    snap.order_id = o.id();
    snap.flow = model->name;
    snap.version = 1;
    snap.run = run;
    snap.events.push_back(event_types::new_order);
    snap.paths.push_back(initial_path(o));
    return snap;
  }

  /// Moves time forward by `ms` and lets every actor handle what came of it.
  void pass(uint32_t ms) {
    time->advance(ms);
    sched.run();
  }

  template <class T, class... Ts>
  T ask(Ts&&... xs) {
    caf::scoped_actor self{system};
    std::optional<T> result;
    self->send(supervisor, std::forward<Ts>(xs)...);
    sched.run();
    self->receive([&](T x) { result = std::move(x); });
    return *result;
  }

  std::size_t running() {
    return ask<std::size_t>(count_running_atom::value);
  }
  std::size_t passivated() {
    return ask<std::size_t>(count_passivated_atom::value);
  }
  std::size_t held() {
    return ask<std::size_t>(count_held_atom::value);
  }

  std::vector<std::string> step_names(const std::string& order_id) const {
    std::vector<std::string> names;
    for (const auto& r : sink.latest.at(order_id).steps)
      names.push_back(model->steps[r.step].name + " " + to_string(r.outcome));
    return names;
  }
};

} // namespace

TEST_CASE("a journey waits in the store, wakes for its event and joins its "
          "branches") {
  supervised t;
  t.start("S-1");
  t.sched.run();
  // Book ran; Confirm waits for "shipped", and the journey, once its waiting
  // snapshot was saved, left memory.
  CHECK(t.sink.latest.at("S-1").state == journey_state::waiting);
  CHECK(t.running() == 0);
  CHECK(t.passivated() == 1);
  CHECK(t.calls->size() == 1);
  // The event wakes it from the store; it confirms, splits and joins.
  caf::anon_send(t.supervisor, event_atom::value, std::string{"S-1"},
                 std::string{"shipped"});
  t.sched.run();
  CHECK(t.sink.loads == 1);
  CHECK(t.sink.latest.at("S-1").state == journey_state::completed);
  CHECK(t.sink.course("S-1")
        == std::vector<journey_state>{
          journey_state::running, journey_state::waiting,
          journey_state::running, journey_state::completed});
  auto steps = t.step_names("S-1");
  REQUIRE(steps.size() == 5);
  CHECK(steps[0] == "Book succeeded");
  CHECK(steps[1] == "Confirm succeeded");
  CHECK(steps[4] == "Tell succeeded"); // the merge ends after its branches
  CHECK(t.calls->size() == 4);
  CHECK(t.running() == 0);
  CHECK(t.passivated() == 0);
}

TEST_CASE("a passivated journey wakes when its wait runs out, and fails the "
          "step") {
  supervised t;
  t.start("S-2");
  t.sched.run();
  REQUIRE(t.passivated() == 1);
  t.pass(59999);
  CHECK(t.sink.latest.at("S-2").state == journey_state::waiting);
  CHECK(t.sink.loads == 0);
  t.pass(1);
  CHECK(t.sink.loads == 1);
  const auto& snap = t.sink.latest.at("S-2");
  CHECK(snap.state == journey_state::failed);
  REQUIRE(snap.steps.size() == 2);
  CHECK(snap.steps[1].error.find("no shipped event within 60000 ms")
        != std::string::npos);
}

TEST_CASE("a pause holds a journey at its next step, and resume lets it go "
          "on") {
  simulated_config flaky;
  flaky.fail_first_attempts = 1;
  supervised t{flaky};
  t.start("S-3");
  t.sched.run();
  // Book failed once and backs off for 1 s; the pause comes meanwhile.
  REQUIRE(t.calls->size() == 1);
  // As the engine pauses a flow: its time stops, and its supervisor hears.
  auto paused_on = t.time->now_ms();
  t.flow_time->set(flow_pauses{paused_on, 0});
  caf::anon_send(t.supervisor, pause_atom::value);
  t.sched.run();
  t.pass(5000);
  // Time paused does not count, and no attempt starts while paused.
  CHECK(t.calls->size() == 1);
  CHECK(t.held() == 1);
  CHECK(t.sink.latest.at("S-3").state == journey_state::paused);
  t.flow_time->set(flow_pauses{0, t.time->now_ms() - paused_on});
  caf::anon_send(t.supervisor, resume_atom::value);
  t.sched.run();
  CHECK(t.held() == 0);
  // The back-off has its full second left: the 5 s paused did not count.
  CHECK(t.calls->size() == 1);
  t.pass(999);
  CHECK(t.calls->size() == 1);
  t.pass(1);
  CHECK(t.calls->size() == 2);
  CHECK(t.sink.latest.at("S-3").state == journey_state::waiting);
}

TEST_CASE("a journey whose state cannot be saved stops and is recorded as "
          "failed") {
  supervised t;
  t.sink.failing = true;
  t.start("S-4");
  t.sched.run();
  REQUIRE(t.sink.failures.count("S-4") == 1);
  CHECK(t.sink.failures.at("S-4").find(
          "its state could not be saved: the disk is full")
        != std::string::npos);
  // It stopped there: no actor is left. Its first call went out beside
  // its first save (the call's idempotency key makes that safe); nothing
  // more is called, even when its event comes.
  CHECK(t.running() == 0);
  CHECK(t.calls->size() == 1);
  caf::anon_send(t.supervisor, event_atom::value, std::string{"S-4"},
                 std::string{"shipped"});
  t.sched.run();
  t.pass(60000);
  CHECK(t.calls->size() == 1);
  CHECK(t.running() == 0);
}

TEST_CASE("a journey whose save failed while its waiting save went in "
          "stops instead of leaving memory") {
  // Its first saves fail; its waiting save is written in the next commit,
  // whose answer lets it ask to passivate. The failure reached the
  // supervisor first: the journey must stop on it and be recorded failed,
  // not leave memory with the failure unread.
  supervised t;
  t.sink.fail_unanswered = true;
  t.start("S-9");
  t.sched.run();
  REQUIRE(t.sink.failures.count("S-9") == 1);
  CHECK(t.sink.failures.at("S-9").find("its state could not be saved")
        != std::string::npos);
  CHECK(t.running() == 0);
  CHECK(t.passivated() == 0);
}

TEST_CASE("a journey nobody watches saves once after the messages waiting "
          "for it, and ends the same with every journal entry") {
  struct outcome {
    journey_snapshot last;
    std::vector<journal_entry> journal;
    std::size_t saves;
  };
  auto run = [](bool watched) {
    supervised t;
    t.sink.watched = watched;
    t.start("S-10");
    t.sched.run();
    CHECK(t.passivated() == 1);
    caf::anon_send(t.supervisor, event_atom::value, std::string{"S-10"},
                   std::string{"shipped"});
    t.sched.run();
    CHECK(t.running() == 0);
    return outcome{t.sink.latest.at("S-10"), t.sink.journals.at("S-10"),
                   t.sink.saves};
  };
  auto each = run(true);
  auto fewer = run(false);
  CHECK(fewer.last.state == journey_state::completed);
  CHECK(fewer.last.steps.size() == each.last.steps.size());
  // The branches' reports queue up while the journey handles one: they
  // are saved together.
  CHECK(fewer.saves < each.saves);
  REQUIRE(fewer.journal.size() == each.journal.size());
  for (std::size_t i = 0; i < each.journal.size(); ++i) {
    INFO("journal entry " << i);
    CHECK(fewer.journal[i].kind == each.journal[i].kind);
    CHECK(fewer.journal[i].step == each.journal[i].step);
    CHECK(fewer.journal[i].path == each.journal[i].path);
    CHECK(fewer.journal[i].state == each.journal[i].state);
  }
}

TEST_CASE("a running journey nobody watches saves when it waits, or when "
          "its save delay is up") {
  simulated_config slow;
  slow.latency_ms = 5000; // "Book" answers after 5 s
  SECTION("nobody watches") {
    supervised t{slow};
    t.sink.watched = false;
    REQUIRE(t.services->save_delay_ms == 1000);
    t.start("S-11");
    t.sched.run();
    // Running, its call on the way: nothing saved yet.
    CHECK(t.sink.saves == 0);
    t.pass(999);
    CHECK(t.sink.saves == 0);
    // The delay is up: what it did so far is saved, journal and all.
    t.pass(1);
    REQUIRE(t.sink.saves == 1);
    CHECK(t.sink.latest.at("S-11").state == journey_state::running);
    std::vector<journal_kind> kinds;
    for (const auto& e : t.sink.journals.at("S-11"))
      kinds.push_back(e.kind);
    CHECK(kinds
          == std::vector<journal_kind>{journal_kind::started,
                                       journal_kind::step_started,
                                       journal_kind::provider_called});
    // The answer comes; the journey waits for "shipped": saved at once.
    t.pass(4000);
    CHECK(t.sink.saves == 2);
    CHECK(t.sink.latest.at("S-11").state == journey_state::waiting);
    CHECK(t.step_names("S-11") == std::vector<std::string>{"Book succeeded"});
  }
  SECTION("each change watched, or no delay: saved at once") {
    for (bool watched : {true, false}) {
      INFO("watched " << watched);
      supervised t{slow};
      t.sink.watched = watched;
      if (!watched)
        t.services->save_delay_ms = 0;
      t.start("S-12");
      t.sched.run();
      REQUIRE(t.sink.saves >= 1);
      CHECK(t.sink.latest.at("S-12").state == journey_state::running);
    }
  }
}

TEST_CASE("a redrive that comes before the failed run's actor is seen to "
          "end runs once it has") {
  simulated_config broken;
  broken.fail_first_attempts = 100;
  supervised t{broken};
  t.start("S-20");
  t.sched.run();
  // Book failed once and backs off: the journey's actor is still here
  // when the redrive comes, as it is when its end is written but its
  // down message has not reached the supervisor yet.
  REQUIRE(t.calls->size() == 1);
  auto o = t.sink.orders.at("S-20");
  caf::anon_send(t.supervisor, redrive_atom::value, o, t.fresh(*o, 1));
  t.sched.run();
  CHECK(t.calls->size() == 1); // it waits
  // The second attempt fails, the run ends failed, and the redriven run
  // starts: its calls carry the run's mark.
  t.pass(1000);
  auto course = t.sink.course("S-20");
  CHECK(std::find(course.begin(), course.end(), journey_state::failed)
        != course.end());
  CHECK(course.back() == journey_state::running);
  auto calls = t.calls->entries();
  REQUIRE(calls.size() == 3);
  CHECK(calls[1].idempotency_key.find("/r1") == std::string::npos);
  CHECK(calls[2].idempotency_key == "S-20/Ship/1/Book/r1");
  CHECK(t.running() == 1);
}

TEST_CASE("a cancel reaches a passivated journey through the store") {
  supervised t;
  t.start("S-5");
  t.sched.run();
  REQUIRE(t.passivated() == 1);
  caf::anon_send(t.supervisor, cancel_atom::value, std::string{"S-5"});
  t.sched.run();
  CHECK(t.sink.loads == 1);
  CHECK(t.sink.latest.at("S-5").state == journey_state::cancelled);
  CHECK(t.passivated() == 0);
  CHECK(t.running() == 0);
}

TEST_CASE("the journey runs the side its condition takes itself, with no "
          "branch actor") {
  supervised t{{}, check_flow};
  t.services->passivate_waiting = false;
  auto actors_before = t.system.registry().running();
  t.start("S-30");
  t.sched.run();
  // Book ran; the side waits for "packed", and only the journey's actor
  // was added.
  CHECK(t.sink.latest.at("S-30").state == journey_state::waiting);
  CHECK(t.calls->size() == 1);
  CHECK(t.running() == 1);
  CHECK(t.system.registry().running() == actors_before + 1);
  caf::anon_send(t.supervisor, event_atom::value, std::string{"S-30"},
                 std::string{"packed"});
  t.sched.run();
  CHECK(t.sink.latest.at("S-30").state == journey_state::completed);
  CHECK(t.step_names("S-30")
        == std::vector<std::string>{"Book succeeded", "Pack succeeded",
                                    "Bill succeeded", "Booked? succeeded"});
  CHECK(t.calls->size() == 3);
  CHECK(t.running() == 0);
  CHECK(t.system.registry().running() == actors_before);
}

TEST_CASE("a journey that left memory inside a condition's side goes on "
          "with it from the store") {
  supervised t{{}, check_flow};
  t.start("S-31");
  t.sched.run();
  REQUIRE(t.passivated() == 1);
  const auto& saved = t.sink.latest.at("S-31");
  REQUIRE(saved.paths.size() == 2); // the journey's own path and the side
  CHECK(saved.paths[1].phase == path_phase::waiting_event);
  caf::anon_send(t.supervisor, event_atom::value, std::string{"S-31"},
                 std::string{"packed"});
  t.sched.run();
  CHECK(t.sink.loads == 1);
  CHECK(t.sink.latest.at("S-31").state == journey_state::completed);
  CHECK(t.step_names("S-31")
        == std::vector<std::string>{"Book succeeded", "Pack succeeded",
                                    "Bill succeeded", "Booked? succeeded"});
  CHECK(t.running() == 0);
}

TEST_CASE("a wait that runs out inside a condition's side fails the side, "
          "the condition and the journey") {
  supervised t{{}, check_flow};
  t.services->passivate_waiting = false;
  t.start("S-32");
  t.sched.run();
  t.pass(60000);
  const auto& snap = t.sink.latest.at("S-32");
  CHECK(snap.state == journey_state::failed);
  auto steps = t.step_names("S-32");
  REQUIRE(steps.size() == 3);
  CHECK(steps[1] == "Pack failed");
  CHECK(steps[2] == "Booked? failed");
  CHECK(t.running() == 0);
}

TEST_CASE("a cancel ends a journey waiting inside a condition's side") {
  supervised t{{}, check_flow};
  t.services->passivate_waiting = false;
  t.start("S-33");
  t.sched.run();
  REQUIRE(t.running() == 1);
  caf::anon_send(t.supervisor, cancel_atom::value, std::string{"S-33"});
  t.sched.run();
  CHECK(t.sink.latest.at("S-33").state == journey_state::cancelled);
  CHECK(t.calls->size() == 1);
  CHECK(t.running() == 0);
}

namespace {

/// Checks that the "Ship checked" journey of `order_id` ended completed,
/// its fulfillment order sent once from the side of its branch.
void check_shipped(const supervised& t, const std::string& order_id) {
  const auto& snap = t.sink.latest.at(order_id);
  CHECK(snap.state == journey_state::completed);
  CHECK(t.step_names(order_id)
        == std::vector<std::string>{"Pick succeeded", "Tell CRM succeeded",
                                    "Send succeeded", "Picked? succeeded",
                                    "Both succeeded"});
  REQUIRE(snap.fulfillment_orders.size() == 1);
  CHECK(snap.fulfillment_orders[0].sent);
  std::vector<std::vector<std::string>> sent;
  for (const auto& e : t.calls->entries())
    if (e.step == "Send")
      sent.push_back(e.fulfillment_orders);
  CHECK(sent == std::vector<std::vector<std::string>>{{order_id + "-FO1"}});
}

} // namespace

TEST_CASE("a branch runs the side its condition takes itself, and claims "
          "fulfillment orders from it") {
  supervised t{{}, branch_check_flow};
  t.services->passivate_waiting = false;
  auto actors_before = t.system.registry().running();
  t.start("S-40");
  t.sched.run();
  // "Tell" ended; the side in "Ship" waits for "packed": the journey's
  // actor and the branch's were added.
  CHECK(t.sink.latest.at("S-40").state == journey_state::waiting);
  CHECK(t.system.registry().running() == actors_before + 2);
  caf::anon_send(t.supervisor, event_atom::value, std::string{"S-40"},
                 std::string{"packed"});
  t.sched.run();
  check_shipped(t, "S-40");
  CHECK(t.system.registry().running() == actors_before);
}

TEST_CASE("a journey that left memory inside the side of a branch's "
          "condition goes on with it from the store") {
  supervised t{{}, branch_check_flow};
  t.start("S-41");
  t.sched.run();
  REQUIRE(t.passivated() == 1);
  // The journey's own path, the branch and its side.
  const auto& saved = t.sink.latest.at("S-41");
  REQUIRE(saved.paths.size() == 3);
  CHECK(saved.paths[2].phase == path_phase::waiting_event);
  caf::anon_send(t.supervisor, event_atom::value, std::string{"S-41"},
                 std::string{"packed"});
  t.sched.run();
  CHECK(t.sink.loads == 1);
  check_shipped(t, "S-41");
  CHECK(t.running() == 0);
}

TEST_CASE("a wait that runs out inside the side of a branch's condition "
          "fails the side, the branch and the journey") {
  supervised t{{}, branch_check_flow};
  t.services->passivate_waiting = false;
  auto actors_before = t.system.registry().running();
  t.start("S-42");
  t.sched.run();
  t.pass(60000);
  const auto& snap = t.sink.latest.at("S-42");
  CHECK(snap.state == journey_state::failed);
  CHECK(t.step_names("S-42")
        == std::vector<std::string>{"Pick succeeded", "Tell CRM succeeded",
                                    "Send failed", "Picked? failed",
                                    "Both failed"});
  REQUIRE(snap.fulfillment_orders.size() == 1);
  CHECK_FALSE(snap.fulfillment_orders[0].sent);
  CHECK(t.system.registry().running() == actors_before);
}

TEST_CASE("a cancel reaches the side of a branch's condition") {
  supervised t{{}, branch_check_flow};
  t.services->passivate_waiting = false;
  auto actors_before = t.system.registry().running();
  t.start("S-43");
  t.sched.run();
  REQUIRE(t.system.registry().running() == actors_before + 2);
  caf::anon_send(t.supervisor, cancel_atom::value, std::string{"S-43"});
  t.sched.run();
  CHECK(t.sink.latest.at("S-43").state == journey_state::cancelled);
  CHECK(t.calls->size() == 1); // "Tell CRM" only
  CHECK(t.system.registry().running() == actors_before);
}

TEST_CASE("the time limit of a call answered in time saves nothing when it "
          "comes") {
  // "Book" is answered at once; its path then waits at the condition for a
  // side that waits for "packed" with no time limit, so the call's timer is
  // the actor's last, and fires.
  std::string untimed = check_flow;
  auto limit = untimed.find(R"(, "wait_timeout_ms": 60000)");
  REQUIRE(limit != std::string::npos);
  untimed.erase(limit, std::string{R"(, "wait_timeout_ms": 60000)"}.size());
  supervised t{{}, untimed.c_str()};
  t.services->passivate_waiting = false;
  t.start("S-34");
  t.sched.run();
  REQUIRE(t.sink.latest.at("S-34").state == journey_state::waiting);
  auto saves = t.sink.saves;
  t.pass(t.services->default_timeout_ms);
  CHECK(t.sink.saves == saves);
  CHECK(t.sink.latest.at("S-34").state == journey_state::waiting);
}

TEST_CASE("a side that calls a provider the node does not have fails its "
          "step with the answer the journey sends itself") {
  const char* gone_flow = R"({
    "name": "Gone", "type": "order",
    "steps": [
      {"action": "custom", "name": "Book", "provider": "erp"},
      {"element": "condition_merge", "name": "Booked?",
       "yes": [{"action": "custom", "name": "Call", "provider": "gone"}],
       "no": [{"action": "custom", "name": "Undo", "provider": "erp"}]}
    ]})";
  supervised t{{}, gone_flow};
  t.start("S-35");
  t.sched.run();
  const auto& snap = t.sink.latest.at("S-35");
  CHECK(snap.state == journey_state::failed);
  REQUIRE(snap.steps.size() == 3);
  CHECK(t.model->steps[snap.steps[1].step].name == "Call");
  CHECK(snap.steps[1].outcome == step_outcome::failed);
  CHECK(snap.steps[1].error.find("provider \"gone\" is not registered on "
                                 "this node")
        != std::string::npos);
  CHECK(t.calls->size() == 1); // "Book" only
}

namespace {

/// A split that takes one branch: it calls "erp", then waits for "packed".
const char* hold_flow = R"({
  "name": "Hold", "type": "order",
  "policies": {"filter": [
    {"name": "Nobody", "scope": "header",
     "when": {"field": "channel", "op": "eq", "value": "none"}}]},
  "steps": [
    {"element": "splitter_merge", "name": "Both", "branches": [
      {"name": "Wait", "steps": [
        {"action": "custom", "name": "Call", "provider": "erp"},
        {"action": "custom", "name": "Hold", "provider": "erp",
         "input_events": ["packed"]}]},
      {"name": "Never", "steps": [
        {"action": "custom", "name": "Skipped", "provider": "erp",
         "filter_policies": ["Nobody"]}]}]}
  ]})";

/// Whether `job` is an actor of kind `name` ("orca.branch", ...).
bool is_a(caf::resumable* job, const char* name) {
  auto* actor = dynamic_cast<caf::local_actor*>(job);
  return actor != nullptr && std::string{actor->name()} == name;
}

bool is_branch(caf::resumable* job) {
  return is_a(job, "orca.branch");
}

/// A split whose one taken branch calls "erp", then splits again: "Ring"
/// calls "erp", "Hold" waits for "packed".
const char* nested_split_flow = R"({
  "name": "Nested", "type": "order",
  "policies": {"filter": [
    {"name": "Nobody", "scope": "header",
     "when": {"field": "channel", "op": "eq", "value": "none"}}]},
  "steps": [
    {"element": "splitter_merge", "name": "Outer", "branches": [
      {"name": "Both", "steps": [
        {"action": "custom", "name": "Before", "provider": "erp"},
        {"element": "splitter_merge", "name": "Inner", "branches": [
          {"name": "Ring", "steps": [
            {"action": "custom", "name": "Ring", "provider": "erp"}]},
          {"name": "Hold", "steps": [
            {"action": "custom", "name": "Hold", "provider": "erp",
             "input_events": ["packed"]}]}]},
        {"action": "custom", "name": "After", "provider": "erp"}]},
      {"name": "Never", "steps": [
        {"action": "custom", "name": "Skipped", "provider": "erp",
         "filter_policies": ["Nobody"]}]}]}
  ]})";

/// Two branches: "Wait" waits for "packed", "Call" calls "erp".
const char* wait_and_call_flow = R"({
  "name": "Wait and call", "type": "order",
  "steps": [
    {"element": "splitter_merge", "name": "Both", "branches": [
      {"name": "Wait", "steps": [
        {"action": "custom", "name": "Hold", "provider": "erp",
         "input_events": ["packed"]}]},
      {"name": "Call", "steps": [
        {"action": "custom", "name": "Ring", "provider": "erp"}]}]}
  ]})";

/// Runs every job but those of actors of kind `name` (see is_a).
void run_all_but(supervised& t, const char* name) {
  t.sched.run_jobs_filtered(
    [name](caf::resumable* job) { return !is_a(job, name); });
}

/// Runs every job but the branch actors'.
void run_but_branches(supervised& t) {
  run_all_but(t, "orca.branch");
}

/// Runs the first branch actor's job waiting: one message of it.
void run_first_branch(supervised& t) {
  auto& jobs = t.sched.jobs;
  auto branch = std::find_if(jobs.begin(), jobs.end(), is_branch);
  REQUIRE(branch != jobs.end());
  std::rotate(jobs.begin(), branch, std::next(branch));
  t.sched.run_once();
}

} // namespace

TEST_CASE("a journey does not leave memory on a branch's report sent before "
          "the branch took in a cancel") {
  simulated_config slow;
  slow.latency_ms = 1000;
  supervised t{slow, hold_flow};
  t.start("S-50");
  t.sched.run();
  // The branch's call is answered; the branch has not handled the answer.
  t.time->advance(1000);
  run_but_branches(t);
  // The cancel reaches the journey, which passes it on to the branch.
  caf::anon_send(t.supervisor, cancel_atom::value, std::string{"S-50"});
  run_but_branches(t);
  // The branch handles the answer alone, and reports that it waits.
  run_first_branch(t);
  // That report says nothing of the cancel: the journey, now waiting, must
  // not leave memory before the branch has acted on it.
  run_but_branches(t);
  CHECK(t.passivated() == 0);
  t.sched.run();
  CHECK(t.sink.latest.at("S-50").state == journey_state::cancelled);
  CHECK(t.running() == 0);
  CHECK(t.passivated() == 0);
}

TEST_CASE("a branch that ended while a signal was on its way to it does not "
          "keep its journey in memory") {
  simulated_config slow;
  slow.latency_ms = 1000;
  supervised t{slow, wait_and_call_flow};
  t.start("S-51");
  t.sched.run();
  // An event reaches the journey's mailbox; then "Call" is answered, ends,
  // reports so and quits, before the journey passes the event on.
  caf::anon_send(t.supervisor, event_atom::value, std::string{"S-51"},
                 std::string{"noted"});
  run_all_but(t, "orca.journey");
  t.time->advance(1000);
  run_all_but(t, "orca.journey");
  t.sched.run();
  // "Call"'s last report came before it could hear of the event; it has
  // ended, and the journey, waiting for "packed", leaves memory.
  CHECK(t.sink.latest.at("S-51").state == journey_state::waiting);
  CHECK(t.passivated() == 1);
  CHECK(t.running() == 0);
}

TEST_CASE("a journey does not leave memory while a branch has yet to count "
          "its own branch's end") {
  simulated_config slow;
  slow.latency_ms = 1000;
  supervised t{slow, nested_split_flow};
  t.start("S-52");
  t.sched.run();
  t.pass(1000); // "Before" is answered; "Ring" calls, "Hold" waits
  // "Ring" is answered and ends: its last report goes to the journey, its
  // end to the branch "Both", which is held back here.
  t.time->advance(1000);
  run_but_branches(t);
  run_first_branch(t);
  run_but_branches(t);
  // The journey waits, but "Both" has not moved on: it stays.
  CHECK(t.sink.latest.at("S-52").state == journey_state::waiting);
  CHECK(t.passivated() == 0);
  t.sched.run();
  // Once "Both" counted it, the journey, waiting for "packed", leaves.
  CHECK(t.passivated() == 1);
  caf::anon_send(t.supervisor, event_atom::value, std::string{"S-52"},
                 std::string{"packed"});
  t.sched.run();
  t.pass(1000); // "Hold" is answered
  t.pass(1000); // and then "After"
  CHECK(t.sink.latest.at("S-52").state == journey_state::completed);
}
