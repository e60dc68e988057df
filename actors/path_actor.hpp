#pragma once

// The part of journey and branch actors that is the same: an actor that runs
// its path with a path_runner, receives the journey's events, cancels,
// pauses and resumes and passes them on to the branch actors it started,
// calls providers and keeps timers. Subclasses decide what journey-wide
// effects mean (the journey applies them, a branch reports them) and what
// happens after each change.
//
// An actor may run more paths than its own: the taken side of a condition
// goes on only while its condition's path waits for it, so a child actor
// would buy it no concurrency, only messages, and the actor that runs the
// condition's path runs the side too. Of the paths an actor runs, one at
// most is doing anything at a time: the others wait for the side they took
// to end. Timers and answers name the path they are for.

#include <map>
#include <string>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/message_handler.hpp>

#include "actors/journey_protocol.hpp"
#include "actors/path_runner.hpp"
#include "actors/services.hpp"

namespace orca {

/// Which journey a path belongs to; the base of idempotency keys.
struct journey_identity {
  std::string order_id;
  std::string flow;
  uint32_t version = 0;
  uint32_t run = 0;

  /// `order/flow/version/step`, plus `/rN` after the Nth redrive.
  std::string idempotency_key(const std::string& step) const;
};

/// How a path actor starts.
struct path_context {
  services_ptr services;
  flow_ptr model;
  order_ptr the_order;
  flow_clock_ptr flow_time; ///< the flow's own time, for deadlines
  journey_identity identity;
  caf::actor journey;      ///< the journey actor, which receives reports
  journey_signals signals; ///< events, cancel and pause heard so far
  /// How many signals (events, cancels, pauses, resumes) the actor that
  /// started this one had taken in when it did: each later one is passed on
  /// to this one too.
  uint64_t heard = 0;
  /// Restored states of descendant paths, by sequence; empty for new ones.
  std::map<sequence_id, path_state> restored;
  /// Fulfillment orders being sent by restored paths, by id.
  std::vector<fulfillment_order> sending;
};

class path_actor : public caf::event_based_actor, protected path_host {
public:
  path_actor(caf::actor_config& cfg, path_context context, path_state path);

  /// Drops the handles to other path actors: journeys and branches refer to
  /// each other, and a cycle of handles would keep them in memory forever.
  void on_exit() override;

protected:
  // -- path_host: the parts every path actor shares ---------------------------
  const flow& model() const override;
  const order& the_order() const override;
  int64_t now() const override;
  int64_t flow_now() const override;
  bool has_event(const std::vector<std::string>& types) const override;
  bool paused() const override;
  bool cancelling() const override;
  uint32_t default_timeout_ms() const override;
  void call_provider(const path_state& p, const step& s,
                     const line_set& lines) override;
  void start_timer(const path_state& p, uint32_t delay_ms) override;
  void start_branches(const path_state& p,
                      std::vector<path_state> children) override;
  const path_state* saved_branch(sequence_id body) const override;
  void restart_branches(const path_state& p,
                        std::vector<const path_state*> saved,
                        std::vector<path_state> fresh) override;

  // -- for subclasses ---------------------------------------------------------

  /// Handlers for what every path actor receives. Subclasses add their own
  /// with `.or_else(...)`.
  caf::message_handler path_handlers();

  /// Called after anything changed the path or journey-wide data.
  virtual void changed() = 0;

  /// The fulfillment orders with ids `ids` (for a call that sends them).
  virtual std::vector<fulfillment_order>
  orders_for(const std::vector<std::string>& ids) const = 0;

  /// Branches were started: subclasses record them.
  virtual void branches_started(const std::vector<path_state>& children) = 0;

  /// An event (new to this journey), pause, resume or cancel arrived; the
  /// journey journals it.
  virtual void control_received(journal_kind, const std::string&) {
  }

  /// An event, pause, resume or cancel was passed on to the children.
  virtual void children_told() {
  }

  /// A timer set with token `save_timer_token` fell due.
  virtual void save_timer_fired() {
  }

  /// The token of a journey's own save timer: beyond any path's tokens,
  /// which are 32 bits.
  static constexpr uint64_t save_timer_token = uint64_t{1} << 63;

  /// Spawns one child path actor, linked to this one.
  caf::actor spawn_child(path_state start);

  /// Quits unrun if the node is stopping (journey_services::stopping), for
  /// make_behavior; true if it did.
  bool quit_if_stopping();

  /// Takes in a signal (journey_signals::take): journals it if it is news,
  /// passes `forward` on to the children, and lets the path act on it.
  void signalled(journal_kind signal, const std::string& type,
                 const caf::message& forward);

  /// Passes an event, cancel, pause or resume on to every child.
  void tell_children(const caf::message& msg);

  /// How many signals this actor has taken in, counted from the journey's
  /// first: a branch that reports as many has acted on all the journey
  /// took in.
  uint64_t heard() const {
    return ctx_.heard + received_;
  }

  path_runner runner() {
    return path_runner{*this, path_};
  }

  /// The path `seq` if this actor runs it (its own, or one of sides_), or
  /// null.
  path_state* hosted(sequence_id seq);

  /// The path a timer or an answer is for (`token` names it above the
  /// path's own token), if it `expects` it still (path_runner::awaits_timer
  /// or awaits_answer).
  path_state* awaiting(uint64_t token,
                       bool (*expects)(const path_state&, uint32_t));

  /// The answer to a provider call of the path and token in `token`.
  void answered(uint64_t token, const provider_reply& reply);

  /// Branch `body` ended: the path whose element it belongs to counts it,
  /// if this actor runs that path.
  void branch_ended(sequence_id body, bool failed);

  // -- the sides of conditions this actor runs --------------------------------
  //
  // Subclasses keep the sides' states with what they keep of the journey:
  // the journey in its book, a branch for its reports.

  /// The state of side `seq`, as keep_side keeps it, or null.
  virtual path_state* side_state(sequence_id seq) = 0;

  /// Keeps `start`, a side this actor runs from now on: just started, or
  /// restored.
  virtual void keep_side(path_state start) = 0;

  /// Side `p.seq` ended, and its condition's path is about to count it:
  /// this actor runs it no more.
  virtual void side_ended(const path_state&) {
  }

  /// Runs the sides that started since, and has the paths whose sides ended
  /// count them, until neither is left to do. Subclasses call it before
  /// they act on a change, as a child actor's report would come after the
  /// step that started it.
  void run_sides();

  /// The sides this actor runs, in the order they started: each is the
  /// taken side of a condition of the one before (or of the actor's own
  /// path).
  std::vector<sequence_id> sides_;

  path_context ctx_;
  path_state path_;
  std::map<sequence_id, caf::actor> children_;
  uint64_t timer_ = 0; ///< the pending timer's id (clock::cancel), or 0
  /// Events, cancels, pauses and resumes received (from the supervisor, for
  /// a journey): the passivation handshake compares it with what was sent.
  uint64_t received_ = 0;

private:
  /// Whether the element path `p` is at is a condition.
  bool at_condition(const path_state& p) const;
  /// Runs side `start.seq` from now on (see run_sides).
  void take_side(path_state start);

  /// Sides just started or restored, to run (see run_sides).
  std::vector<sequence_id> to_run_;
};

} // namespace orca
