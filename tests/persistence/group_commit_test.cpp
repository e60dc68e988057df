// The group committer and the store under failure: a write that cannot be
// applied fails only its own request, a full map grows up to its maximum
// and then refuses writes without losing committed ones, and a data
// directory is used by one process at a time.

#include <catch2/catch.hpp>

#include <fstream>
#include <thread>
#include <atomic>
#include <future>

#include "persistence/flow_store.hpp"
#include "persistence/group_commit.hpp"
#include "persistence/records.hpp"
#include "support/files.hpp"

using namespace orca;
using namespace orca::test;

namespace {

write_request put(const store& db, std::string key, std::string value,
                  std::promise<write_result>& result) {
  write_request req;
  req.ops.push_back(write_op::put(db.orders, std::move(key), std::move(value)));
  req.done = [&result](const write_result& r) { result.set_value(r); };
  return req;
}

std::optional<std::string> read(store& db, const std::string& key) {
  auto txn = db.begin_read();
  REQUIRE(txn);
  auto value = txn->get(db.orders, key);
  REQUIRE(value);
  if (!*value)
    return std::nullopt;
  return std::string{**value};
}

/// A store in `dir` whose map starts at `initial` bytes and may grow to
/// `most`.
caf::expected<std::unique_ptr<store>>
sized_store(const temp_dir& dir, std::size_t initial, std::size_t most) {
  store::options opts;
  opts.initial_map_size = initial;
  opts.map_size = most;
  return store::open(dir.path(), opts);
}

/// Holds `writer` inside a first request until release(), so that the
/// requests submitted meanwhile queue up and are committed together, in one
/// batch. REQUIRES: released before it goes, and it outlives the held
/// request's commit.
class held_writer {
public:
  held_writer(group_committer& writer, const store& db) {
    write_request hold;
    hold.ops.push_back(write_op::modify(
      db.orders, "hold",
      [this, released = released_](std::optional<std::string_view>)
        -> caf::expected<std::optional<std::string>> {
        // A batch tried again (a store that grew) runs its changes again.
        if (!entered_once_.exchange(true))
          entered_.set_value();
        released.wait();
        return std::optional<std::string>{"held"};
      }));
    hold.done = [this](const write_result& r) { first_.set_value(r); };
    writer.submit(std::move(hold));
    // Only once the commit thread is inside the held request does what is
    // submitted next queue behind it, all of it for the next batch.
    entered_.get_future().wait();
  }

  void release() {
    release_.set_value();
  }

  /// What became of the held request.
  write_result held() {
    return first_.get_future().get();
  }

private:
  std::promise<void> entered_;
  std::atomic<bool> entered_once_{false};
  std::promise<void> release_;
  std::shared_future<void> released_ = release_.get_future().share();
  std::promise<write_result> first_;
};

/// A store in a fresh directory, its writer, and the writer held (see
/// held_writer) so that what a test submits next goes into one batch.
struct held_store {
  temp_dir dir;
  std::unique_ptr<store> db = opened(dir);
  store& s = *db;
  group_committer writer{s};
  held_writer hold{writer, s};

  static std::unique_ptr<store> opened(const temp_dir& dir) {
    auto db = store::open(dir.path());
    REQUIRE(db);
    return std::move(*db);
  }
};

} // namespace

TEST_CASE("a write that cannot be applied fails only its own request") {
  held_store h;
  auto& s = h.s;
  auto& writer = h.writer;
  std::vector<std::promise<write_result>> results(5);
  for (int i = 0; i < 5; ++i) {
    // LMDB keys are at most 511 bytes: request 2's key cannot be written.
    auto key = i == 2 ? std::string(600, 'k') : "key-" + std::to_string(i);
    writer.submit(put(s, key, "value-" + std::to_string(i), results[i]));
  }
  h.hold.release();
  CHECK(h.hold.held().applied);
  for (int i = 0; i < 5; ++i) {
    auto r = results[i].get_future().get();
    INFO("request " << i);
    if (i == 2) {
      CHECK_FALSE(r.applied);
      CHECK(describe(r.error).find("mdb_put") != std::string::npos);
    } else {
      CHECK(r.applied);
      CHECK(read(s, "key-" + std::to_string(i))
            == std::optional<std::string>{"value-" + std::to_string(i)});
    }
  }
  writer.flush();
  // One batch held every request (with or without the first).
  CHECK(writer.statistics().commits <= 2);
}

