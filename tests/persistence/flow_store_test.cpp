#include <catch2/catch.hpp>

#include "persistence/flow_store.hpp"
#include "persistence/format.hpp"
#include "support/files.hpp"

using namespace orca;

namespace {

const std::vector<std::string> default_providers{"dom", "fulfillment", "fno",
                                                 "billing"};
const std::vector<std::string> with_notify{"dom", "fulfillment", "fno",
                                           "billing", "notify"};

std::string simple_flow(const std::string& name,
                        const std::string& action = "send_to_dom") {
  return R"({"name": ")" + name + R"(", "type": "order", "steps": [
    {"action": ")"
    + action + R"(", "name": "Step"}]})";
}

std::unique_ptr<store> open_store(const test::temp_dir& dir) {
  auto s = store::open(dir.path());
  REQUIRE(s);
  return std::move(*s);
}

} // namespace

TEST_CASE("create stores an Unpublished version 1 draft with created_on") {
  test::temp_dir dir;
  auto db = open_store(dir);
  flow_store flows{*db};
  auto created = flows.create(simple_flow("F"), "f.json", 1000);
  REQUIRE(created);
  CHECK(created->name == "F");
  CHECK(created->status == flow_status::unpublished);
  CHECK(created->created_on == 1000);
  CHECK(created->draft_version == 1);
  CHECK(created->latest_version == 0);
  SECTION("a second flow with the same name is refused") {
    auto again = flows.create(simple_flow("F"), "g.json", 2000);
    REQUIRE_FALSE(again);
    CHECK(again.error() == errc::flow_exists);
    CHECK(describe(again.error())
            .find("g.json: name: a flow named \"F\" already exists")
          != std::string::npos);
  }
  SECTION("an invalid flow is refused with every error") {
    auto bad =
      flows.create(R"({"name": "B", "type": "x", "steps": []})", "b.json", 0);
    REQUIRE_FALSE(bad);
    CHECK(bad.error() == errc::invalid_flow);
    auto msg = describe(bad.error());
    CHECK(msg.find("b.json: type: unsupported") != std::string::npos);
    CHECK(msg.find("b.json: steps: a flow needs at least one step")
          != std::string::npos);
  }
}

TEST_CASE("publish freezes the draft as the next version") {
  test::temp_dir dir;
  auto db = open_store(dir);
  flow_store flows{*db};
  REQUIRE(flows.create(simple_flow("F"), "f.json", 1));
  auto published = flows.publish("F", default_providers, 5);
  REQUIRE(published);
  CHECK(published->version == 1);
  CHECK(published->flow.status == flow_status::published);
  auto v1 = flows.version("F", 1);
  REQUIRE(v1);
  CHECK(v1->definition == simple_flow("F"));
  CHECK(v1->published_on == 5);
  SECTION("publishing a published flow changes nothing") {
    auto again = flows.publish("F", default_providers, 6);
    REQUIRE(again);
    CHECK(again->version == 1);
    CHECK_FALSE(again->frozen);
  }
}

TEST_CASE("a running published flow cannot be updated") {
  test::temp_dir dir;
  auto db = open_store(dir);
  flow_store flows{*db};
  REQUIRE(flows.create(simple_flow("F"), "f.json", 1));
  REQUIRE(flows.publish("F", default_providers, 2));
  auto updated = flows.update(simple_flow("F", "send_to_invoice"), "f.json", 3);
  REQUIRE_FALSE(updated);
  CHECK(updated.error() == errc::flow_is_published);
  CHECK(describe(updated.error()).find("pause or stop it before updating it")
        != std::string::npos);
}

TEST_CASE(
  "a paused flow takes a new draft and publish freezes it, still paused") {
  test::temp_dir dir;
  auto db = open_store(dir);
  flow_store flows{*db};
  REQUIRE(flows.create(simple_flow("F"), "f.json", 1));
  REQUIRE(flows.publish("F", default_providers, 2));
  REQUIRE(flows.pause("F", 3));
  auto updated = flows.update(simple_flow("F", "send_to_invoice"), "f.json", 4);
  REQUIRE(updated);
  CHECK(updated->status == flow_status::published);
  CHECK(updated->draft_version == 2);
  CHECK(updated->draft_is_new());
  auto published = flows.publish("F", default_providers, 5);
  REQUIRE(published);
  CHECK(published->version == 2);
  REQUIRE(published->frozen);
  CHECK(published->flow.status == flow_status::published);
  CHECK(published->flow.paused);
  CHECK(published->flow.pauses.paused_on == 3);
  CHECK(flows.version("F", 1)->definition == simple_flow("F"));
  CHECK(flows.version("F", 2)->definition
        == simple_flow("F", "send_to_invoice"));
  SECTION("publishing again changes nothing") {
    auto again = flows.publish("F", default_providers, 6);
    REQUIRE(again);
    CHECK(again->version == 2);
    CHECK_FALSE(again->frozen);
  }
  SECTION("resume counts the pause") {
    auto resumed = flows.resume("F", 10);
    REQUIRE(resumed);
    CHECK_FALSE(resumed->paused);
    CHECK(resumed->pauses.paused_on == 0);
    CHECK(resumed->pauses.paused_ms == 7);
    SECTION("and a running flow is refused again") {
      auto refused = flows.update(simple_flow("F"), "f.json", 11);
      REQUIRE_FALSE(refused);
      CHECK(refused.error() == errc::flow_is_published);
    }
  }
}

