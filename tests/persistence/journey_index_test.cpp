// The journey_states index: every write of a journey record keeps it in
// step, listings by flow and state come from it in the journeys' own key
// order, and a store of an older format gets it built when opened.

#include <catch2/catch.hpp>

#include <future>

#include <lmdb.h>

#include "persistence/format.hpp"
#include "persistence/journey_store.hpp"
#include "persistence/records.hpp"
#include "support/files.hpp"

using namespace orca;
using namespace orca::test;

namespace {

journey_snapshot snapshot(const std::string& order_id, const std::string& flow,
                          journey_state state, uint32_t version = 1) {
  journey_snapshot s;
  s.order_id = order_id;
  s.flow = flow;
  s.version = version;
  s.state = state;
  return s;
}

/// Every key of the index, as "flow/state/order/version".
std::vector<std::string> index_of(store& db) {
  auto txn = db.begin_read();
  REQUIRE(txn);
  std::vector<std::string> keys;
  auto err = txn->scan(
    db.journey_states, "", [&](std::string_view key, std::string_view) {
      auto e = journey_state_entry::from_key(key);
      REQUIRE(e);
      keys.push_back(e->id.flow + "/"
                     + to_string(static_cast<journey_state>(e->state)) + "/"
                     + e->id.order_id + "/" + std::to_string(e->id.version));
      return true;
    });
  REQUIRE_FALSE(err);
  return keys;
}

void put(store& db, const journey_snapshot& s) {
  auto txn = db.begin_write();
  REQUIRE(txn);
  REQUIRE_FALSE(txn->put(
    db.journeys, journey_key(s.order_id, s.flow, s.version), encode(s)));
  REQUIRE_FALSE(txn->commit());
}

/// The order ids `indexed` lists.
std::vector<std::string> listed(journey_store& journeys,
                                std::optional<std::string> flow,
                                std::optional<journey_state> state,
                                std::optional<journey_id> after = std::nullopt,
                                std::size_t limit = 0) {
  auto ids = journeys.indexed(flow, state, after, limit);
  REQUIRE(ids);
  std::vector<std::string> result;
  for (const auto& id : *ids)
    result.push_back(id.order_id + "/" + id.flow);
  return result;
}

} // namespace

TEST_CASE("every write of a journey record keeps the journey_states index") {
  temp_dir dir;
  auto db = store::open(dir.path());
  REQUIRE(db);
  auto& s = **db;
  using v = std::vector<std::string>;

  // A new journey is indexed under its visible state: received is running.
  put(s, snapshot("SO-1", "F", journey_state::received));
  CHECK(index_of(s) == v{"F/running/SO-1/1"});
  // A change of state moves it; the same state leaves one entry.
  put(s, snapshot("SO-1", "F", journey_state::waiting));
  put(s, snapshot("SO-1", "F", journey_state::waiting));
  CHECK(index_of(s) == v{"F/waiting/SO-1/1"});

  // Through the group committer: a put, a modify and an erase.
  group_committer writer{s};
  auto commit = [&](write_op op) {
    std::promise<write_result> done;
    write_request req;
    req.ops.push_back(std::move(op));
    req.done = [&done](const write_result& r) { done.set_value(r); };
    writer.submit(std::move(req));
    REQUIRE(done.get_future().get().applied);
  };
  commit(write_op::put(s.journeys, journey_key("SO-2", "F", 1),
                       encode(snapshot("SO-2", "F", journey_state::failed))));
  commit(write_op::modify(s.journeys, journey_key("SO-1", "F", 1),
                          [](std::optional<std::string_view>)
                            -> caf::expected<std::optional<std::string>> {
                            return std::optional<std::string>{encode(
                              snapshot("SO-1", "F", journey_state::completed))};
                          }));
  CHECK(index_of(s) == v{"F/completed/SO-1/1", "F/failed/SO-2/1"});
  commit(write_op::erase(s.journeys, journey_key("SO-2", "F", 1)));
  CHECK(index_of(s) == v{"F/completed/SO-1/1"});

  // A record that does not read has no entry; the one it replaced goes.
  commit(write_op::put(s.journeys, journey_key("SO-1", "F", 1), "garbage"));
  CHECK(index_of(s).empty());
  // Other databases are not indexed.
  commit(write_op::put(s.orders, "SO-3", "anything"));
  CHECK(index_of(s).empty());
}

TEST_CASE("listings by flow and state merge the index's runs in key order") {
  temp_dir dir;
  auto db = store::open(dir.path());
  REQUIRE(db);
  auto& s = **db;
  group_committer writer{s};
  journey_store journeys{s, writer};
  // Two flows, one a prefix of the other's name; states mixed.
  put(s, snapshot("A", "Invoice", journey_state::failed));
  put(s, snapshot("A", "Invoice all", journey_state::completed));
  put(s, snapshot("B", "Invoice all", journey_state::failed));
  put(s, snapshot("C", "Invoice", journey_state::completed));
  put(s, snapshot("C", "Invoice", journey_state::failed, 2));
  put(s, snapshot("D", "Invoice", journey_state::waiting));
  put(s, snapshot("E", "Invoice all", journey_state::failed));
  using v = std::vector<std::string>;

  CHECK(listed(journeys, std::string{"Invoice"}, std::nullopt)
        == v{"A/Invoice", "C/Invoice", "C/Invoice", "D/Invoice"});
  CHECK(listed(journeys, std::nullopt, journey_state::failed)
        == v{"A/Invoice", "B/Invoice all", "C/Invoice", "E/Invoice all"});
  CHECK(listed(journeys, std::string{"Invoice all"}, journey_state::failed)
        == v{"B/Invoice all", "E/Invoice all"});
  CHECK(
    listed(journeys, std::string{"Invoice"}, journey_state::cancelled).empty());
  CHECK(listed(journeys, std::string{"Nothing"}, std::nullopt).empty());

  // Pages: a limit, then on after the last one of the page.
  CHECK(listed(journeys, std::nullopt, journey_state::failed, std::nullopt, 2)
        == v{"A/Invoice", "B/Invoice all"});
  CHECK(listed(journeys, std::nullopt, journey_state::failed,
               journey_id{"B", "Invoice all", 1}, 2)
        == v{"C/Invoice", "E/Invoice all"});
  CHECK(listed(journeys, std::nullopt, journey_state::failed,
               journey_id{"E", "Invoice all", 1}, 2)
          .empty());
  // After one version of an order's journey comes the next.
  auto ids = journeys.indexed(std::string{"Invoice"}, std::nullopt,
                              journey_id{"C", "Invoice", 1}, 0);
  REQUIRE(ids);
  REQUIRE(ids->size() == 2);
  CHECK((*ids)[0].version == 2);
  CHECK((*ids)[1].order_id == "D");
}