TEST_CASE("puts of one key in one batch leave the last applied value, and "
          "other ops on the key see the puts before them") {
  held_store h;
  auto& s = h.s;
  auto& writer = h.writer;
  // Queued behind the held request, all in the next batch.
  std::vector<std::promise<write_result>> results(6);
  writer.submit(put(s, "k", "v1", results[0]));
  writer.submit(put(s, "k", "v2", results[1]));
  std::string modify_saw;
  write_request append;
  append.ops.push_back(
    write_op::modify(s.orders, "k",
                     [&modify_saw](std::optional<std::string_view> current)
                       -> caf::expected<std::optional<std::string>> {
                       modify_saw = std::string{current.value_or("none")};
                       return std::optional<std::string>{modify_saw + "+m"};
                     }));
  append.done = [&results](const write_result& r) { results[2].set_value(r); };
  writer.submit(std::move(append));
  writer.submit(put(s, "k", "v3", results[3]));
  // The last put of "k" is in a request that fails (its other key is too
  // long for LMDB): the one before it is what stays.
  write_request failing;
  failing.ops.push_back(write_op::put(s.orders, "k", "v4"));
  failing.ops.push_back(write_op::put(s.orders, std::string(600, 'x'), "v"));
  failing.done = [&results](const write_result& r) { results[4].set_value(r); };
  writer.submit(std::move(failing));
  writer.submit(put(s, "other", "o", results[5]));
  h.hold.release();
  for (int i = 0; i < 6; ++i) {
    INFO("request " << i);
    CHECK(results[i].get_future().get().applied == (i != 4));
  }
  CHECK(read(s, "k") == std::optional<std::string>{"v3"});
  CHECK(read(s, "other") == std::optional<std::string>{"o"});
  // The modify read the put queued just before it.
  CHECK(modify_saw == "v2");
}

TEST_CASE("a modify in a transaction writes what its change makes of the "
          "value, of any size, and nothing when the change refuses") {
  temp_dir dir;
  auto db = store::open(dir.path());
  REQUIRE(db);
  auto& s = **db;
  // Appends `tail` to the value; "none" for an absent one.
  auto append = [](std::string tail) {
    return [tail](std::optional<std::string_view> current)
             -> caf::expected<std::optional<std::string>> {
      return std::optional<std::string>{std::string{current.value_or("none")}
                                        + tail};
    };
  };
  auto leave = [](std::optional<std::string_view>)
    -> caf::expected<std::optional<std::string>> { return std::nullopt; };
  auto refuse = [](std::optional<std::string_view>)
    -> caf::expected<std::optional<std::string>> {
    return make_error(errc::invalid_argument, "refused");
  };
  auto shrink = [](std::optional<std::string_view> current)
    -> caf::expected<std::optional<std::string>> {
    return std::optional<std::string>{std::string{current->substr(0, 3)}};
  };
  const std::string big(10000, 'b'); // on pages of its own
  {
    auto txn = s.begin_write();
    REQUIRE(txn);
    caf::error refused;
    REQUIRE_FALSE(txn->modify(s.orders, "k", append("+1"), refused));
    REQUIRE_FALSE(txn->put(s.orders, "j", "neighbour"));
    REQUIRE_FALSE(txn->modify(s.orders, "k", append(big), refused));
    REQUIRE_FALSE(txn->del(s.orders, "j"));
    REQUIRE_FALSE(txn->modify(s.orders, "k", append("+2"), refused));
    REQUIRE_FALSE(txn->modify(s.orders, "k", leave, refused));
    REQUIRE_FALSE(refused);
    REQUIRE_FALSE(txn->modify(s.orders, "k", refuse, refused));
    CHECK(refused);
    REQUIRE_FALSE(txn->modify(s.orders, "l", append(big), refused));
    REQUIRE_FALSE(txn->modify(s.orders, "l", shrink, refused));
    REQUIRE_FALSE(txn->commit());
  }
  CHECK(read(s, "k") == std::optional<std::string>{"none+1" + big + "+2"});
  CHECK(read(s, "l") == std::optional<std::string>{"non"});
  CHECK_FALSE(read(s, "j"));
}