TEST_CASE("stop then update then publish gives version n+1") {
  test::temp_dir dir;
  auto db = open_store(dir);
  flow_store flows{*db};
  REQUIRE(flows.create(simple_flow("F"), "f.json", 1));
  REQUIRE(flows.publish("F", default_providers, 2));
  auto stopped = flows.stop("F", 3);
  REQUIRE(stopped);
  CHECK(stopped->status == flow_status::unpublished);
  auto updated = flows.update(simple_flow("F", "send_to_invoice"), "f.json", 4);
  REQUIRE(updated);
  CHECK(updated->draft_version == 2);
  auto published = flows.publish("F", default_providers, 5);
  REQUIRE(published);
  CHECK(published->version == 2);
  REQUIRE(flows.version("F", 1));
  REQUIRE(flows.version("F", 2));
  CHECK(flows.version("F", 1)->definition == simple_flow("F"));
  CHECK(flows.version("F", 2)->definition
        == simple_flow("F", "send_to_invoice"));
  SECTION("stop then publish without an update republishes the same version") {
    REQUIRE(flows.stop("F", 6));
    auto again = flows.publish("F", default_providers, 7);
    REQUIRE(again);
    CHECK(again->version == 2);
    CHECK_FALSE(flows.version("F", 3));
  }
}

TEST_CASE(
  "update of an Unpublished draft replaces it before the first publish") {
  test::temp_dir dir;
  auto db = open_store(dir);
  flow_store flows{*db};
  REQUIRE(flows.create(simple_flow("F"), "f.json", 1));
  auto updated = flows.update(simple_flow("F", "send_to_invoice"), "f.json", 2);
  REQUIRE(updated);
  CHECK(updated->draft_version == 1);
  auto published = flows.publish("F", default_providers, 3);
  REQUIRE(published);
  CHECK(published->version == 1);
  CHECK(flows.version("F", 1)->definition
        == simple_flow("F", "send_to_invoice"));
}

TEST_CASE("forbidden lifecycle operations give clear errors") {
  test::temp_dir dir;
  auto db = open_store(dir);
  flow_store flows{*db};
  REQUIRE(flows.create(simple_flow("F"), "f.json", 1));
  SECTION("operations on a flow that does not exist") {
    CHECK(flows.publish("Nope", default_providers, 1).error()
          == errc::no_such_flow);
    CHECK(flows.stop("Nope", 1).error() == errc::no_such_flow);
    CHECK(flows.pause("Nope", 1).error() == errc::no_such_flow);
    CHECK(flows.update(simple_flow("Nope"), "n.json", 1).error()
          == errc::no_such_flow);
    CHECK(describe(flows.get("Nope").error()) == "no flow named \"Nope\"");
  }
  SECTION("stop, pause of an Unpublished flow") {
    CHECK(flows.stop("F", 2).error() == errc::flow_not_published);
    CHECK(flows.pause("F", 2).error() == errc::flow_not_published);
  }
  SECTION("resume of a flow that is not paused") {
    REQUIRE(flows.publish("F", default_providers, 2));
    CHECK(flows.resume("F", 3).error() == errc::flow_not_paused);
  }
  SECTION("publish with a provider that is not registered") {
    REQUIRE(flows.create(simple_flow("N", "custom\", \"provider\": \"notify"),
                         "n.json", 1));
    auto refused = flows.publish("N", default_providers, 2);
    REQUIRE_FALSE(refused);
    CHECK(refused.error() == errc::unknown_provider);
    CHECK(
      describe(refused.error()).find("provider \"notify\" is not registered")
      != std::string::npos);
    CHECK(flows.get("N")->status == flow_status::unpublished);
    CHECK(flows.publish("N", with_notify, 3));
  }
  SECTION("a version that does not exist") {
    auto v = flows.version("F", 1);
    REQUIRE_FALSE(v);
    CHECK(v.error() == errc::no_such_version);
  }
}

