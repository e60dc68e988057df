// The child process of the crash test: an engine on a data directory that
// takes a fixed set of orders through two flows however often it is killed
// and started again. It prints one line per acknowledged order ("ack ID"),
// event ("event ID") and cancel ("cancel ID"), then "done" when every
// journey has ended. "started" says the engine is open (recovery done).
//
//   orca_crash_worker DATA_DIR ORDERS [ACKED_FILE]
//
// ACKED_FILE holds the lines earlier runs printed: what the node
// acknowledged is never sent again, so a run finds out whether the node kept
// it.
//
// Plan for order K-i (made from example order i mod 5): every order runs
// through "Order to invoice" and "Audit". Orders that wait for shipping get
// the fulfillment_shipped event, except every fifth of them, which is
// cancelled once it waits. Fulfillment fails its first two attempts and the
// audit provider its first one, so steps retry; every simulated provider
// keeps a ledger of the idempotency keys it carried out.

#include <chrono>
#include <fstream>
#include <mutex>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "engine/engine.hpp"

namespace {

using namespace orca;

const char* audit_flow = R"({"name": "Audit", "type": "order", "steps": [
  {"action": "custom", "name": "Record", "provider": "audit",
   "retry": {"max_attempts": 3, "backoff_ms": 20}}]})";

std::string read_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::vector<std::string> example_orders() {
  std::vector<std::string> result;
  std::istringstream lines{
    read_file(std::string{ORCA_SOURCE_DIR} + "/flows/examples/orders.jsonl")};
  std::string line;
  while (std::getline(lines, line))
    if (!line.empty())
      result.push_back(line);
  return result;
}

std::string order_text(const std::vector<std::string>& examples,
                       std::size_t i) {
  auto text = examples[i % examples.size()];
  auto at = text.find("\"id\": \"");
  auto end = text.find('"', at + 7);
  return text.substr(0, at + 7) + "K-" + std::to_string(i) + text.substr(end);
}

/// Example orders 0 (retail), 1 (B2B) and 3 (gift card) wait for shipping.
bool waits(std::size_t i) {
  auto kind = i % 5;
  return kind == 0 || kind == 1 || kind == 3;
}

bool cancelled(std::size_t i) {
  return waits(i) && (i / 5) % 5 == 4;
}

int fail(const std::string& what, const caf::error& err) {
  std::cerr << "error: " << what << ": " << describe(err) << std::endl;
  return 1;
}

} // namespace

/// What earlier runs saw acknowledged, by kind ("ack", "event", "cancel").
std::map<std::string, std::set<std::string>>
read_acked(const std::string& path) {
  std::map<std::string, std::set<std::string>> result;
  std::istringstream lines{read_file(path)};
  std::string line;
  while (std::getline(lines, line)) {
    auto space = line.find(' ');
    if (space != std::string::npos)
      result[line.substr(0, space)].insert(line.substr(space + 1));
  }
  return result;
}

std::mutex output;

/// Prints one acknowledgement line per id, whole and flushed.
void print_acks(const std::string& kind,
                const std::vector<std::pair<std::string, std::string>>& sent,
                const std::vector<caf::error>& errors) {
  std::string text;
  for (std::size_t k = 0; k < sent.size(); ++k)
    if (!errors[k])
      text += kind + " " + sent[k].first + "\n";
  std::lock_guard<std::mutex> guard{output};
  std::cout << text << std::flush;
}

