#pragma once

// Group commit: one writer thread takes every write request queued since its
// last commit and applies them all in one LMDB transaction, one fsync. A
// request's callback runs on the writer thread after the commit, so what it
// reports is durable. Thread-safe: submit from anywhere.
//
// Failures stay with their cause: a request whose own write cannot be
// applied fails alone and the others are committed without it; a full map
// grows and the batch is applied again; a commit that fails is tried again a
// few times before its requests fail.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "persistence/lmdb_store.hpp"

namespace orca {

struct write_op {
  enum class kind : uint8_t {
    put,     ///< write value under key
    put_new, ///< write only if key is absent, else skip the whole request
    erase,   ///< delete key
    modify,  ///< value = change(current value), computed inside the txn
  };

  /// Returns the new value, or nothing to leave the key as it is. A modify
  /// that returns an error fails the request (its other ops are skipped).
  using change_fn = lmdb_txn::change_fn;

  /// Makes `into` hold what a put of `into` and then of `later` mean
  /// together, under the first put's key (see write_request::coalesce).
  using join_fn = void (*)(std::string& into, std::string_view later);

  kind what = kind::put;
  MDB_dbi db = 0;
  std::string key;
  std::string value;
  change_fn change;
  join_fn join = nullptr; ///< a put only

  static write_op put(MDB_dbi db, std::string key, std::string value) {
    return {kind::put, db, std::move(key), std::move(value), {}};
  }
  static write_op put_new(MDB_dbi db, std::string key, std::string value) {
    return {kind::put_new, db, std::move(key), std::move(value), {}};
  }
  static write_op erase(MDB_dbi db, std::string key) {
    return {kind::erase, db, std::move(key), {}, {}};
  }
  static write_op modify(MDB_dbi db, std::string key, change_fn f) {
    return {kind::modify, db, std::move(key), {}, std::move(f)};
  }
  /// A put that a later request of the same coalesce key joins with `join`
  /// instead of writing a key of its own.
  static write_op put_joined(MDB_dbi db, std::string key, std::string value,
                             join_fn join) {
    return {kind::put, db, std::move(key), std::move(value), {}, join};
  }
};

/// What happened to one request.
struct write_result {
  bool applied = false;     ///< its ops are committed
  bool key_existed = false; ///< a put_new found its key: nothing applied
  caf::error error; ///< a modify refused, its write failed, or the commit
  /// The request's coalesce key (null if it has none); valid only while the
  /// callback runs. A callback that needs to know whose write it was can
  /// then keep nothing of its own.
  const std::string* coalesce = nullptr;
};

/// Whether a write failed for something of its own request (a key LMDB
/// cannot take, a record a change cannot read, a limit), not of the store
/// or the transaction as a whole: the request is at fault, the others go on.
bool is_own_fault(const caf::error& err);

/// REQUIRES: a request's put_new and modify ops (which may refuse it) come
/// before its other ops, because a refusal skips the ops after it but does
/// not undo those before it.
///
/// A request with a `coalesce` key that finds a request of the same key
/// still queued (not yet taken by a commit) and both of plain puts only, is
/// merged into it instead of queued: a put of a key the queued request
/// puts replaces its value, a put with a `join` is joined into the queued
/// request's put of the same db and join, any other put is added, and the
/// callbacks run in turn. Both would have gone into the same commit, in
/// that order; merged, the commit writes less. A request without a
/// coalesce key that writes a key equal to one closes it: later requests
/// of that key queue behind it. Keys other than the coalesce key that the
/// merged requests write must be theirs alone while they are queued (a
/// journey's own saves: its record, its journal, its outbox records; see
/// journey_store::save).
struct write_request {
  std::vector<write_op> ops;
  std::function<void(const write_result&)> done; ///< may be empty
  std::string coalesce;                          ///< empty: never merged
};

class group_committer {
public:
  struct stats {
    uint64_t commits = 0;
    uint64_t requests = 0;
    uint64_t ops = 0;
  };

  /// REQUIRES: `db` outlives this object.
  explicit group_committer(store& db);

  /// Commits what is queued, runs its callbacks, and stops the thread.
  ~group_committer();

  group_committer(const group_committer&) = delete;
  group_committer& operator=(const group_committer&) = delete;

  void submit(write_request request);

  /// Blocks until everything submitted before the call is committed.
  void flush();

  stats statistics() const;

  /// Calls `f(seconds, requests)` on the writer thread after every commit:
  /// how long the transaction took (sync and callbacks included) and how
  /// many requests it carried. REQUIRES: set before the first submit.
  void observe(std::function<void(double, std::size_t)> f) {
    observer_ = std::move(f);
  }

private:
  /// Why one attempt at a batch did not commit.
  struct attempt_failure {
    caf::error error;
    /// The request whose write failed, or npos for the transaction as a
    /// whole (begin or commit).
    std::size_t culprit;
  };

  void run();
  /// Moves the oldest queued requests, up to max_batch_bytes of values (at
  /// least one request), into `batch`. REQUIRES: mutex_ held.
  void take_batch(std::vector<write_request>& batch);
  /// Merges `later` into queued request `into` if the rules of
  /// write_request::coalesce allow. REQUIRES: mutex_ held.
  static bool merge(write_request& into, write_request& later);
  void commit(std::vector<write_request>& batch);

  /// Applies every request not yet `settled` in one transaction and commits
  /// it; fills `results` of the requests it applied.
  std::optional<attempt_failure> attempt(std::vector<write_request>& batch,
                                         std::vector<write_result>& results,
                                         const std::vector<bool>& settled);

  /// The group cannot go in as one (`why`: the store is full at its
  /// maximum size, the transaction is too large, or the store kept failing
  /// it): commits each request not yet settled in a transaction of its own,
  /// so that what can go in does; each of the others fails with what its
  /// own write met (a full store with `why`, if that says so).
  void commit_alone(std::vector<write_request>& batch,
                    std::vector<write_result>& results,
                    std::vector<bool>& settled, const caf::error& why);

  /// A commit wrote requests of up to `bytes`: the store is no longer full
  /// if that is as much as the smallest request it refused.
  void took(std::size_t bytes);
  /// The store has room again (it grew, or a large enough write went in).
  void took_room();

  store& db_;
  std::function<void(double, std::size_t)> observer_;
  /// The smallest request refused for want of space since the store was
  /// last found to have room (0: none). Used by the commit thread only.
  std::size_t refused_bytes_ = 0;
  /// When the store's pages last left the resident set (commit thread).
  std::chrono::steady_clock::time_point released_ =
    std::chrono::steady_clock::now();
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable drained_;
  std::vector<write_request> queue_;
  /// Where in queue_ the last request of each coalesce key is, by the key's
  /// hash (a request found there with another key is not merged into).
  std::unordered_map<std::size_t, std::size_t> open_;
  uint64_t submitted_ = 0;
  uint64_t completed_ = 0;
  bool stopping_ = false;
  bool idle_ = false; ///< the writer waits for work
  stats stats_;
  std::thread thread_;
};

} // namespace orca
