#pragma once

// The LMDB environment in a data directory, with Orca's named databases, and
// RAII transactions over it. One `store` per directory per process; it may
// be used from any thread (read transactions are not bound to threads, write
// transactions are serialised by LMDB and must be committed on the thread
// that began them).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <type_traits>

#include <lmdb.h>

#include "flows/errc.hpp"

namespace orca {

/// A storage error from an LMDB return code, naming the call. MDB_MAP_FULL
/// becomes errc::storage_full, everything else errc::storage_failure.
caf::error lmdb_error(const char* call, int rc);

/// A database kept in step with another by every write through lmdb_txn:
/// for each record of `of`, `in` holds the key `key_of(key, value)` with an
/// empty value (none where key_of gives "": a record it cannot read).
struct secondary_index {
  MDB_dbi of = 0;
  MDB_dbi in = 0;
  std::string (*key_of)(std::string_view key, std::string_view value) = nullptr;
};

class lmdb_txn {
public:
  lmdb_txn(lmdb_txn&& other) noexcept
      : txn_(other.txn_), open_(std::move(other.open_)), index_(other.index_),
        indexed_(other.indexed_) {
    other.txn_ = nullptr;
    other.indexed_ = nullptr;
  }
  lmdb_txn& operator=(lmdb_txn&&) = delete;
  lmdb_txn(const lmdb_txn&) = delete;
  ~lmdb_txn();

  /// The value under `key`, nothing if there is none. The view stays valid
  /// until the transaction ends or writes to the database.
  caf::expected<std::optional<std::string_view>> get(MDB_dbi db,
                                                     std::string_view key);

  /// Point reads of one database through one cursor, for keys asked for in
  /// ascending order: LMDB then finds most of them on the page of the last
  /// one instead of searching down from the root. Lives within its
  /// transaction.
  class ordered_reader {
  public:
    ordered_reader(ordered_reader&& other) noexcept : cursor_(other.cursor_) {
      other.cursor_ = nullptr;
    }
    ordered_reader& operator=(ordered_reader&&) = delete;
    ordered_reader(const ordered_reader&) = delete;
    ~ordered_reader();

    /// As lmdb_txn::get.
    caf::expected<std::optional<std::string_view>> get(std::string_view key);

  private:
    friend class lmdb_txn;
    explicit ordered_reader(MDB_cursor* cursor) : cursor_(cursor) {
    }
    MDB_cursor* cursor_;
  };

  caf::expected<ordered_reader> ordered_reads(MDB_dbi db);

  /// Writes also keep the store's secondary index in step.
  caf::error put(MDB_dbi db, std::string_view key, std::string_view value);

  /// Puts only if `key` is absent; returns false (and writes nothing) if it
  /// was there.
  caf::expected<bool> put_new(MDB_dbi db, std::string_view key,
                              std::string_view value);

  /// Deletes `key`; deleting an absent key is not an error.
  caf::error del(MDB_dbi db, std::string_view key);

  /// Makes a new value of the one under `key` (nothing if there is none),
  /// or returns nothing to leave it, or an error to refuse.
  using change_fn = std::function<caf::expected<std::optional<std::string>>(
    std::optional<std::string_view> current)>;

  /// Writes what `change` makes of the value under `key`, finding the key
  /// once. A refusal of `change` is put in `refused`, and nothing is
  /// written; the result is a failure of the store.
  caf::error modify(MDB_dbi db, std::string_view key, const change_fn& change,
                    caf::error& refused);

  /// Calls `f(key, value)` for every entry whose key starts with `prefix`, in
  /// key order, while `f` returns true.
  template <class F>
  caf::error scan(MDB_dbi db, std::string_view prefix, F&& f) {
    return scan_from(db, prefix, prefix, std::forward<F>(f));
  }

  /// As scan, from the first key not less than `from`.
  template <class F>
  caf::error scan_from(MDB_dbi db, std::string_view prefix,
                       std::string_view from, F&& f);

  caf::error commit();

  MDB_txn* native() const noexcept {
    return txn_;
  }

private:
  friend class store;
  lmdb_txn(MDB_txn* txn, std::shared_lock<std::shared_mutex> open,
           const secondary_index* index)
      : txn_(txn), open_(std::move(open)), index_(index) {
  }

  caf::error open_cursor(MDB_dbi db, MDB_cursor** cursor);

  /// Where `key` of `db` is in the index now ("": nowhere); nothing if
  /// `db` is not the indexed database.
  caf::expected<std::optional<std::string>> indexed_at(MDB_dbi db,
                                                       std::string_view key);
  /// Moves an index entry from `before` to `after` ("" for none).
  caf::error reindex(const std::string& before, const std::string& after);

  MDB_txn* txn_;
  /// Held while the transaction is open, so that the map is never resized
  /// under it.
  std::shared_lock<std::shared_mutex> open_;
  /// The store's index, kept by a write transaction; null in a read one.
  const secondary_index* index_;
  /// A cursor on the indexed database for put, opened at its first use;
  /// LMDB closes a write transaction's cursors when it ends.
  MDB_cursor* indexed_ = nullptr;
};

class store {
public:
  struct options {
    /// Upper bound of the data file. The map starts smaller and grows by
    /// doubling when a write finds it full, up to this size; past it, writes
    /// fail with errc::storage_full.
    std::size_t map_size = std::size_t{64} << 30;
    /// Where the map starts (or the data file's size, if that is larger).
    std::size_t initial_map_size = std::size_t{64} << 20;
    /// false: commits skip fsync (MDB_NOSYNC), for benchmarks only.
    bool durable = true;
  };