/// Sends events (or cancels) and prints those the engine acknowledged.
void send(Engine& engine, const std::string& kind,
          std::vector<std::pair<std::string, std::string>> events) {
  if (events.empty())
    return;
  auto sent = events;
  engine.events_async(std::move(events),
                      [kind, sent](std::vector<caf::error> errors) {
                        print_acks(kind, sent, errors);
                      });
}

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    std::cerr << "usage: orca_crash_worker DATA_DIR ORDERS [ACKED_FILE]\n";
    return 2;
  }
  std::size_t n = std::stoul(argv[2]);
  auto acked = argc == 4 ? read_acked(argv[3])
                         : std::map<std::string, std::set<std::string>>{};
  engine_options opts;
  opts.data_dir = argv[1];
  auto config = node_config::parse(R"({"providers": {
    "dom": {"kind": "simulated", "ledger": true},
    "fno": {"kind": "simulated", "ledger": true},
    "billing": {"kind": "simulated", "ledger": true},
    "fulfillment": {"kind": "simulated", "ledger": true, "fail_first_attempts": 2},
    "notify": {"kind": "simulated", "ledger": true},
    "audit": {"kind": "simulated", "ledger": true, "fail_first_attempts": 1}}})",
                                   "worker config");
  if (!config)
    return fail("config", config.error());
  opts.config = std::move(*config);
  auto opened = Engine::open(std::move(opts));
  if (!opened)
    return fail("open", opened.error());
  auto& engine = **opened;
  {
    // Recovery is done: from here on the run takes new work.
    std::lock_guard<std::mutex> guard{output};
    std::cout << "started" << std::endl;
  }

  auto invoice = read_file(std::string{ORCA_SOURCE_DIR}
                           + "/flows/examples/order-to-invoice.json");
  for (const auto& text : {invoice, std::string{audit_flow}}) {
    auto created = engine.create_flow(text, "worker flow");
    if (!created && created.error() != errc::flow_exists)
      return fail("create", created.error());
  }
  for (const char* name : {"Order to invoice", "Audit"})
    if (auto v = engine.publish_flow(name); !v)
      return fail("publish", v.error());

  auto examples = example_orders();
  auto id_of = [](std::size_t i) { return "K-" + std::to_string(i); };
  auto wants_event = [&](std::size_t i) {
    return waits(i) && !cancelled(i) && acked["event"].count(id_of(i)) == 0;
  };
  // Events of orders acknowledged before whose events were not.
  std::vector<std::pair<std::string, std::string>> owed;
  for (std::size_t i = 0; i < n; ++i)
    if (acked["ack"].count(id_of(i)) > 0 && wants_event(i))
      owed.emplace_back(id_of(i), "fulfillment_shipped");
  send(engine, "event", std::move(owed));
  constexpr std::size_t batch = 250;
  for (std::size_t first = 0; first < n; first += batch) {
    std::vector<std::string> orders;
    std::vector<std::size_t> numbers;
    for (std::size_t i = first; i < std::min(n, first + batch); ++i)
      if (acked["ack"].count(id_of(i)) == 0) {
        orders.push_back(order_text(examples, i));
        numbers.push_back(i);
      }
    while (!orders.empty()) {
      auto results = engine.submit_batch(orders);
      std::vector<std::pair<std::string, std::string>> events;
      std::vector<std::string> busy_orders;
      std::vector<std::size_t> busy_numbers;
      std::string acks;
      for (std::size_t k = 0; k < results.size(); ++k) {
        const auto& r = results[k];
        if (r.status == submit_status::rejected)
          return fail("submit " + r.order_id,
                      make_error(errc::invalid_order, r.error));
        if (r.status == submit_status::busy) {
          // Not taken: offered again once the node has room.
          busy_orders.push_back(orders[k]);
          busy_numbers.push_back(numbers[k]);
          continue;
        }
        acks += "ack " + r.order_id + "\n";
        if (wants_event(numbers[k]))
          events.emplace_back(r.order_id, "fulfillment_shipped");
      }
      {
        std::lock_guard<std::mutex> guard{output};
        std::cout << acks << std::flush;
      }
      send(engine, "event", std::move(events));
      if (!busy_orders.empty())
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      orders = std::move(busy_orders);
      numbers = std::move(busy_numbers);
    }
  }

  // Cancel the planned ones once both their journeys are where the plan
  // expects them, then wait until every journey has ended.
  std::set<std::string> to_cancel;
  for (std::size_t i = 0; i < n; ++i)
    if (cancelled(i) && acked["cancel"].count(id_of(i)) == 0)
      to_cancel.insert(id_of(i));
  // A journey that never ends (an acknowledged event that was lost, say)
  // is reported instead of waited for.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  for (;;) {
    auto all = engine.list_journeys({});
    if (!all)
      return fail("list", all.error());
    std::map<std::string, std::vector<const journey_record*>> by_order;
    std::size_t ended = 0;
    for (const auto& r : *all) {
      by_order[r.order_id].push_back(&r);
      if (is_terminal(r.state))
        ++ended;
    }
    if (ended == 2 * n && all->size() == 2 * n) {
      std::lock_guard<std::mutex> guard{output};
      std::cout << "done" << std::endl;
      return 0;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      std::lock_guard<std::mutex> guard{output};
      for (const auto& r : *all)
        if (!is_terminal(r.state))
          std::cout << "stuck " << r.order_id << " " << r.flow << " "
                    << to_string(r.state) << "\n";
      std::cout << all->size() << " journeys, " << ended << " ended"
                << std::endl;
      return 3;
    }
    std::vector<std::pair<std::string, std::string>> cancels;
    for (auto it = to_cancel.begin(); it != to_cancel.end();) {
      const auto& journeys = by_order[*it];
      bool ready = journeys.size() == 2;
      for (const auto* r : journeys)
        if (r->flow == "Audit"
              ? !is_terminal(r->state)
              : r->state != journey_state::waiting && !is_terminal(r->state))
          ready = false;
      if (ready) {
        cancels.emplace_back(*it, "cancel_order");
        it = to_cancel.erase(it);
      } else {
        ++it;
      }
    }
    send(engine, "cancel", std::move(cancels));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}