TEST_CASE("pause and resume change the pause state of a published flow") {
  test::temp_dir dir;
  auto db = open_store(dir);
  flow_store flows{*db};
  REQUIRE(flows.create(simple_flow("F"), "f.json", 1));
  REQUIRE(flows.publish("F", default_providers, 2));
  auto paused = flows.pause("F", 3);
  REQUIRE(paused);
  CHECK(paused->paused);
  auto resumed = flows.resume("F", 4);
  REQUIRE(resumed);
  CHECK_FALSE(resumed->paused);
}

TEST_CASE("list returns every flow in name order") {
  test::temp_dir dir;
  auto db = open_store(dir);
  flow_store flows{*db};
  REQUIRE(flows.create(simple_flow("B"), "b.json", 1));
  REQUIRE(flows.create(simple_flow("A"), "a.json", 1));
  auto all = flows.list();
  REQUIRE(all);
  REQUIRE(all->size() == 2);
  CHECK((*all)[0].name == "A");
  CHECK((*all)[1].name == "B");
}

TEST_CASE("reopening the store keeps flows, versions and statuses") {
  test::temp_dir dir;
  {
    auto db = open_store(dir);
    flow_store flows{*db};
    REQUIRE(flows.create(simple_flow("Kept"), "k.json", 10));
    REQUIRE(flows.publish("Kept", default_providers, 11));
    REQUIRE(flows.stop("Kept", 12));
    REQUIRE(flows.update(simple_flow("Kept", "send_to_invoice"), "k.json", 13));
    REQUIRE(flows.publish("Kept", default_providers, 14));
    REQUIRE(flows.pause("Kept", 15));
    REQUIRE(flows.create(simple_flow("Draft"), "d.json", 16));
  }
  auto db = open_store(dir);
  flow_store flows{*db};
  auto kept = flows.get("Kept");
  REQUIRE(kept);
  CHECK(kept->status == flow_status::published);
  CHECK(kept->paused);
  CHECK(kept->latest_version == 2);
  CHECK(kept->created_on == 10);
  CHECK(flows.version("Kept", 1)->definition == simple_flow("Kept"));
  CHECK(flows.version("Kept", 2)->definition
        == simple_flow("Kept", "send_to_invoice"));
  auto draft = flows.get("Draft");
  REQUIRE(draft);
  CHECK(draft->status == flow_status::unpublished);
  CHECK(draft->draft == simple_flow("Draft"));
}

namespace {

/// Writes format number `n` into a closed store with plain LMDB, as
/// another build of Orca would have; returns the number it found there.
uint32_t swap_store_format(const std::string& dir, uint32_t n) {
  MDB_env* env = nullptr;
  REQUIRE(mdb_env_create(&env) == MDB_SUCCESS);
  mdb_env_set_maxdbs(env, format::max_databases);
  REQUIRE(mdb_env_open(env, dir.c_str(), 0, 0644) == MDB_SUCCESS);
  MDB_txn* txn = nullptr;
  REQUIRE(mdb_txn_begin(env, nullptr, 0, &txn) == MDB_SUCCESS);
  MDB_dbi meta;
  REQUIRE(mdb_dbi_open(txn, format::db_meta, 0, &meta) == MDB_SUCCESS);
  std::string key = format::meta_store_format_key;
  MDB_val k{key.size(), key.data()};
  MDB_val old{};
  REQUIRE(mdb_get(txn, meta, &k, &old) == MDB_SUCCESS);
  uint32_t found = 0;
  for (int i = 3; i >= 0; --i)
    found = (found << 8)
      | static_cast<unsigned char>(static_cast<const char*>(old.mv_data)[i]);
  char bytes[4];
  for (int i = 0; i < 4; ++i)
    bytes[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
  MDB_val v{4, bytes};
  REQUIRE(mdb_put(txn, meta, &k, &v, 0) == MDB_SUCCESS);
  REQUIRE(mdb_txn_commit(txn) == MDB_SUCCESS);
  mdb_env_close(env);
  return found;
}

} // namespace

TEST_CASE("a store written by a newer format version is refused") {
  test::temp_dir dir;
  { open_store(dir); }
  uint32_t newer = format::store_format_version + 1;
  swap_store_format(dir.path(), newer);
  auto reopened = store::open(dir.path());
  REQUIRE_FALSE(reopened);
  CHECK(reopened.error() == errc::store_too_new);
  CHECK(describe(reopened.error())
          .find("written by format version " + std::to_string(newer))
        != std::string::npos);
}

TEST_CASE("a store of format 1 is brought to the current format when opened") {
  test::temp_dir dir;
  { open_store(dir); }
  swap_store_format(dir.path(), 1);
  {
    auto db = open_store(dir);
    flow_store flows{*db};
    // The policy library is there, empty.
    auto lib = flows.policies();
    REQUIRE(lib);
    CHECK(lib->empty());
  }
  CHECK(swap_store_format(dir.path(), format::store_format_version)
        == format::store_format_version);
}