  /// Opens (creating if absent) the store in directory `dir`. Refuses a store
  /// written by a newer format version.
  static caf::expected<std::unique_ptr<store>> open(const std::string& dir,
                                                    options opts);
  static caf::expected<std::unique_ptr<store>> open(const std::string& dir) {
    return open(dir, options{});
  }

  ~store();
  store(const store&) = delete;
  store& operator=(const store&) = delete;

  caf::expected<lmdb_txn> begin_read();
  caf::expected<lmdb_txn> begin_write();

  /// Runs `f(txn)` (returning caf::expected<T>) in a write transaction and
  /// commits it. Where a write finds the map full, the transaction is
  /// dropped, the map grows and `f` runs again; any other error is returned.
  /// REQUIRES: the calling thread holds no transaction.
  template <class F>
  auto write(F&& f) -> std::invoke_result_t<F&, lmdb_txn&>;

  /// Doubles the map, up to the maximum; waits until no transaction of this
  /// process is open. Returns errc::storage_full at the maximum.
  /// REQUIRES: the calling thread holds no transaction.
  caf::error grow();

  /// Takes the store's pages out of this process's resident set. They stay
  /// in the kernel's page cache, and the next read maps them again: the
  /// map is read-only and shared, so nothing is lost, and a reader holding
  /// a value meanwhile still reads the same bytes. Without it the resident
  /// set grows to the size of the store (every page a write passed through
  /// stays mapped).
  void release_mapped_pages();

  /// The map's size now (from any thread, growing or not) and the most
  /// it may grow to.
  std::size_t map_size() const;
  std::size_t max_map_size() const noexcept {
    return max_map_size_;
  }

  /// Whether a write was refused because the store is full at its maximum
  /// size, and nothing as large was written since (the group committer
  /// keeps this).
  bool full() const noexcept {
    return full_.load();
  }
  void set_full(bool full) noexcept {
    full_.store(full);
  }
  /// The error a write gets from a store full at its maximum size.
  caf::error full_error() const;

  /// Whether a full store should take one more write to find out if it has
  /// room again (space freed inside the map): at most once a second.
  bool probe_room() noexcept {
    auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::steady_clock::now().time_since_epoch())
                 .count();
    auto last = last_probe_ms_.load();
    return now - last >= 1000
      && last_probe_ms_.compare_exchange_strong(last, now);
  }

  const std::string& dir() const noexcept {
    return dir_;
  }

  MDB_env* env() const noexcept {
    return env_;
  }

  MDB_dbi meta = 0;
  MDB_dbi flows = 0;
  MDB_dbi flow_versions = 0;
  MDB_dbi orders = 0;
  MDB_dbi journeys = 0;
  MDB_dbi journal = 0;
  MDB_dbi provider_calls = 0;
  MDB_dbi journal_expiry = 0;
  MDB_dbi policies = 0;
  /// Journeys by flow and state, kept by every write to `journeys`.
  MDB_dbi journey_states = 0;
  /// SPEC §9's durable outbox: HOOK 0x00 SEQUENCE -> hook delivery.
  MDB_dbi hook_outbox = 0;

private:
  store() = default;
  caf::error open_databases();
  /// Fills the index from the journeys a store of an older format holds,
  /// in transactions of bounded size, then marks the store current.
  caf::error build_index();

  caf::error lock_directory();

  std::string dir_;
  /// " /abs/path/data.mdb" as /proc/self/maps names the data file.
  std::string data_file_;
  MDB_env* env_ = nullptr;
  /// The lock file held for this store's life: one process per directory.
  int lock_fd_ = -1;
  /// map_size() for a caller that holds resizing_.
  std::size_t mapped_size() const;

  std::size_t max_map_size_ = 0;
  /// Shared by every open transaction, exclusive while the map grows.
  mutable std::shared_mutex resizing_;
  std::atomic<bool> full_{false};
  std::atomic<int64_t> last_probe_ms_{0};
  secondary_index index_;
  /// The index must be built before the store is used (an older format).
  bool index_missing_ = false;
};

// -- template implementation --------------------------------------------------

template <class F>
auto store::write(F&& f) -> std::invoke_result_t<F&, lmdb_txn&> {
  for (;;) {
    caf::error failure;
    {
      auto txn = begin_write();
      if (!txn)
        return txn.error();
      auto result = f(*txn);
      if (!result)
        failure = result.error();
      else if (auto err = txn->commit())
        failure = std::move(err);
      else
        return result;
    } // the transaction is closed before the map may grow
    if (orca_code(failure) != static_cast<uint8_t>(errc::storage_full))
      return failure;
    if (auto err = grow())
      return err;
  }
}

template <class F>
caf::error lmdb_txn::scan_from(MDB_dbi db, std::string_view prefix,
                               std::string_view from, F&& f) {
  MDB_cursor* cursor = nullptr;
  if (auto err = open_cursor(db, &cursor))
    return err;
  auto start = std::max(prefix, from);
  MDB_val key{start.size(), const_cast<char*>(start.data())};
  MDB_val value{0, nullptr};
  // LMDB has no empty keys: an empty start is the first entry.
  int rc = mdb_cursor_get(cursor, &key, &value,
                          start.empty() ? MDB_FIRST : MDB_SET_RANGE);
  while (rc == MDB_SUCCESS) {
    std::string_view k{static_cast<const char*>(key.mv_data), key.mv_size};
    if (k.substr(0, prefix.size()) != prefix)
      break;
    std::string_view v{static_cast<const char*>(value.mv_data), value.mv_size};
    if (!f(k, v))
      break;
    rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT);
  }
  mdb_cursor_close(cursor);
  if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
    return lmdb_error("mdb_cursor_get", rc);
  return caf::none;
}

} // namespace orca
