#include "persistence/group_commit.hpp"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <iterator>
#include <string_view>
#include <tuple>
#include <unordered_map>

namespace orca {

group_committer::group_committer(store& db) : db_(db) {
  thread_ = std::thread{[this] {
    // Named, so that top -H and profilers tell it from the actor threads.
    pthread_setname_np(pthread_self(), "orca.commit");
    run();
  }};
}

group_committer::~group_committer() {
  {
    std::lock_guard<std::mutex> guard{mutex_};
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void group_committer::submit(write_request request) {
  bool wake = false;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    if (!request.coalesce.empty()) {
      auto hash = std::hash<std::string>{}(request.coalesce);
      auto [at, added] = open_.try_emplace(hash, queue_.size());
      if (!added) {
        auto& queued = queue_[at->second];
        if (queued.coalesce == request.coalesce && merge(queued, request))
          return; // a writer that sleeps was woken by the queued one
        at->second = queue_.size();
      }
    } else if (!open_.empty()) {
      // A write of a coalesce key by another request keeps later saves of
      // that key from going in ahead of it.
      for (const auto& op : request.ops)
        open_.erase(std::hash<std::string>{}(op.key));
    }
    queue_.push_back(std::move(request));
    ++submitted_;
    // Only a sleeping writer needs waking; a busy one takes the queue when
    // its commit is done.
    wake = idle_;
  }
  if (wake)
    wake_.notify_one();
}

void group_committer::flush() {
  std::unique_lock<std::mutex> guard{mutex_};
  auto target = submitted_;
  drained_.wait(guard, [&] { return completed_ >= target; });
}

group_committer::stats group_committer::statistics() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return stats_;
}

void group_committer::run() {
  std::vector<write_request> batch;
  for (;;) {
    {
      std::unique_lock<std::mutex> guard{mutex_};
      idle_ = true;
      wake_.wait(guard, [&] { return stopping_ || !queue_.empty(); });
      idle_ = false;
      if (queue_.empty() && stopping_)
        return;
      take_batch(batch);
    }
    auto began = std::chrono::steady_clock::now();
    commit(batch);
    if (observer_)
      observer_(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - began)
          .count(),
        batch.size());
    {
      std::lock_guard<std::mutex> guard{mutex_};
      completed_ += batch.size();
      stats_.commits += 1;
      stats_.requests += batch.size();
      for (const auto& request : batch)
        stats_.ops += request.ops.size();
    }
    drained_.notify_all();
    batch.clear();
    // Once a second the store's pages leave the resident set, so that it
    // stays the size of what is in use, not of the store.
    auto now = std::chrono::steady_clock::now();
    if (now - released_ >= std::chrono::seconds(1)) {
      db_.release_mapped_pages();
      released_ = now;
    }
  }
}

bool is_own_fault(const caf::error& err) {
  auto code = static_cast<errc>(orca_code(err));
  return code == errc::invalid_argument || code == errc::corrupt_record
    || code == errc::limit_exceeded;
}

namespace {

/// How often a transaction that failed as a whole is tried again, and the
/// pause before the first retry (doubled each time).
constexpr int max_transaction_retries = 5;
constexpr auto first_retry_pause = std::chrono::milliseconds{10};

/// A batch takes at most this many bytes of values from the queue, so that
/// one transaction stays far below LMDB's dirty-page limit.
constexpr std::size_t max_batch_bytes = std::size_t{64} << 20;

bool is_full(const caf::error& err) {
  return orca_code(err) == static_cast<uint8_t>(errc::storage_full);
}

/// The bytes a request asks to write (keys and given values).
std::size_t request_bytes(const write_request& req) {
  std::size_t bytes = 0;
  for (const auto& op : req.ops)
    bytes += op.key.size() + op.value.size();
  return bytes;
}

} // namespace

bool group_committer::merge(write_request& into, write_request& later) {
  auto plain = [](const write_request& r) {
    return std::all_of(r.ops.begin(), r.ops.end(), [](const write_op& op) {
      return op.what == write_op::kind::put;
    });
  };
  if (!plain(into) || !plain(later))
    return false;
  auto n = into.ops.size();
  for (auto& op : later.ops) {
    auto same = std::find_if(
      into.ops.begin(), into.ops.begin() + static_cast<std::ptrdiff_t>(n),
      [&](const write_op& o) {
        return o.db == op.db
          && (op.join != nullptr ? o.join == op.join : o.key == op.key);
      });
    if (same == into.ops.begin() + static_cast<std::ptrdiff_t>(n))
      into.ops.push_back(std::move(op));
    else if (op.join != nullptr)
      op.join(same->value, op.value);
    else
      same->value = std::move(op.value);
  }
  if (later.done) {
    if (into.done)
      into.done = [first = std::move(into.done),
                   then = std::move(later.done)](const write_result& r) {
        first(r);
        then(r);
      };
    else
      into.done = std::move(later.done);
  }
  return true;
}

