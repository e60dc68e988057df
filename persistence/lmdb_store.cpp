#include "persistence/lmdb_store.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "persistence/format.hpp"
#include "persistence/journey_index.hpp"
#include "persistence/keys.hpp"

namespace orca {

namespace {

MDB_val to_val(std::string_view bytes) {
  return MDB_val{bytes.size(), const_cast<char*>(bytes.data())};
}

/// The bytes `v` points at (valid while LMDB keeps them: see lmdb_txn::get).
std::string_view view_of(const MDB_val& v) {
  return {static_cast<const char*>(v.mv_data), v.mv_size};
}

/// The meta database's integers: u32, little-endian.
std::string encode_u32(uint32_t x) {
  std::string result;
  put_le(result, x, 4);
  return result;
}

uint32_t decode_u32(std::string_view bytes) {
  return static_cast<uint32_t>(get_le(bytes, 0, 4));
}

} // namespace

caf::error lmdb_error(const char* call, int rc) {
  // What the code says about whose fault it is: the store's space, the
  // transaction's size, the request's own key or value, or the store.
  auto code = rc == MDB_MAP_FULL ? errc::storage_full
    : rc == MDB_TXN_FULL         ? errc::transaction_full
    : rc == MDB_BAD_VALSIZE      ? errc::invalid_argument
                                 : errc::storage_failure;
  return make_error(code,
                    std::string{"lmdb: "} + call + ": " + mdb_strerror(rc));
}

// -- lmdb_txn -----------------------------------------------------------------

lmdb_txn::~lmdb_txn() {
  if (txn_ != nullptr)
    mdb_txn_abort(txn_);
}

namespace {

/// What a point read found: `v` if `rc` says found, nothing if not there.
caf::expected<std::optional<std::string_view>>
read_result(const char* call, int rc, const MDB_val& v) {
  if (rc == MDB_NOTFOUND)
    return std::optional<std::string_view>{};
  if (rc != MDB_SUCCESS)
    return lmdb_error(call, rc);
  return std::optional<std::string_view>{view_of(v)};
}

} // namespace

caf::expected<std::optional<std::string_view>>
lmdb_txn::get(MDB_dbi db, std::string_view key) {
  MDB_val k = to_val(key);
  MDB_val v{0, nullptr};
  return read_result("mdb_get", mdb_get(txn_, db, &k, &v), v);
}

caf::expected<std::optional<std::string>>
lmdb_txn::indexed_at(MDB_dbi db, std::string_view key) {
  if (index_ == nullptr || db != index_->of)
    return std::optional<std::string>{};
  auto current = get(db, key);
  if (!current)
    return current.error();
  if (!*current)
    return std::optional<std::string>{std::string{}};
  return std::optional<std::string>{index_->key_of(key, **current)};
}

caf::error lmdb_txn::reindex(const std::string& before,
                             const std::string& after) {
  if (before == after)
    return caf::none;
  if (!before.empty())
    if (auto err = del(index_->in, before))
      return err;
  if (!after.empty())
    return put(index_->in, after, {});
  return caf::none;
}

caf::error lmdb_txn::put(MDB_dbi db, std::string_view key,
                         std::string_view value) {
  MDB_val k = to_val(key);
  MDB_val v = to_val(value);
  if (index_ == nullptr || db != index_->of) {
    if (int rc = mdb_put(txn_, db, &k, &v, 0); rc != MDB_SUCCESS)
      return lmdb_error("mdb_put", rc);
    return caf::none;
  }
  // The indexed database: one search finds the old record, whose index
  // entry moves, and the place where the new one goes. A put that must
  // not overwrite inserts a new record at once; for a key that is there,
  // it answers with the old value and leaves the cursor on it.
  if (indexed_ == nullptr)
    if (auto err = open_cursor(db, &indexed_))
      return err;
  MDB_val old = v;
  int rc = mdb_cursor_put(indexed_, &k, &old, MDB_NOOVERWRITE);
  if (rc == MDB_SUCCESS)
    return reindex({}, index_->key_of(key, value));
  if (rc != MDB_KEYEXIST)
    return lmdb_error("mdb_put", rc);
  auto before = index_->key_of(key, view_of(old));
  // MDB_CURRENT replaces the record the cursor is on, without a second
  // search (of a new size, by a delete and an insert in place).
  rc = mdb_cursor_put(indexed_, &k, &v, MDB_CURRENT);
  if (rc != MDB_SUCCESS)
    return lmdb_error("mdb_put", rc);
  return reindex(before, index_->key_of(key, value));
}

caf::expected<bool> lmdb_txn::put_new(MDB_dbi db, std::string_view key,
                                      std::string_view value) {
  MDB_val k = to_val(key);
  MDB_val v = to_val(value);
  int rc = mdb_put(txn_, db, &k, &v, MDB_NOOVERWRITE);
  if (rc == MDB_KEYEXIST)
    return false;
  if (rc != MDB_SUCCESS)
    return lmdb_error("mdb_put", rc);
  if (index_ != nullptr && db == index_->of)
    if (auto err = reindex({}, index_->key_of(key, value)))
      return err;
  return true;
}

caf::error lmdb_txn::del(MDB_dbi db, std::string_view key) {
  auto before = indexed_at(db, key);
  if (!before)
    return before.error();
  MDB_val k = to_val(key);
  int rc = mdb_del(txn_, db, &k, nullptr);
  if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
    return lmdb_error("mdb_del", rc);
  if (*before)
    return reindex(**before, {});
  return caf::none;
}

caf::error lmdb_txn::modify(MDB_dbi db, std::string_view key,
                            const change_fn& change, caf::error& refused) {
  if (index_ != nullptr && db == index_->of) {
    // The indexed database's put finds the old record itself.
    auto current = get(db, key);
    if (!current)
      return current.error();
    auto next = change(*current);
    if (!next) {
      refused = next.error();
      return caf::none;
    }
    return *next ? put(db, key, **next) : caf::none;
  }
  // A cursor left on the key by the read takes the new value there
  // (MDB_CURRENT), without a second search.
  MDB_cursor* cursor = nullptr;
  if (auto err = open_cursor(db, &cursor))
    return err;
  struct closer {
    MDB_cursor* c;
    ~closer() {
      mdb_cursor_close(c);
    }
  } closes{cursor};
  MDB_val k = to_val(key);
  MDB_val found{0, nullptr};
  int rc = mdb_cursor_get(cursor, &k, &found, MDB_SET);
  if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
    return lmdb_error("mdb_cursor_get", rc);
  std::optional<std::string_view> current;
  if (rc == MDB_SUCCESS)
    current = view_of(found);
  auto next = change(current);
  if (!next) {
    refused = next.error();
    return caf::none;
  }
  if (!*next)
    return caf::none;
  MDB_val v = to_val(**next);
  rc = mdb_cursor_put(cursor, &k, &v, current ? MDB_CURRENT : 0);
  if (rc != MDB_SUCCESS)
    return lmdb_error("mdb_put", rc);
  return caf::none;
}

caf::error lmdb_txn::commit() {
  // REQUIRES: the transaction is still open.
  int rc = mdb_txn_commit(txn_);
  txn_ = nullptr; // committed or not, LMDB has freed it
  if (rc != MDB_SUCCESS)
    return lmdb_error("mdb_txn_commit", rc);
  return caf::none;
}

lmdb_txn::ordered_reader::~ordered_reader() {
  if (cursor_ != nullptr)
    mdb_cursor_close(cursor_);
}

caf::expected<std::optional<std::string_view>>
lmdb_txn::ordered_reader::get(std::string_view key) {
  MDB_val k = to_val(key);
  MDB_val v{0, nullptr};
  return read_result("mdb_cursor_get",
                     mdb_cursor_get(cursor_, &k, &v, MDB_SET_KEY), v);
}

caf::expected<lmdb_txn::ordered_reader> lmdb_txn::ordered_reads(MDB_dbi db) {
  MDB_cursor* cursor = nullptr;
  if (auto err = open_cursor(db, &cursor))
    return err;
  return ordered_reader{cursor};
}

caf::error lmdb_txn::open_cursor(MDB_dbi db, MDB_cursor** cursor) {
  if (int rc = mdb_cursor_open(txn_, db, cursor); rc != MDB_SUCCESS)
    return lmdb_error("mdb_cursor_open", rc);
  return caf::none;
}

// -- store --------------------------------------------------------------------

caf::expected<std::unique_ptr<store>> store::open(const std::string& dir,
                                                  options opts) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    return make_error(errc::storage_failure,
                      "cannot create data directory " + dir + ": "
                        + ec.message());
  std::unique_ptr<store> result{new store};
  result->dir_ = dir;
  if (auto err = result->lock_directory())
    return err;
  if (int rc = mdb_env_create(&result->env_); rc != MDB_SUCCESS)
    return lmdb_error("mdb_env_create", rc);
  mdb_env_set_maxdbs(result->env_, format::max_databases);
  result->max_map_size_ = opts.map_size;
  // LMDB takes the data file's size instead where that is larger.
  mdb_env_set_mapsize(result->env_,
                      std::min(opts.initial_map_size, opts.map_size));
  mdb_env_set_maxreaders(result->env_, 256);
  unsigned flags = MDB_NOTLS;
  if (!opts.durable)
    flags |= MDB_NOSYNC;
  if (int rc = mdb_env_open(result->env_, dir.c_str(), flags, 0644);
      rc != MDB_SUCCESS)
    return make_error(errc::storage_failure,
                      "cannot open the store in " + dir + ": "
                        + mdb_strerror(rc));
  auto data_file =
    std::filesystem::canonical(std::filesystem::path{dir} / "data.mdb", ec);
  if (!ec)
    result->data_file_ = " " + data_file.string();
  // Reader slots left by processes that died (a killed node) are freed.
  int dead = 0;
  mdb_reader_check(result->env_, &dead);
  if (auto err = result->open_databases())
    return err;
  if (result->index_missing_)
    if (auto err = result->build_index())
      return err;
  return result;
}

