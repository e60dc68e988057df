// Kill -9 at random moments: a real engine process on a real LMDB directory
// is killed with SIGKILL again and again while it takes orders, events and
// cancels through two flows, and restarted each time. What a run saw
// acknowledged is never sent again. At the end every acknowledged order has
// exactly one journey per flow, the same as a run without crashes gives
// (state, steps with their attempts, fulfillment orders, invoice), every
// acknowledged event and cancel took effect, and the providers' ledgers
// show no step carried out twice.
//
// ORCA_CRASH_ORDERS (default 10000) and ORCA_CRASH_KILLS (default 20) make
// it longer; tools/soak.sh runs it that way, on copies of the programs
// (ORCA_CRASH_WORKER names the worker's).

#include <random>
#include <set>

#include <catch2/catch.hpp>

#include "engine/engine.hpp"
#include "persistence/journey_store.hpp"
#include "persistence/records.hpp"
#include "support/child_process.hpp"
#include "support/files.hpp"

using namespace orca;
using namespace orca::test;

namespace {

std::size_t env_or(const char* name, std::size_t fallback) {
  const char* v = std::getenv(name);
  return v ? std::stoul(v) : fallback;
}

std::vector<std::string> worker(const std::string& dir, std::size_t orders,
                                const std::string& acked_file) {
  // ORCA_CRASH_WORKER runs a copy (tools/soak.sh: builds may go on meanwhile).
  const char* path = std::getenv("ORCA_CRASH_WORKER");
  std::vector<std::string> args{path ? path : ORCA_CRASH_WORKER_PATH, dir,
                                std::to_string(orders)};
  if (!acked_file.empty())
    args.push_back(acked_file);
  return args;
}

/// What the runs of a worker saw acknowledged: orders, events, cancels.
struct acknowledged {
  std::set<std::string> orders;
  std::set<std::string> events;
  std::set<std::string> cancels;
  std::string lines; ///< as the worker printed them, for the next run

  void take(const child_process& child) {
    for (const auto& line : child.lines()) {
      auto space = line.find(' ');
      if (space == std::string::npos)
        continue;
      auto kind = line.substr(0, space);
      auto id = line.substr(space + 1);
      auto* set = kind == "ack" ? &orders
        : kind == "event"       ? &events
        : kind == "cancel"      ? &cancels
                                : nullptr;
      if (set == nullptr)
        continue;
      set->insert(id);
      lines += line + "\n";
    }
  }
};

/// Runs the worker until it says "done"; adds what it acknowledged.
void run_to_end(const std::string& dir, std::size_t orders,
                const std::string& acked_file, acknowledged& acked) {
  child_process child{worker(dir, orders, acked_file)};
  auto rc = child.wait();
  for (const auto& line : child.lines())
    if (line.rfind("stuck ", 0) == 0)
      UNSCOPED_INFO(line);
  REQUIRE(rc == 0);
  REQUIRE(child.has_line("done"));
  acked.take(child);
}

/// Checks the store in `dir` (no process on it) holds everything acked:
/// each order with its two journeys, each event and cancel on its order.
void check_kept(const std::string& dir, const acknowledged& acked) {
  auto db = store::open(dir);
  REQUIRE(db);
  auto txn = (*db)->begin_read();
  REQUIRE(txn);
  auto order_of = [&](const std::string& id) {
    auto bytes = txn->get((*db)->orders, id);
    REQUIRE(bytes);
    INFO("acknowledged order " << id);
    REQUIRE(*bytes);
    auto rec = decode<order_record>(**bytes, "orders");
    REQUIRE(rec);
    return *rec;
  };
  for (const auto& id : acked.orders) {
    order_of(id);
    std::size_t journeys = 0;
    REQUIRE_FALSE(txn->scan((*db)->journeys, journey_prefix(id),
                            [&](std::string_view, std::string_view) {
                              ++journeys;
                              return true;
                            }));
    INFO("journeys of acknowledged order " << id);
    REQUIRE(journeys == 2);
  }
  for (const auto& id : acked.events) {
    auto events = order_of(id).events;
    INFO("acknowledged event of " << id);
    // Once at least: a run killed between its commit and its "event" line
    // sent it again.
    REQUIRE(std::count(events.begin(), events.end(), "fulfillment_shipped")
            >= 1);
  }
  for (const auto& id : acked.cancels) {
    INFO("acknowledged cancel of " << id);
    REQUIRE(order_of(id).cancelled);
  }
}

/// A journey as the comparison sees it: everything but times.
std::string summary(const journey_record& r) {
  std::string text = std::string{to_string(r.state)} + " |";
  for (const auto& s : r.steps)
    text += " " + s.path + "/" + s.name + ":" + to_string(s.outcome) + "x"
      + std::to_string(s.attempts);
  text += " |";
  for (const auto& fo : r.fulfillment_orders) {
    text += " " + fo.id + "@" + fo.source + (fo.sent ? "+" : "-");
    for (const auto& line : fo.lines)
      text += "," + line;
  }
  text += " | " + r.invoice_id.value_or("-");
  return text;
}

struct outcome {
  std::map<std::pair<std::string, std::string>, journey_state> states;
  std::map<std::pair<std::string, std::string>, std::string> summaries;
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
    result.summaries[key] = summary(r);
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

TEST_CASE("SIGKILL at random moments loses no acknowledged order and runs no "
          "provider step twice") {
  const auto orders = env_or("ORCA_CRASH_ORDERS", 10000);
  const auto kills = env_or("ORCA_CRASH_KILLS", 20);
  const auto seed = env_or("ORCA_CRASH_SEED", 20261126);
  std::mt19937 rng{static_cast<unsigned>(seed)};

  temp_dir reference_dir;
  auto started = std::chrono::steady_clock::now();
  acknowledged reference_acks;
  run_to_end(reference_dir.path(), orders, "", reference_acks);
  auto reference_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - started)
                        .count();
  REQUIRE(reference_acks.orders.size() == orders);
  auto reference = inspect(reference_dir.path());