TEST_CASE("saves of one coalesce key queued together are one write: last "
          "values, one joined journal chunk, every callback in order") {
  held_store h;
  auto& s = h.s;
  auto& writer = h.writer;
  auto entry = [](const std::string& text) {
    journal_entry e;
    e.kind = journal_kind::step_started;
    e.text = text;
    return std::vector<journal_entry>{e};
  };
  std::vector<std::string> called;
  auto save = [&](const std::string& key, const std::string& value,
                  uint32_t chunk, const std::string& text) {
    write_request req;
    req.coalesce = key;
    req.ops.push_back(
      write_op::put_joined(s.journal, key + "/" + std::to_string(chunk),
                           encode(entry(text)), join_journal_chunks));
    req.ops.push_back(write_op::put(s.orders, "out-" + text, text));
    req.ops.push_back(write_op::put(s.orders, key, value));
    req.done = [&called, text](const write_result& r) {
      called.push_back(text + (r.applied ? "" : " failed"));
    };
    return req;
  };
  auto plain = [&](const std::string& key, const std::string& value) {
    write_request req;
    req.ops.push_back(write_op::put(s.orders, key, value));
    return req;
  };
  // Queued behind the held request: J's three saves merge around another
  // journey's write; K's second save comes after a write of K by a request
  // without a coalesce key, which closes K, so it is not merged ahead of it.
  writer.submit(save("J", "j1", 0, "a"));
  writer.submit(plain("other", "o"));
  writer.submit(save("J", "j2", 1, "b"));
  writer.submit(save("K", "k1", 0, "c"));
  writer.submit(save("J", "j3", 2, "d"));
  writer.submit(plain("K", "fenced"));
  writer.submit(save("K", "k2", 1, "e"));
  h.hold.release();
  writer.flush();
  // hold, J (a, b, d), other, K (c), the fence, K (e).
  CHECK(writer.statistics().requests == 6);
  CHECK(called == std::vector<std::string>{"a", "b", "d", "c", "e"});
  CHECK(read(s, "J") == std::optional<std::string>{"j3"});
  CHECK(read(s, "K") == std::optional<std::string>{"k2"});
  for (const auto* out : {"out-a", "out-b", "out-c", "out-d", "out-e"})
    CHECK(read(s, out) == std::optional<std::string>{std::string{out + 4}});
  auto txn = s.begin_read();
  REQUIRE(txn);
  auto chunk = txn->get(s.journal, "J/0");
  REQUIRE(chunk);
  REQUIRE(*chunk);
  auto entries = decode<std::vector<journal_entry>>(**chunk, "journal/J/0");
  REQUIRE(entries);
  REQUIRE(entries->size() == 3);
  CHECK((*entries)[0].text == "a");
  CHECK((*entries)[1].text == "b");
  CHECK((*entries)[2].text == "d");
  for (const auto* unused : {"J/1", "J/2"}) {
    auto none = txn->get(s.journal, unused);
    REQUIRE(none);
    CHECK_FALSE(*none);
  }
  for (const auto* separate : {"K/0", "K/1"}) {
    auto one = txn->get(s.journal, separate);
    REQUIRE(one);
    CHECK(*one);
  }
}