store::~store() {
  if (env_ != nullptr)
    mdb_env_close(env_);
  if (lock_fd_ >= 0)
    ::close(lock_fd_);
}

caf::error store::lock_directory() {
  auto path = dir_ + "/orca.lock";
  lock_fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0)
    return make_error(errc::storage_failure,
                      "cannot open " + path + ": " + std::strerror(errno));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    auto why = errno;
    ::close(lock_fd_);
    lock_fd_ = -1;
    if (why == EWOULDBLOCK)
      return make_error(errc::directory_in_use,
                        "data directory " + dir_
                          + " is in use by another process (it holds " + path
                          + ")");
    return make_error(errc::storage_failure,
                      "cannot lock " + path + ": " + std::strerror(why));
  }
  return caf::none;
}

caf::expected<lmdb_txn> store::begin_read() {
  std::shared_lock<std::shared_mutex> open{resizing_};
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn);
  if (rc == MDB_READERS_FULL) {
    // Slots of dead processes may be what fills the table.
    int dead = 0;
    mdb_reader_check(env_, &dead);
    rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn);
  }
  if (rc != MDB_SUCCESS)
    return lmdb_error("mdb_txn_begin", rc);
  return lmdb_txn{txn, std::move(open), nullptr};
}

caf::expected<lmdb_txn> store::begin_write() {
  std::shared_lock<std::shared_mutex> open{resizing_};
  MDB_txn* txn = nullptr;
  if (int rc = mdb_txn_begin(env_, nullptr, 0, &txn); rc != MDB_SUCCESS)
    return lmdb_error("mdb_txn_begin", rc);
  return lmdb_txn{txn, std::move(open), index_missing_ ? nullptr : &index_};
}