  // Kill moments are spread so that every kill lands while there is still
  // work to do: within the time a run without crashes needs, per kill.
  temp_dir crash_dir;
  acknowledged acked;
  auto acked_file = crash_dir.file("acknowledged.txt");
  std::size_t killed = 0;
  auto longest = std::max<long>(40, reference_ms / static_cast<long>(kills));
  std::uniform_int_distribution<long> delay{5, longest};
  for (std::size_t k = 0; k < kills; ++k) {
    crash_dir.write("acknowledged.txt", acked.lines);
    child_process child{worker(crash_dir.file("data"), orders, acked_file)};
    // Each kill lands while the run takes new work, not during recovery.
    REQUIRE_FALSE(
      child.wait_for_line("started", std::chrono::seconds(120)).empty());
    std::this_thread::sleep_for(std::chrono::milliseconds(delay(rng)));
    child.kill(SIGKILL);
    auto rc = child.wait();
    acked.take(child);
    INFO("kill " << k << " after " << acked.orders.size() << " acknowledged");
    REQUIRE(rc == 128 + SIGKILL);
    // Nothing acknowledged so far is missing from the store.
    check_kept(crash_dir.file("data"), acked);
    if (child.has_line("done"))
      break; // the work was over before this kill
    ++killed;
  }
  // Every kill hit a process with work in flight.
  CHECK(killed == kills);
  UNSCOPED_INFO(acked.orders.size()
                << " orders, " << acked.events.size() << " events and "
                << acked.cancels.size()
                << " cancels acknowledged before the last start");
  crash_dir.write("acknowledged.txt", acked.lines);
  run_to_end(crash_dir.file("data"), orders, acked_file, acked);
  REQUIRE(acked.orders.size() == orders);
  auto crashed = inspect(crash_dir.file("data"));

  // Exactly one journey per order and flow, the same as in the run
  // without crashes: state, steps and attempts, fulfillment orders,
  // invoice.
  for (const auto& id : acked.orders)
    for (const char* flow : {"Order to invoice", "Audit"}) {
      auto key = std::make_pair(id, std::string{flow});
      INFO(id << " on " << flow);
      REQUIRE(crashed.journeys[key] == 1);
      REQUIRE(crashed.summaries[key] == reference.summaries.at(key));
    }
  CHECK(crashed.records.size() == 2 * orders);
  // Every acknowledged event and cancel took effect (each was sent once).
  for (const auto& id : acked.events) {
    INFO("event for " << id);
    CHECK(crashed.states[{id, "Order to invoice"}] == journey_state::completed);
  }
  for (const auto& id : acked.cancels) {
    INFO("cancel of " << id);
    CHECK(crashed.states[{id, "Order to invoice"}] == journey_state::cancelled);
  }
  CHECK(acked.events.size() == reference_acks.events.size());
  CHECK(acked.cancels.size() == reference_acks.cancels.size());

  // Every provider step that succeeded was carried out exactly once under
  // its key, and nothing else was carried out.
  engine_options opts;
  opts.data_dir = crash_dir.file("data");
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
