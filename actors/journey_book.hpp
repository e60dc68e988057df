#pragma once

// What one journey knows of itself beyond its own path, and the rules that
// decide its course from its paths (SPEC §2.3): step results, fulfillment
// orders and which path claimed them, the invoice, the branches as they last
// stood, and the Boost.MSM lifecycle that says the journey's state.
//
// The live journey actor and replay keep their books with this one class,
// so that a replay reaches its states by the same moves as the run it
// replays. The journey's own path is not in the book: each keeps it where
// its path_runner works on it, and passes it in where a rule needs it.

#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/journey_lifecycle.hpp"
#include "flows/policies.hpp"
#include "persistence/journey_snapshot.hpp"

namespace orca {

class journey_book {
public:
  /// A book for `model` from `snap`; its first path, the journey's own, is
  /// kept aside for take_top().
  journey_book(const flow& model, journey_snapshot snap);

  /// The journey's own path as the snapshot had it (once).
  path_state take_top() {
    return std::move(top_at_start_);
  }

  const journey_snapshot& snapshot() const {
    return snap_;
  }

  journey_state state() const {
    return snap_.state;
  }

  /// Branches, live or ended but not yet counted by their merge, by sequence.
  const std::map<sequence_id, path_state>& branches() const {
    return branches_;
  }

  /// Branch `seq`, or null if the book does not have it.
  path_state* branch(sequence_id seq);

  // -- what paths do to the journey -----------------------------------------

  void step_ended(step_result result);

  /// A path failed; `at_step` is how it stood at the step (for redrive).
  void path_failed(const path_state& at_step);

  /// Adds one fulfillment order per group: `<order id>-FO<n>`, n from 1.
  void add_fulfillment(std::vector<source_group> groups);

  /// Claims for the path `seq` the fulfillment orders neither sent nor
  /// claimed whose lines are all in `scope`.
  std::vector<fulfillment_order> claim(sequence_id seq,
                                       const std::vector<std::string>& scope);

  /// Claimed orders `ids` were sent (true) or are given back unsent.
  void fulfillment_done(const std::vector<std::string>& ids, bool sent);

  void set_invoice(std::string id);

  /// The fulfillment orders whose ids are in `ids`.
  std::vector<fulfillment_order>
  orders(const std::vector<std::string>& ids) const;

  /// A branch started; false if the book has it already (it reported
  /// before its parent did), which keeps what it said.
  bool add_branch(path_state start);

  /// Branch `p.seq` stands as `p` now.
  void branch_moved(path_state p);

  // -- the journey's course ---------------------------------------------------

  /// The journey begins: received -> running, or paused if its flow is.
  void begin(bool paused);

  /// Whether the journey has begun any step (SPEC §2.4: one that has not
  /// starts on the latest version when its flow resumes).
  bool started(const path_state& top) const;

  /// When the journey may sleep until while it waits (see sleep_until).
  std::optional<int64_t> wake_at(const path_state& top,
                                 const std::vector<std::string>& events) const;

  enum class settled {
    nothing_new, ///< the journey was terminal already
    same_state,
    new_state,
  };

  /// After any change: drops the branches their merge has counted, and
  /// moves the lifecycle to where the paths are. A path cut short by a
  /// cancel makes the journey cancelled once its own path ends.
  settled settle(const path_state& top, bool paused);

  // -- saving -----------------------------------------------------------------

  /// The snapshot with its paths (the journey's own first), as a journey
  /// keeps them: all while it is live or failed (a redrive goes on from
  /// them), none once it ended otherwise. Valid until drop_paths().
  journey_snapshot& with_paths(const path_state& top);
  void drop_paths();

  /// For what the book does not decide: times, events, the journal count.
  journey_snapshot& snapshot() {
    return snap_;
  }

private:
  template <class F>
  void for_each_path(const path_state& top, F f) const {
    f(top);
    for (const auto& kv : branches_)
      f(kv.second);
  }

  /// The path that runs the element whose branch `seq` is.
  const path_state* parent_of(const path_state& top, sequence_id seq) const;
  void forget_joined_branches(const path_state& top);
  /// Fires `e`, leaving received first.
  void to(lifecycle_event e);
  void finish(const path_state& top);

  const flow* model_;
  journey_snapshot snap_;
  path_state top_at_start_;
  journey_lifecycle lifecycle_;
  std::map<sequence_id, path_state> branches_;
  std::unordered_map<std::string, sequence_id> claims_;
};

} // namespace orca
