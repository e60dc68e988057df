// Damaged records: a truncated or corrupted record is reported, that journey
// is marked failed with a clear reason, and the node goes on.

#include <algorithm>
#include <mutex>

#include "support/engine_fixture.hpp"
#include "support/lmdb_surgery.hpp"

using namespace orca;
using namespace orca::test;

namespace {

const char* invoice_flow = "Order to invoice";

/// Three orders waiting for shipping, then the engine closed.
void three_waiting(engine_fixture& fx) {
  fx.publish_example("order-to-invoice.json");
  for (auto id : {"SO-1001", "SO-1002", "SO-1004"}) {
    REQUIRE(fx.submit(engine_fixture::example_order(id)).status
            == submit_status::accepted);
    fx.wait_state(id, invoice_flow, journey_state::waiting);
  }
  fx.engine->flush();
  fx.close();
}

/// The warnings of an engine, gathered from its threads.
struct warnings {
  std::mutex mutex;
  std::vector<std::string> said;

  std::vector<std::string> all() {
    std::lock_guard<std::mutex> guard{mutex};
    return said;
  }
};

/// Opens the engine of `fx` again, with its warnings going to `w`.
void reopen_warning_to(engine_fixture& fx, warnings& w) {
  engine_options opts;
  opts.data_dir = fx.dir.path();
  opts.config = with_notify();
  opts.time = fx.clock;
  opts.durable = false;
  opts.warn = [&w](const std::string& text) {
    std::lock_guard<std::mutex> guard{w.mutex};
    w.said.push_back(text);
  };
  auto reopened = Engine::open(std::move(opts));
  REQUIRE(reopened);
  fx.engine = std::move(*reopened);
}

} // namespace

TEST_CASE("damaged journey records fail their journeys and the node goes on") {
  engine_fixture fx{with_notify()};
  three_waiting(fx);
  CHECK(damage_records(fx.dir.path(), format::db_journeys, "SO-1001",
                       [](std::string v) { return flip_byte(v, v.size() / 2); })
        == 1);
  CHECK(damage_records(fx.dir.path(), format::db_journeys, "SO-1002",
                       [](std::string v) { return truncate(v, v.size() - 7); })
        == 1);
  warnings warned;
  reopen_warning_to(fx, warned);
  fx.engine->subscribe([&fx](const journey_record& r) { fx.watch.update(r); });
  fx.engine->flush();

  auto flipped = fx.engine->journeys("SO-1001");
  REQUIRE(flipped);
  REQUIRE(flipped->size() == 1);
  CHECK((*flipped)[0].state == journey_state::failed);
  REQUIRE((*flipped)[0].error);
  CHECK((*flipped)[0].error->find("its record is damaged: record journeys/"
                                  "\"SO-1001\"/\"Order to invoice\"/1 is "
                                  "damaged: checksum mismatch")
        != std::string::npos);
  auto cut = fx.engine->journeys("SO-1002");
  REQUIRE(cut);
  CHECK((*cut)[0].state == journey_state::failed);
  CHECK((*cut)[0].error->find("truncated") != std::string::npos);
  CHECK(warned.all().size() == 2);

  // The untouched journey still waits and finishes; new orders run.
  REQUIRE_FALSE(fx.engine->event("SO-1004", "fulfillment_shipped"));
  CHECK(fx.wait_terminal("SO-1004", invoice_flow).state
        == journey_state::completed);
  REQUIRE(fx.submit(engine_fixture::example_order("SO-1005")).status
          == submit_status::accepted);
  CHECK(fx.wait_terminal("SO-1005", invoice_flow).state
        == journey_state::completed);
}

TEST_CASE("a damaged order record fails the journeys that need it") {
  engine_fixture fx{with_notify()};
  three_waiting(fx);
  CHECK(damage_records(fx.dir.path(), format::db_orders, "SO-1002",
                       [](std::string v) { return flip_byte(v, 20); })
        == 1);
  fx.open(with_notify());
  // It sleeps until its event wakes it; then the order cannot be read.
  auto err = fx.engine->event("SO-1002", "fulfillment_shipped");
  CHECK(err == errc::corrupt_record);
  CHECK(describe(err).find("record orders/\"SO-1002\" is damaged") == 0);
  REQUIRE_FALSE(fx.engine->cancel("SO-1004"));
  CHECK(fx.wait_terminal("SO-1004", invoice_flow).state
        == journey_state::cancelled);
}

TEST_CASE("a damaged journal chunk is reported and the journey is untouched") {
  engine_fixture fx{with_notify()};
  three_waiting(fx);
  CHECK(damage_records(fx.dir.path(), format::db_journal, "SO-1004",
                       [](std::string v) { return flip_byte(v, 3); })
        >= 1);
  fx.open(with_notify());
  auto journal = fx.engine->journal("SO-1004", invoice_flow, 1);
  REQUIRE_FALSE(journal);
  CHECK(journal.error() == errc::corrupt_record);
  CHECK(describe(journal.error()).find("record journal/\"SO-1004") == 0);
  auto r = fx.engine->journeys("SO-1004");
  REQUIRE(r);
  CHECK((*r)[0].state == journey_state::waiting);
  REQUIRE_FALSE(fx.engine->event("SO-1004", "fulfillment_shipped"));
  CHECK(fx.wait_terminal("SO-1004", invoice_flow).state
        == journey_state::completed);
}

TEST_CASE("a damaged flow record leaves the other flows working") {
  engine_fixture fx{with_notify()};
  fx.publish(R"({"name": "Other", "type": "order", "steps": [
    {"action": "custom", "name": "Tell", "provider": "notify"}]})");
  three_waiting(fx);
  CHECK(damage_records(fx.dir.path(), format::db_flows, "Order to invoice",
                       [](std::string v) { return truncate(v, 5); })
        == 1);
  fx.open(with_notify());
  // Listed as damaged, with why; the other flow as it is.
  auto flows = fx.engine->list_flows();
  REQUIRE(flows);
  REQUIRE(flows->size() == 2);
  CHECK((*flows)[0].name == "Order to invoice");
  CHECK((*flows)[0].damaged.find("record flows/\"Order to invoice\" is damaged")
        == 0);
  CHECK((*flows)[1].name == "Other");
  CHECK((*flows)[1].damaged.empty());
  CHECK((*flows)[1].status == flow_status::published);
  auto other = fx.engine->get_flow("Other");
  REQUIRE(other);
  REQUIRE(fx.submit(R"({"id": "X-1", "lines": []})").status
          == submit_status::accepted);
  CHECK(fx.wait_terminal("X-1", "Other").state == journey_state::completed);
}

TEST_CASE("waiting journeys of a damaged flow version fail, saying why") {
  engine_fixture fx{with_notify()};
  three_waiting(fx);
  CHECK(damage_records(fx.dir.path(), format::db_flow_versions,
                       "Order to invoice",
                       [](std::string v) { return flip_byte(v, v.size() / 2); })
        == 1);
  warnings warned;
  reopen_warning_to(fx, warned);
  fx.engine->flush();
  auto warnings = warned.all();
  REQUIRE(warnings.size() == 3);
  for (auto id : {"SO-1001", "SO-1002", "SO-1004"})
    CHECK(std::count_if(warnings.begin(), warnings.end(),
                        [&](const std::string& w) {
                          return w.find(std::string{"order \""} + id + "\"")
                            != std::string::npos
                            && w.find("failed: its flow version cannot be "
                                      "loaded: record flows/\"Order to "
                                      "invoice\" version 1 is damaged: "
                                      "checksum mismatch")
                            != std::string::npos;
                        })
          == 1);
}
