#pragma once

// Journeys, their orders and their journals in the store: the reads the
// engine needs and the writes that go through the group committer. Knows
// records, not actors. Thread-safe.

#include <functional>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "persistence/group_commit.hpp"
#include "persistence/journal.hpp"
#include "persistence/journey_snapshot.hpp"
#include "persistence/keys.hpp"
#include "persistence/lmdb_store.hpp"

namespace orca {

/// What a journey restarts from: its order, its latest snapshot, and what
/// the order received since that snapshot was taken.
struct restart_point {
  order_ptr the_order;
  journey_snapshot snapshot;
  std::vector<std::string> missed_events;
  bool missed_cancel = false;
};

/// What `order` received that `snapshot` has not seen yet: event types
/// (each once) and whether a cancel.
struct missed_input {
  std::vector<std::string> events;
  bool cancel = false;

  bool empty() const {
    return events.empty() && !cancel;
  }
};

missed_input missed_since(const journey_snapshot& snapshot,
                          const order_record& order);

class journey_store {
public:
  /// REQUIRES: both outlive this object.
  journey_store(store& db, group_committer& writer) : db_(db), writer_(writer) {
  }

  // -- writes -----------------------------------------------------------------

  /// The writes that take a new order, for the caller to put in one
  /// request: the order's record, new (the request reports key_existed
  /// for an order id the store has), and the first snapshot of each of its
  /// journeys.
  std::vector<write_op>
  take_order(const order_record& order,
             const std::vector<journey_snapshot>& firsts) const;

  /// The write that adds an event of `type` to the order's record (a
  /// cancel_order also marks it cancelled); it fails its request with
  /// no_such_order when the store has no such order.
  write_op add_event(const std::string& order_id,
                     const std::string& type) const;

  /// Writes the snapshot and appends `chunk` to the journal (as chunk
  /// `snapshot.journal_chunks - 1`) in one request, whose coalesce key is
  /// the journey's key; `done` (may be empty) gets what the commit did
  /// (see save_error).
  void save(const journey_snapshot& snapshot,
            const std::vector<journal_entry>& chunk,
            std::function<void(const write_result&)> done,
            std::vector<write_op> with = {});

  /// No error if a save was committed, or why it was not.
  static caf::error save_error(const write_result& r);

  /// Moves a journey that has not started a step to another version of its
  /// flow: the record and journal of `from` go and `to` is written, in one
  /// request; `done` as for save.
  void move(const journey_snapshot& from, const journey_snapshot& to,
            std::function<void(const caf::error&)> done);

  /// Marks a journey failed with `reason`, keeping whatever was persisted of
  /// it (a damaged record is replaced by a fresh one that says so). `done`
  /// gets the resulting snapshot if anything changed.
  void mark_failed(const journey_id& id, std::string reason, int64_t now,
                   std::function<void(std::optional<journey_snapshot>)> done);

  // -- reads ------------------------------------------------------------------

  caf::expected<journey_snapshot> load_snapshot(const journey_id& id);
  caf::expected<order_record> load_order(const std::string& order_id);

  caf::expected<restart_point> load_for_restart(const journey_id& id);

  /// Every journey whose key starts with `prefix`, in key order, while `f`
  /// returns true. A damaged record comes as an error, with its id if the
  /// key is readable.
  /// With `from`, the scan begins at the first key not less than it.
  caf::error scan(const std::string& prefix,
                  const std::function<bool(const std::optional<journey_id>&,
                                           caf::expected<journey_snapshot>)>& f,
                  const std::string& from = {});

  /// Reads the order of the journey at hand, in the scan's transaction.
  using order_reader = std::function<caf::expected<order_record>()>;
  using scan_with_orders_fn =
    std::function<bool(const std::optional<journey_id>&,
                       caf::expected<journey_snapshot>, const order_reader&)>;

  /// As scan over every journey, with the journey's order at hand: one read
  /// transaction for both, instead of one more per order (recovery reads
  /// the order of each waiting journey).
  caf::error scan_with_orders(const scan_with_orders_fn& f);

  /// From the journey_states index: the journeys of `flow` (of every flow
  /// if none) in visible state `state` (in any if none), after `after` if
  /// given, at most `limit` of them (0: all), in the journeys' key order
  /// (order id, flow, version).
  caf::expected<std::vector<journey_id>>
  indexed(const std::optional<std::string>& flow,
          std::optional<journey_state> state,
          const std::optional<journey_id>& after, std::size_t limit);

  /// The whole journal of a journey, oldest first.
  caf::expected<std::vector<journal_entry>> journal(const journey_id& id);

  /// Deletes the journals of journeys that ended before `cutoff` (ms), at
  /// most `limit` journeys per call; `done` gets how many it deleted once
  /// that is committed (or an error).
  void expire_journals(int64_t cutoff, std::size_t limit,
                       std::function<void(caf::expected<std::size_t>)> done);

private:
  /// The order record `order_id` from what a read of it found.
  static caf::expected<order_record>
  order_from(caf::expected<std::optional<std::string_view>> bytes,
             const std::string& order_id);

  store& db_;
  group_committer& writer_;
};

} // namespace orca