TEST_CASE("a store of format 2 has its journey index built when opened") {
  temp_dir dir;
  {
    auto db = store::open(dir.path());
    REQUIRE(db);
    put(**db, snapshot("SO-1", "F", journey_state::waiting));
    put(**db, snapshot("SO-2", "F", journey_state::completed));
  }
  // What format 2 had: no index database, and its format number.
  {
    MDB_env* env = nullptr;
    REQUIRE(mdb_env_create(&env) == MDB_SUCCESS);
    mdb_env_set_maxdbs(env, format::max_databases);
    REQUIRE(mdb_env_open(env, dir.path().c_str(), 0, 0644) == MDB_SUCCESS);
    MDB_txn* txn = nullptr;
    REQUIRE(mdb_txn_begin(env, nullptr, 0, &txn) == MDB_SUCCESS);
    MDB_dbi index;
    MDB_dbi meta;
    REQUIRE(mdb_dbi_open(txn, format::db_journey_states, 0, &index)
            == MDB_SUCCESS);
    REQUIRE(mdb_drop(txn, index, 1) == MDB_SUCCESS);
    REQUIRE(mdb_dbi_open(txn, format::db_meta, 0, &meta) == MDB_SUCCESS);
    std::string key = format::meta_store_format_key;
    char two[4] = {2, 0, 0, 0};
    MDB_val k{key.size(), key.data()};
    MDB_val value{4, two};
    REQUIRE(mdb_put(txn, meta, &k, &value, 0) == MDB_SUCCESS);
    REQUIRE(mdb_txn_commit(txn) == MDB_SUCCESS);
    mdb_env_close(env);
  }
  auto db = store::open(dir.path());
  REQUIRE(db);
  CHECK(index_of(**db)
        == std::vector<std::string>{"F/waiting/SO-1/1", "F/completed/SO-2/1"});
  auto txn = (*db)->begin_read();
  REQUIRE(txn);
  auto stored = txn->get((*db)->meta, format::meta_store_format_key);
  REQUIRE(stored);
  REQUIRE(*stored);
  CHECK(get_le(**stored, 0, 4) == format::store_format_version);
}

TEST_CASE("journey records replaced in one transaction by larger and smaller "
          "ones read back as last written, each indexed once") {
  temp_dir dir;
  auto db = store::open(dir.path());
  REQUIRE(db);
  auto& s = **db;
  // Sizes from a few bytes to several pages (LMDB keeps a value of more
  // than about 2 KB on pages of its own).
  auto sized = [](const std::string& order_id, journey_state state,
                  std::size_t events) {
    auto snap = snapshot(order_id, "F", state);
    for (std::size_t i = 0; i < events; ++i)
      snap.events.push_back("event-" + std::string(100, 'x')
                            + std::to_string(i));
    return snap;
  };
  const std::vector<std::pair<journey_state, std::size_t>> steps = {
    {journey_state::received, 0}, {journey_state::running, 40},
    {journey_state::waiting, 1},  {journey_state::running, 100},
    {journey_state::waiting, 60}, {journey_state::completed, 2}};
  {
    auto txn = s.begin_write();
    REQUIRE(txn);
    for (const auto& [state, events] : steps)
      for (const auto* id : {"SO-1", "SO-2", "SO-3"}) {
        REQUIRE_FALSE(txn->put(s.journeys, journey_key(id, "F", 1),
                               encode(sized(id, state, events))));
        // Another journey written and deleted between two puts of this
        // one: its record moves the others on their pages.
        auto other = sized("SO-10", journey_state::running, events);
        REQUIRE_FALSE(
          txn->put(s.journeys, journey_key("SO-10", "F", 1), encode(other)));
        REQUIRE_FALSE(txn->del(s.journeys, journey_key("SO-10", "F", 1)));
      }
    REQUIRE_FALSE(txn->commit());
  }
  auto txn = s.begin_read();
  REQUIRE(txn);
  for (const auto* id : {"SO-1", "SO-2", "SO-3"}) {
    auto stored = txn->get(s.journeys, journey_key(id, "F", 1));
    REQUIRE(stored);
    REQUIRE(*stored);
    CHECK(**stored == encode(sized(id, journey_state::completed, 2)));
  }
  using v = std::vector<std::string>;
  CHECK(index_of(s)
        == v{"F/completed/SO-1/1", "F/completed/SO-2/1", "F/completed/SO-3/1"});
}
