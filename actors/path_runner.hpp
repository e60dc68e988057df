#pragma once

// The rules of SPEC §2.3 for one path: run the steps of a sequence in order,
// apply filters, wait for input events, call providers with retries and
// time-outs, route conditions, start branches and join them at the merge
// barrier, and end the path as succeeded, failed or cancelled.
//
// path_runner is pure logic over a path_state. Whatever reaches outside the
// path (provider calls, timers, child actors, journey-wide data) goes through
// the path_host interface, which the journey and branch actors implement for
// the paths they run (path_actor.hpp), and replay for a recorded journey. A
// runner is made on the stack for each thing that happens and never
// outlives the call.

#include <optional>
#include <string>
#include <vector>

#include "actors/journey_signals.hpp"
#include "actors/provider_protocol.hpp"
#include "persistence/journal.hpp"
#include "persistence/journey_snapshot.hpp"

namespace orca {

class path_host {
public:
  virtual ~path_host();

  virtual const flow& model() const = 0;
  virtual const order& the_order() const = 0;
  /// Wall time, ms since the Unix epoch: for what the journal records.
  virtual int64_t now() const = 0;
  /// The flow's own time (flow_clock), which stands still while the flow is
  /// paused: deadlines of waits and back-offs are kept in it.
  virtual int64_t flow_now() const = 0;

  /// Whether an event of one of `types` has arrived for the order.
  virtual bool has_event(const std::vector<std::string>& types) const = 0;
  virtual bool paused() const = 0;
  virtual bool cancelling() const = 0;
  /// The time limit of a call attempt whose step sets no timeout_ms.
  virtual uint32_t default_timeout_ms() const = 0;

  virtual void step_ended(step_result result) = 0;

  /// Appends to the journey's journal.
  virtual void journal(journal_entry&& entry) = 0;

  /// The path ends failed; `at_step` is its state at the step that failed
  /// it, kept so that a redrive can start there again.
  virtual void path_failed(const path_state& at_step) = 0;
  virtual void add_fulfillment(std::vector<source_group> groups) = 0;

  /// Claims for path `p` the journey's fulfillment orders that are neither
  /// sent nor claimed and whose lines are all in `scope` (line ids): a
  /// provider sees only the lines in its step's scope. Nothing if the answer
  /// comes later, through on_claimed.
  virtual std::optional<std::vector<fulfillment_order>>
  claim_unsent(const path_state& p, const std::vector<std::string>& scope) = 0;

  /// The claimed fulfillment orders `ids` were sent (true) or are released
  /// unsent (false).
  virtual void fulfillment_done(const std::vector<std::string>& ids,
                                bool sent) = 0;

  virtual void set_invoice(std::string id) = 0;

  /// Sends attempt `p.attempts` of the action `s` for `lines`; the answer
  /// comes back through on_reply with `p.token`.
  virtual void call_provider(const path_state& p, const step& s,
                             const line_set& lines) = 0;

  /// Delivers on_timer(p.token) to path `p` after `delay_ms` (wall time).
  virtual void start_timer(const path_state& p, uint32_t delay_ms) = 0;

  /// Starts one child path per taken branch of the element `p` is at.
  virtual void start_branches(const path_state& p,
                              std::vector<path_state> children) = 0;

  /// The saved state of branch `body`, if the journey being restored has
  /// one (a branch that had not reported before the save has none).
  virtual const path_state* saved_branch(sequence_id body) const = 0;

  /// Starts again the branches of `p`, a path restored while branching:
  /// `saved` from their saved states, `fresh` from their start states.
  virtual void restart_branches(const path_state& p,
                                std::vector<const path_state*> saved,
                                std::vector<path_state> fresh) = 0;
};

class path_runner {
public:
  path_runner(path_host& host, path_state& path) : host_(host), p_(path) {
  }

  /// Runs steps until the path must wait for something or ends.
  void run();

  void on_reply(uint32_t token, const provider_reply& reply);
  void on_timer(uint32_t token);
  void on_claimed(std::vector<fulfillment_order> orders);
  void on_branch_ended(sequence_id body, bool failed);

  /// An event arrived for the order.
  void on_event();

  /// The journey was resumed (pause lifted): a held path goes on, and a
  /// wait or back-off runs again for the time it had left.
  void on_resume();

  /// The journey is being cancelled: a path at a step boundary ends now; one
  /// with a call or claim in flight ends when it comes back.
  void on_cancel();

  /// What a path does on a signal its journey took in (journey_signals):
  /// on_event, on_cancel or on_resume; nothing on a pause, which holds the
  /// path where it next looks (at a step boundary, a timer, a retry).
  void on_signal(journal_kind signal);

  /// The path was restored from a snapshot: restart what it was doing
  /// (timers from their deadlines; an in-flight call is sent again; the
  /// branches it waits for, through the host).
  void on_restore();

  /// The state of a path that starts branch `body` on `lines`.
  static path_state branch_start(sequence_id body, line_set lines);

  /// Waiting for an event, time or a reply: nothing to do until it comes.
  static bool is_idle(const path_state& p);

  /// Whether a timer set at `token` still means something to `p`: a call's
  /// time limit, a back-off or the deadline of a wait (on_timer acts on
  /// nothing else).
  static bool awaits_timer(const path_state& p, uint32_t token);

  /// Whether an answer to the call made at `token` is still awaited by `p`
  /// (on_reply acts on nothing else).
  static bool awaits_answer(const path_state& p, uint32_t token);

private:
  const step& current() const;
  std::size_t sequence_size() const;

  /// The start state of branch `body` of the element the path is at, as
  /// begin_element made it (for a branch restored before it reported).
  path_state fresh_branch(sequence_id body) const;
  bool at_boundary();
  bool begin_action(const step& s);
  bool begin_element(const step& s);
  bool begin_sending(const step& s, std::vector<fulfillment_order> orders);
  void send_attempt(const step& s);
  /// The step's timeout_ms, or the node's default when it sets none.
  uint32_t timeout_of(const step& s) const {
    return s.timeout_ms > 0 ? s.timeout_ms : host_.default_timeout_ms();
  }
  /// The current attempt at `s` failed at its provider, of kind `code`.
  void attempt_failed(const step& s, errc code, std::string error);
  /// A line the answer to step `s` names that was not sent to the provider
  /// (SPEC §2.3), if any.
  std::optional<std::string>
  line_out_of_scope(const step& s, const provider_reply& reply) const;
  /// Step `s` ended; `code` is the kind of a provider failure, if any.
  void complete(const step& s, step_outcome outcome, uint32_t attempts,
                std::string error, errc code = errc{});
  /// Journals and reports how step `s` ended.
  void record(const step& s, step_outcome outcome, uint32_t attempts,
              std::string error, errc code = errc{});
  /// Times the path's deadline (flow time): at once if it has passed, by a
  /// timer otherwise; not while the flow is paused (on_resume does it).
  void wait_until(int64_t deadline);
  /// Sets the timer of the path's deadline, unless the flow is paused.
  void arm();
  /// Whether the deadline of a wait or back-off whose timer fired is over;
  /// if not (the flow is paused, or was since), it stays pending.
  bool due();
  void note(journal_kind kind, const step& s, std::string text = {});
  void end(bool failed, bool cancelled);

  path_host& host_;
  path_state& p_;
};

} // namespace orca