TEST_CASE("a full map grows up to its maximum, then refuses writes alone") {
  temp_dir dir;
  auto db = sized_store(dir, std::size_t{1} << 20, std::size_t{4} << 20);
  REQUIRE(db);
  CHECK((*db)->map_size() == std::size_t{1} << 20);
  group_committer writer{**db};
  int written = 0;
  caf::error refused;
  for (int i = 0; i < 200 && !refused; ++i) {
    std::promise<write_result> result;
    writer.submit(
      put(**db, "k" + std::to_string(i), std::string(50000, 'v'), result));
    auto r = result.get_future().get();
    if (r.applied)
      ++written;
    else
      refused = r.error;
  }
  REQUIRE(refused);
  CHECK(orca_code(refused) == static_cast<uint8_t>(errc::storage_full));
  CHECK(describe(refused).find("maximum size of 4194304 bytes")
        != std::string::npos);
  CHECK((*db)->map_size() == std::size_t{4} << 20);
  CHECK((*db)->full());
  // Far more than the first megabyte held, and every one of them is there.
  CHECK(written > 40);
  for (int i = 0; i < written; ++i)
    CHECK(read(**db, "k" + std::to_string(i)));
  // Full as it is, a small write still goes in, and the store stays full.
  std::promise<write_result> small;
  writer.submit(put(**db, "small", "v", small));
  CHECK(small.get_future().get().applied);
  CHECK((*db)->full());
  // A delete makes room; the store is full until a write as large as the
  // one it refused goes in.
  std::promise<write_result> erased;
  write_request erase;
  for (int i = 0; i < written; ++i)
    erase.ops.push_back(
      write_op::erase((*db)->orders, "k" + std::to_string(i)));
  erase.done = [&erased](const write_result& r) { erased.set_value(r); };
  writer.submit(std::move(erase));
  CHECK(erased.get_future().get().applied);
  CHECK((*db)->full());
  // (LMDB reuses the pages a transaction freed from the second transaction
  // after it on.)
  std::promise<write_result> between;
  writer.submit(put(**db, "between", "v", between));
  CHECK(between.get_future().get().applied);
  std::promise<write_result> large;
  writer.submit(put(**db, "large", std::string(50000, 'v'), large));
  CHECK(large.get_future().get().applied);
  CHECK_FALSE((*db)->full());
}

TEST_CASE("the map size can be read on any thread while the store grows") {
  // Engine::storage() (and so GET /metrics) reads it while the commit
  // thread may be moving the map to a larger size.
  temp_dir dir;
  auto db = sized_store(dir, std::size_t{1} << 20, std::size_t{256} << 20);
  REQUIRE(db);
  std::atomic<bool> done{false};
  std::size_t largest = 0;
  std::thread reader{[&] {
    while (!done)
      largest = std::max(largest, (*db)->map_size());
  }};
  group_committer writer{**db};
  for (int i = 0; i < 2000; ++i) {
    std::promise<write_result> r;
    writer.submit(
      put(**db, "grow" + std::to_string(i), std::string(60000, 'g'), r));
    REQUIRE(r.get_future().get().applied);
  }
  done = true;
  reader.join();
  CHECK(largest >= std::size_t{64} << 20);
  CHECK(largest == (*db)->map_size());
}

TEST_CASE("at its maximum size the store takes what fits from a batch and "
          "refuses the rest") {
  temp_dir dir;
  auto db = sized_store(dir, std::size_t{1} << 20, std::size_t{1} << 20);
  REQUIRE(db);
  group_committer writer{**db};
  // Fill the map with 40 KB values until one is refused.
  for (int i = 0; i < 100 && !(*db)->full(); ++i) {
    std::promise<write_result> r;
    writer.submit(
      put(**db, "fill" + std::to_string(i), std::string(40000, 'f'), r));
    r.get_future().get();
  }
  REQUIRE((*db)->full());
  // A batch of one too large write and small ones: the small ones go in.
  held_writer hold{writer, **db};
  std::vector<std::promise<write_result>> results(11);
  writer.submit(put(**db, "too-large", std::string(400000, 'x'), results[0]));
  for (int i = 1; i <= 10; ++i)
    writer.submit(put(**db, "s" + std::to_string(i), "small", results[i]));
  hold.release();
  CHECK(hold.held().applied);
  auto refused = results[0].get_future().get();
  CHECK_FALSE(refused.applied);
  CHECK(orca_code(refused.error) == static_cast<uint8_t>(errc::storage_full));
  for (int i = 1; i <= 10; ++i) {
    INFO("small write " << i);
    CHECK(results[i].get_future().get().applied);
    CHECK(read(**db, "s" + std::to_string(i)));
  }
}