std::size_t store::map_size() const {
  // Not while grow() moves the map: LMDB reads its meta pages from it.
  std::shared_lock<std::shared_mutex> open{resizing_};
  return mapped_size();
}

std::size_t store::mapped_size() const {
  MDB_envinfo info;
  mdb_env_info(env_, &info);
  return info.me_mapsize;
}

void store::release_mapped_pages() {
  // LMDB does not tell where it mapped the data file; the kernel does.
  if (data_file_.empty())
    return;
  std::shared_lock<std::shared_mutex> open{resizing_};
  std::ifstream maps{"/proc/self/maps"};
  std::string line;
  while (std::getline(maps, line)) {
    if (line.size() < data_file_.size()
        || line.compare(line.size() - data_file_.size(), data_file_.size(),
                        data_file_)
          != 0)
      continue;
    auto dash = line.find('-');
    auto space = line.find(' ');
    if (dash == std::string::npos || space == std::string::npos || dash > space)
      continue;
    auto begin = std::stoull(line.substr(0, dash), nullptr, 16);
    auto end =
      std::stoull(line.substr(dash + 1, space - dash - 1), nullptr, 16);
    ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
  }
}

caf::error store::full_error() const {
  return make_error(
    errc::storage_full,
    "storage full: the store in " + dir_ + " reached its maximum size of "
      + std::to_string(max_map_size_) + " bytes (orcad --map-size)");
}

