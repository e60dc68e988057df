// Kill -9 at random moments: a real engine process on a real LMDB directory
// is killed with SIGKILL again and again while it takes orders through two
// flows, and restarted each time. At the end every acknowledged order has
// exactly one journey per flow, each in the state a run without crashes
// gives, and the providers' ledgers show no step carried out twice.
//
// ORCA_CRASH_ORDERS (default 10000) and ORCA_CRASH_KILLS (default 20) make
// it longer; tools/soak.sh runs it that way.

#include <random>
#include <set>

#include <catch2/catch.hpp>

#include "engine/engine.hpp"
#include "support/child_process.hpp"
#include "support/files.hpp"

using namespace orca;
using namespace orca::test;

namespace {

std::size_t env_or(const char* name, std::size_t fallback) {
  const char* v = std::getenv(name);
  return v ? std::stoul(v) : fallback;
}

std::vector<std::string> worker(const std::string& dir, std::size_t orders) {
  return {ORCA_CRASH_WORKER_PATH, dir, std::to_string(orders)};
}

/// Runs the worker until it says "done"; returns the acknowledged ids.
std::set<std::string> run_to_end(const std::string& dir, std::size_t orders) {
  child_process child{worker(dir, orders)};
  auto rc = child.wait();
  REQUIRE(rc == 0);
  REQUIRE(child.has_line("done"));
  std::set<std::string> acked;
  for (const auto& line : child.lines())
    if (line.rfind("ack ", 0) == 0)
      acked.insert(line.substr(4));
  return acked;
}

struct outcome {
  std::map<std::pair<std::string, std::string>, journey_state> states;
  std::map<std::pair<std::string, std::string>, std::size_t> journeys;
  std::vector<journey_record> records;
};

outcome inspect(const std::string& dir) {
  engine_options opts;
  opts.data_dir = dir;
  opts.durable = false;
  auto e = Engine::open(std::move(opts));
  REQUIRE(e);
  auto all = (*e)->list_journeys({});
  REQUIRE(all);
  outcome result;
  for (auto& r : *all) {
    auto key = std::make_pair(r.order_id, r.flow);
    result.states[key] = r.state;
    ++result.journeys[key];
    result.records.push_back(std::move(r));
  }
  return result;
}

/// The provider an action of the two flows calls.
std::string provider_of(const step_entry& s) {
  if (s.kind == "send_to_fulfillment")
    return "fulfillment";
  if (s.kind == "send_to_fulfillment_fno")
    return "fno";
  if (s.kind == "send_to_invoice")
    return "billing";
  if (s.name == "Notify customer service")
    return "notify";
  if (s.name == "Record")
    return "audit";
  return "";
}

} // namespace

TEST_CASE("SIGKILL at random moments loses no acknowledged order and runs no provider step twice") {
  const auto orders = env_or("ORCA_CRASH_ORDERS", 10000);
  const auto kills = env_or("ORCA_CRASH_KILLS", 20);
  const auto seed = env_or("ORCA_CRASH_SEED", 20261126);
  std::mt19937 rng{static_cast<unsigned>(seed)};

  temp_dir reference_dir;
  auto started = std::chrono::steady_clock::now();
  auto reference_acks = run_to_end(reference_dir.path(), orders);
  auto reference_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - started)
                        .count();
  REQUIRE(reference_acks.size() == orders);
  auto reference = inspect(reference_dir.path());

  // Kill moments are spread so that every kill lands while there is still
  // work to do: within the time a run without crashes needs, per kill.
  temp_dir crash_dir;
  std::set<std::string> acked;
  std::size_t killed = 0;
  auto longest = std::max<long>(40, reference_ms / static_cast<long>(kills));
  std::uniform_int_distribution<long> delay{5, longest};
  for (std::size_t k = 0; k < kills; ++k) {
    child_process child{worker(crash_dir.path(), orders)};
    std::this_thread::sleep_for(std::chrono::milliseconds(delay(rng)));
    child.kill(SIGKILL);
    auto rc = child.wait();
    for (const auto& line : child.lines())
      if (line.rfind("ack ", 0) == 0)
        acked.insert(line.substr(4));
    INFO("kill " << k << " after " << acked.size() << " acknowledged");
    REQUIRE(rc == 128 + SIGKILL);
    if (child.has_line("done"))
      break; // the work was over before this kill
    ++killed;
  }
  // Every kill hit a process with work in flight.
  CHECK(killed == kills);
  UNSCOPED_INFO(acked.size() << " orders acknowledged before the last start");
  auto final_acks = run_to_end(crash_dir.path(), orders);
  acked.insert(final_acks.begin(), final_acks.end());
  REQUIRE(acked.size() == orders);
  auto crashed = inspect(crash_dir.path());

  // Exactly one journey per order and flow, in the state of the run
  // without crashes.
  for (const auto& id : acked)
    for (const char* flow : {"Order to invoice", "Audit"}) {
      auto key = std::make_pair(id, std::string{flow});
      INFO(id << " on " << flow);
      REQUIRE(crashed.journeys[key] == 1);
      REQUIRE(crashed.states[key] == reference.states.at(key));
    }
  CHECK(crashed.records.size() == 2 * orders);

  // Every provider step that succeeded was carried out exactly once under
  // its key, and nothing else was carried out.
  engine_options opts;
  opts.data_dir = crash_dir.path();
  opts.durable = false;
  auto e = Engine::open(std::move(opts));
  REQUIRE(e);
  std::map<std::string, std::map<std::string, ledger_entry>> ledgers;
  std::size_t repeats = 0;
  for (const char* p : {"fulfillment", "fno", "billing", "notify", "audit"}) {
    auto ledger = (*e)->provider_ledger_of(p);
    REQUIRE(ledger);
    for (const auto& [key, entry] : *ledger) {
      INFO(p << " " << key);
      CHECK(entry.performed == 1);
      repeats += entry.repeats;
    }
    ledgers[p] = std::move(*ledger);
  }
  std::map<std::string, std::set<std::string>> expected;
  for (const auto& r : crashed.records)
    for (const auto& s : r.steps) {
      auto p = provider_of(s);
      if (p.empty() || s.outcome != step_outcome::succeeded)
        continue;
      expected[p].insert(r.order_id + "/" + r.flow + "/"
                         + std::to_string(r.version) + "/" + s.name);
    }
  for (const auto& [p, keys] : expected) {
    INFO("provider " << p);
    std::set<std::string> performed;
    for (const auto& kv : ledgers[p])
      performed.insert(kv.first);
    CHECK(performed == keys);
  }
  UNSCOPED_INFO(repeats << " repeated requests answered from the ledgers");
  CHECK(killed > 0);
}
