#include "persistence/group_commit.hpp"

#include <pthread.h>

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
      batch.swap(queue_);
    }
    commit(batch);
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
  }
}

void group_committer::commit(std::vector<write_request>& batch) {
  std::vector<write_result> results(batch.size());
  auto fail_all = [&](const caf::error& err) {
    for (auto& result : results) {
      result.applied = false;
      result.error = err;
    }
  };
  auto txn = db_.begin_write();
  if (!txn) {
    fail_all(txn.error());
  } else {
    caf::error fatal;
    for (std::size_t i = 0; i < batch.size() && !fatal; ++i) {
      auto& result = results[i];
      result.applied = true;
      for (auto& op : batch[i].ops) {
        switch (op.what) {
          case write_op::kind::put:
            fatal = txn->put(op.db, op.key, op.value);
            break;
          case write_op::kind::put_new: {
            auto added = txn->put_new(op.db, op.key, op.value);
            if (!added)
              fatal = added.error();
            else if (!*added)
              result.key_existed = true;
            break;
          }
          case write_op::kind::erase:
            fatal = txn->del(op.db, op.key);
            break;
          case write_op::kind::modify: {
            auto current = txn->get(op.db, op.key);
            if (!current) {
              fatal = current.error();
              break;
            }
            auto next = op.change(*current);
            if (!next)
              result.error = next.error();
            else if (*next)
              fatal = txn->put(op.db, op.key, **next);
            break;
          }
        }
        if (fatal || result.key_existed || result.error) {
          // A refused guard skips the rest of its request (see REQUIRES).
          result.applied = false;
          break;
        }
      }
    }
    if (fatal)
      fail_all(fatal);
    else if (auto err = txn->commit())
      fail_all(err);
  }
  for (std::size_t i = 0; i < batch.size(); ++i)
    if (batch[i].done)
      batch[i].done(results[i]);
}

} // namespace orca