void group_committer::take_batch(std::vector<write_request>& batch) {
  // What is taken is no longer open to merges; what stays moves.
  open_.clear();
  std::size_t bytes = 0;
  std::size_t n = 0;
  while (n < queue_.size() && (n == 0 || bytes < max_batch_bytes)) {
    for (const auto& op : queue_[n].ops)
      bytes += op.key.size() + op.value.size();
    ++n;
  }
  if (n == queue_.size()) {
    batch.swap(queue_);
    return;
  }
  batch.assign(std::make_move_iterator(queue_.begin()),
               std::make_move_iterator(queue_.begin() + n));
  queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(n));
}

namespace {

/// The plain puts of one attempt, held back to its end so that only the
/// last value of each key is written: a journey saves its snapshot at each
/// step and runs several steps between two commits.
class last_puts {
public:
  /// Room for `ops` puts, so that the index is not rebuilt as it grows.
  explicit last_puts(std::size_t ops) {
    index_.reserve(ops);
    held_.reserve(ops);
  }

  /// Holds `op` (a put) of request `request`, in place of an earlier put
  /// of the same key.
  void hold(std::size_t request, const write_op& op) {
    auto [at, added] = index_.try_emplace({op.db, op.key}, held_.size());
    if (added)
      held_.push_back({request, &op, prefix_of(op.key)});
    else
      held_[at->second] = {request, &op, held_[at->second].prefix};
  }

  /// Writes the held put of (db, key) now, if there is one: another kind
  /// of op on that key must see it. Returns the failed request's index.
  std::optional<std::pair<caf::error, std::size_t>>
  write_now(lmdb_txn& txn, MDB_dbi db, const std::string& key) {
    auto at = index_.find({db, key});
    if (at == index_.end())
      return std::nullopt;
    auto put = held_[at->second];
    held_[at->second].op = nullptr;
    index_.erase(at);
    if (auto err = txn.put(put.op->db, put.op->key, put.op->value))
      return std::make_pair(std::move(err), put.request);
    return std::nullopt;
  }

  /// Writes every held put, in key order (LMDB's pages are then visited
  /// once each, in order).
  std::optional<std::pair<caf::error, std::size_t>> write_all(lmdb_txn& txn) {
    std::vector<held> order;
    order.reserve(held_.size());
    for (const auto& h : held_)
      if (h.op != nullptr)
        order.push_back(h);
    std::sort(order.begin(), order.end(), [](const held& a, const held& b) {
      if (a.op->db != b.op->db)
        return a.op->db < b.op->db;
      if (a.prefix != b.prefix)
        return a.prefix < b.prefix;
      return a.op->key < b.op->key;
    });
    for (const auto& h : order)
      if (auto err = txn.put(h.op->db, h.op->key, h.op->value))
        return std::make_pair(std::move(err), h.request);
    return std::nullopt;
  }

private:
  struct held {
    std::size_t request;
    const write_op* op; ///< null once written
    /// The key's first 8 bytes as a big-endian number (zeros past its
    /// end): keys whose prefixes differ are ordered without memcmp.
    uint64_t prefix;
  };

  static uint64_t prefix_of(std::string_view key) {
    uint64_t prefix = 0;
    for (std::size_t i = 0; i < sizeof(prefix); ++i)
      prefix = (prefix << 8)
        | (i < key.size() ? static_cast<unsigned char>(key[i]) : 0U);
    return prefix;
  }
  using slot = std::pair<MDB_dbi, std::string_view>;
  struct slot_hash {
    std::size_t operator()(const slot& s) const noexcept {
      return std::hash<std::string_view>{}(s.second) ^ s.first;
    }
  };
  std::unordered_map<slot, std::size_t, slot_hash> index_;
  std::vector<held> held_;
};

} // namespace