TEST_CASE("a data directory is used by one store at a time") {
  temp_dir dir;
  auto first = store::open(dir.file("data"));
  REQUIRE(first);
  auto second = store::open(dir.file("data"));
  REQUIRE_FALSE(second);
  CHECK(orca_code(second.error())
        == static_cast<uint8_t>(errc::directory_in_use));
  CHECK(describe(second.error()).find("is in use by another process")
        != std::string::npos);
  first->reset();
  CHECK(store::open(dir.file("data")));
}

TEST_CASE("a data directory is created with its parents") {
  temp_dir dir;
  CHECK(store::open(dir.file("a/b/c")));
}

TEST_CASE("flow lifecycle writes grow a full map too") {
  temp_dir dir;
  auto db = sized_store(dir, std::size_t{1} << 20, std::size_t{16} << 20);
  REQUIRE(db);
  // Fill the first megabyte without letting it grow.
  for (int i = 0;; ++i) {
    auto txn = (*db)->begin_write();
    REQUIRE(txn);
    auto err = txn->put((*db)->orders, "fill-" + std::to_string(i),
                        std::string(40000, 'f'));
    if (!err)
      err = txn->commit();
    if (err) {
      REQUIRE(orca_code(err) == static_cast<uint8_t>(errc::storage_full));
      break;
    }
  }
  CHECK((*db)->map_size() == std::size_t{1} << 20);
  flow_store flows{**db};
  auto created = flows.create(example("order-to-invoice.json"), "f.json", 1);
  REQUIRE(created);
  CHECK(flows.publish(created->name,
                      {"dom", "fulfillment", "fno", "billing", "notify"}, 2));
  CHECK((*db)->map_size() > std::size_t{1} << 20);
}

namespace {

/// This process's resident pages that are mapped from files, in bytes.
std::size_t resident_file_bytes() {
  std::ifstream status{"/proc/self/status"};
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("RssFile:", 0) == 0)
      return std::stoull(line.substr(8)) * 1024;
  return 0;
}

} // namespace

TEST_CASE("the store's pages leave the resident set and read the same after") {
  temp_dir dir;
  auto db = store::open(dir.path());
  REQUIRE(db);
  group_committer writer{**db};
  for (int i = 0; i < 64; ++i) {
    std::promise<write_result> r;
    writer.submit(put(**db, "k" + std::to_string(i),
                      std::string(1 << 20, 'a' + i % 26), r));
    REQUIRE(r.get_future().get().applied);
  }
  auto read_all = [&] {
    for (int i = 0; i < 64; ++i)
      CHECK(read(**db, "k" + std::to_string(i))
            == std::optional<std::string>{std::string(1 << 20, 'a' + i % 26)});
  };
  read_all(); // every page mapped in
  auto before = resident_file_bytes();
  (*db)->release_mapped_pages();
  auto after = resident_file_bytes();
  INFO("resident file pages: " << before << " -> " << after << " bytes");
  CHECK(before >= std::size_t{64} << 20);
  CHECK(after + (std::size_t{48} << 20) < before);
  read_all();
}

TEST_CASE("a failing store is never the fault of the request that met it") {
  // Intake reports a request at fault as a rejected order (exit 3), and any
  // other failure as an order the node did not take (exit 1).
  CHECK(is_own_fault(make_error(errc::limit_exceeded, "x")));
  CHECK(is_own_fault(make_error(errc::corrupt_record, "x")));
  CHECK(is_own_fault(make_error(errc::invalid_argument, "x")));
  CHECK_FALSE(is_own_fault(make_error(errc::storage_failure, "x")));
  CHECK_FALSE(is_own_fault(make_error(errc::storage_full, "x")));
  CHECK_FALSE(is_own_fault(make_error(errc::transaction_full, "x")));
}