caf::error store::grow() {
  std::unique_lock<std::shared_mutex> alone{resizing_};
  auto current = mapped_size();
  if (current >= max_map_size_)
    return full_error();
  auto next = std::min(max_map_size_, current * 2);
  if (int rc = mdb_env_set_mapsize(env_, next); rc != MDB_SUCCESS)
    return lmdb_error("mdb_env_set_mapsize", rc);
  return caf::none;
}

caf::error store::open_databases() {
  auto txn = begin_write();
  if (!txn)
    return txn.error();
  struct named {
    const char* name;
    MDB_dbi* handle;
  };
  named dbs[] = {
    {format::db_meta, &meta},
    {format::db_flows, &flows},
    {format::db_flow_versions, &flow_versions},
    {format::db_orders, &orders},
    {format::db_journeys, &journeys},
    {format::db_journal, &journal},
    {format::db_provider_calls, &provider_calls},
    {format::db_journal_expiry, &journal_expiry},
    {format::db_policies, &policies},
    {format::db_journey_states, &journey_states},
    {format::db_hook_outbox, &hook_outbox},
  };
  for (auto& db : dbs)
    if (int rc = mdb_dbi_open(txn->native(), db.name, MDB_CREATE, db.handle);
        rc != MDB_SUCCESS)
      return lmdb_error("mdb_dbi_open", rc);
  index_ = {journeys, journey_states, &journey_state_index_key};
  auto stored = txn->get(meta, format::meta_store_format_key);
  if (!stored)
    return stored.error();
  if (!*stored) {
    if (auto err = txn->put(meta, format::meta_store_format_key,
                            encode_u32(format::store_format_version)))
      return err;
  } else {
    if ((*stored)->size() != 4)
      return make_error(errc::corrupt_record,
                        dir_ + ": the store's format record is damaged ("
                          + std::to_string((*stored)->size())
                          + " bytes instead of 4)");
    auto version = decode_u32(**stored);
    if (version > format::store_format_version)
      return make_error(errc::store_too_new,
                        dir_ + ": the store was written by format version "
                          + std::to_string(version)
                          + "; this build of Orca reads versions up to "
                          + std::to_string(format::store_format_version));
    // Older formats lack databases, which are created above, and the
    // index, which is built next; then the store is of the current format
    // (and older builds refuse it).
    // Format 3 brought the index; format 4 only a database, created above.
    index_missing_ = version < 3;
    if (!index_missing_ && version < format::store_format_version)
      if (auto err = txn->put(meta, format::meta_store_format_key,
                              encode_u32(format::store_format_version)))
        return err;
  }
  return txn->commit();
}

caf::error store::build_index() {
  // An earlier attempt may have stopped half-way, and an older build may
  // have written journeys since: the index starts empty.
  {
    auto txn = begin_write();
    if (!txn)
      return txn.error();
    if (int rc = mdb_drop(txn->native(), journey_states, 0); rc != MDB_SUCCESS)
      return lmdb_error("mdb_drop", rc);
    if (auto err = txn->commit())
      return err;
  }
  // Bounded transactions: a large store would not fit one's dirty pages.
  constexpr std::size_t per_txn = 100000;
  std::string next; // the first journey not indexed yet ("": the first)
  for (bool done = false; !done;) {
    // Runs again after the map grew, so it changes nothing outside.
    auto last = write([&](lmdb_txn& txn) -> caf::expected<std::string> {
      std::vector<std::string> keys;
      std::string stopped_at;
      std::size_t seen = 0;
      auto scanned = txn.scan_from(
        journeys, "", next, [&](std::string_view key, std::string_view value) {
          if (seen++ == per_txn) {
            stopped_at = std::string{key};
            return false;
          }
          if (auto at = index_.key_of(key, value); !at.empty())
            keys.push_back(std::move(at));
          return true;
        });
      if (scanned)
        return scanned;
      // Written after the scan: a write would move the cursor's pages.
      for (const auto& key : keys)
        if (auto e = txn.put(journey_states, key, {}))
          return e;
      if (stopped_at.empty())
        if (auto e = txn.put(meta, format::meta_store_format_key,
                             encode_u32(format::store_format_version)))
          return e;
      return stopped_at;
    });
    if (!last)
      return last.error();
    done = last->empty();
    next = std::move(*last);
  }
  index_missing_ = false;
  return caf::none;
}

} // namespace orca