std::optional<group_committer::attempt_failure>
group_committer::attempt(std::vector<write_request>& batch,
                         std::vector<write_result>& results,
                         const std::vector<bool>& settled) {
  constexpr auto whole = std::string::npos;
  auto txn = db_.begin_write();
  if (!txn)
    return attempt_failure{txn.error(), whole};
  std::size_t ops = 0;
  for (const auto& request : batch)
    ops += request.ops.size();
  last_puts puts{ops};
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (settled[i])
      continue;
    auto& result = results[i];
    result = write_result{};
    result.applied = true;
    caf::error fatal;
    for (auto& op : batch[i].ops) {
      if (op.what == write_op::kind::put) {
        puts.hold(i, op);
        continue;
      }
      if (auto failed = puts.write_now(*txn, op.db, op.key))
        return attempt_failure{std::move(failed->first), failed->second};
      switch (op.what) {
        case write_op::kind::put: break; // held above
        case write_op::kind::put_new: {
          auto added = txn->put_new(op.db, op.key, op.value);
          if (!added)
            fatal = added.error();
          else if (!*added)
            result.key_existed = true;
          break;
        }
        case write_op::kind::erase: fatal = txn->del(op.db, op.key); break;
        case write_op::kind::modify: {
          caf::error refused;
          fatal = txn->modify(op.db, op.key, op.change, refused);
          if (!fatal && refused)
            result.error = std::move(refused);
          break;
        }
      }
      if (fatal)
        return attempt_failure{std::move(fatal), i};
      if (result.key_existed || result.error) {
        // A refused guard skips the rest of its request (see REQUIRES).
        result.applied = false;
        break;
      }
    }
  }
  if (auto failed = puts.write_all(*txn))
    return attempt_failure{std::move(failed->first), failed->second};
  if (auto err = txn->commit())
    return attempt_failure{std::move(err), whole};
  return std::nullopt;
}

void group_committer::took(std::size_t bytes) {
  if (refused_bytes_ > 0 && bytes >= refused_bytes_)
    took_room();
}

void group_committer::took_room() {
  refused_bytes_ = 0;
  db_.set_full(false);
}

void group_committer::commit_alone(std::vector<write_request>& batch,
                                   std::vector<write_result>& results,
                                   std::vector<bool>& settled,
                                   const caf::error& why) {
  std::vector<bool> others(batch.size(), true);
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (settled[i])
      continue;
    others[i] = false;
    auto failure = attempt(batch, results, others);
    others[i] = true;
    settled[i] = true;
    auto bytes = request_bytes(batch[i]);
    if (!failure) {
      took(bytes);
      continue;
    }
    results[i] = write_result{};
    if (is_full(failure->error)) {
      results[i].error = is_full(why) ? why : failure->error;
      refused_bytes_ =
        refused_bytes_ == 0 ? bytes : std::min(refused_bytes_, bytes);
      db_.set_full(true);
    } else {
      results[i].error = std::move(failure->error);
    }
  }
}

void group_committer::commit(std::vector<write_request>& batch) {
  std::vector<write_result> results(batch.size());
  // Requests already given their result: failed alone, or refused.
  std::vector<bool> settled(batch.size(), false);
  auto fail_rest = [&](const caf::error& err) {
    for (std::size_t i = 0; i < batch.size(); ++i)
      if (!settled[i]) {
        results[i] = write_result{};
        results[i].error = err;
      }
  };
  int retries = 0;
  auto pause = first_retry_pause;
  for (;;) {
    auto failure = attempt(batch, results, settled);
    if (!failure) {
      std::size_t largest = 0;
      for (std::size_t i = 0; i < batch.size(); ++i)
        if (!settled[i])
          largest = std::max(largest, request_bytes(batch[i]));
      took(largest);
      break;
    }
    // Nothing of this attempt was committed.
    if (is_full(failure->error)) {
      if (auto err = db_.grow()) {
        // At the maximum: what still fits goes in, request by request.
        commit_alone(batch, results, settled, err);
        break;
      }
      took_room();
      continue;
    }
    if (orca_code(failure->error)
        == static_cast<uint8_t>(errc::transaction_full)) {
      // Too much for one transaction: each request in one of its own.
      commit_alone(batch, results, settled, failure->error);
      break;
    }
    if (failure->culprit != std::string::npos && is_own_fault(failure->error)) {
      // That request's own write cannot be applied: it fails alone.
      auto& culprit = results[failure->culprit];
      culprit = write_result{};
      culprit.error = std::move(failure->error);
      settled[failure->culprit] = true;
      continue;
    }
    if (++retries > max_transaction_retries) {
      // The store keeps failing the group: each request alone gets the
      // answer of its own write.
      if (std::count(settled.begin(), settled.end(), false) > 1)
        commit_alone(batch, results, settled, failure->error);
      else
        fail_rest(failure->error);
      break;
    }
    std::this_thread::sleep_for(pause);
    pause *= 2;
  }
  for (std::size_t i = 0; i < batch.size(); ++i)
    if (batch[i].done) {
      if (!batch[i].coalesce.empty())
        results[i].coalesce = &batch[i].coalesce;
      batch[i].done(results[i]);
    }
}

} // namespace orca
