#include "actors/journey.hpp"

#include <set>

#include <caf/all.hpp>

#include "actors/journey_book.hpp"
#include "actors/supervisor.hpp"

namespace orca {

namespace {

class journey_actor final : public path_actor {
public:
  journey_actor(caf::actor_config& cfg, path_context context,
                journey_snapshot snapshot, caf::actor supervisor)
      : path_actor(cfg, std::move(context), path_state{}),
        book_(*ctx_.model, std::move(snapshot)),
        supervisor_(std::move(supervisor)) {
    path_ = book_.take_top();
    // Room for what a journey of a few steps writes between two saves, so
    // that the list is not moved as it grows.
    pending_journal_.reserve(journal_room);
  }

  const char* name() const override {
    return "orca.journey";
  }

  void on_exit() override {
    ctx_.services->time->cancel(save_timer_);
    save_timer_ = 0;
    supervisor_ = nullptr;
    path_actor::on_exit();
  }

  caf::behavior make_behavior() override {
    if (quit_if_stopping())
      return {};
    ctx_.journey = caf::actor_cast<caf::actor>(this);
    caf::behavior behavior = path_handlers().or_else(
      [this](path_report& report) {
        auto seq = report.state.seq;
        auto failed = report.state.failed;
        auto ended = report.done;
        apply(report);
        if (ended) {
          // As branch_done would have it (see path_actor::path_handlers).
          children_.erase(seq);
          branch_ended(seq, failed);
        }
        changed();
      },
      [this](claim_atom, path_report& report,
             const std::vector<std::string>& scope, sequence_id claimant) {
        apply(report);
        auto orders = book_.claim(claimant, scope);
        changed();
        return orders;
      },
      [this](saved_waiting_atom, uint64_t change) { try_passivate(change); },
      [this](save_now_atom) {
        save_queued_ = false;
        if (unsaved_)
          save_or_defer(book_.state(), true);
      },
      [this](resume_atom, uint32_t latest, const caf::actor& home) {
        ++received_;
        if (latest > book_.snapshot().version && !book_.started(path_))
          move_to(latest, home);
        else
          signalled(journal_kind::unpaused, {},
                    caf::make_message(resume_atom::value));
      },
      [this](save_failed_atom, const std::string& why) {
        ++received_; // when it came through the supervisor, it counted it
        // Going on would act on a state the store does not have: the
        // journey stops, and its failure is its last write (queued after
        // every save it made), over the last state that was saved.
        const auto& snap = book_.snapshot();
        ctx_.services->sink->journey_failed(
          snap.order_id, snap.flow, snap.version,
          "its state could not be saved: " + why);
        stop_all();
      });
    auto state = book_.state();
    if (is_terminal(state)) {
      quit();
      return behavior;
    }
    journal_entry first;
    first.kind = state == journey_state::received ? journal_kind::started
                                                  : journal_kind::resumed;
    first.at = now();
    first.state = state;
    // Where the flow's time stands: a replay keeps to it, though pauses may
    // have come and gone while the journey was in the store.
    first.ok = ctx_.signals.paused;
    first.text = std::to_string(flow_now());
    journal(std::move(first));
    if (state == journey_state::received)
      book_.begin(ctx_.signals.paused);
    // Restored branches get their own and their descendants' states.
    for (const auto& kv : book_.branches())
      unreported_.insert(kv.first);
    ctx_.restored = book_.branches();
    ctx_.sending = book_.snapshot().fulfillment_orders;
    runner().on_restore();
    run_sides();
    ctx_.restored.clear();
    ctx_.sending.clear();
    changed();
    return behavior;
  }

protected:
  // -- journey-wide effects: applied here -------------------------------------

  void step_ended(step_result result) override {
    observe(result);
    book_.step_ended(std::move(result));
  }

  void journal(journal_entry&& entry) override {
    pending_journal_.push_back(std::move(entry));
  }

  void path_failed(const path_state& at_step) override {
    book_.path_failed(at_step);
  }

  void control_received(journal_kind kind, const std::string& text) override {
    journal_entry e;
    e.kind = kind;
    e.at = now();
    e.text = text;
    journal(std::move(e));
  }

  void children_told() override {
    // Every live branch actor will answer with a report: until then what
    // the journey knows of them may be out of date. (It runs the sides of
    // its conditions itself.)
    for (const auto& kv : book_.branches())
      if (kv.second.phase != path_phase::ended && hosted(kv.first) == nullptr)
        unreported_.insert(kv.first);
  }

  void add_fulfillment(std::vector<source_group> groups) override {
    book_.add_fulfillment(std::move(groups));
  }

  std::optional<std::vector<fulfillment_order>>
  claim_unsent(const path_state& p,
               const std::vector<std::string>& scope) override {
    return book_.claim(p.seq, scope);
  }

  void fulfillment_done(const std::vector<std::string>& ids,
                        bool sent) override {
    book_.fulfillment_done(ids, sent);
  }

  void set_invoice(std::string id) override {
    book_.set_invoice(std::move(id));
  }

  std::vector<fulfillment_order>
  orders_for(const std::vector<std::string>& ids) const override {
    return book_.orders(ids);
  }

  void branches_started(const std::vector<path_state>& children) override {
    for (const auto& child : children) {
      book_.add_branch(child);
      unreported_.insert(child.seq);
    }
  }

  // The sides of the journey's conditions are in the book, where the
  // branches' states are.
  path_state* side_state(sequence_id seq) override {
    return book_.branch(seq);
  }

  void keep_side(path_state start) override {
    auto seq = start.seq;
    // A restored side is in the book already, which keeps it as it is.
    book_.add_branch(std::move(start));
    unreported_.erase(seq);
  }

  void changed() override {
    run_sides();
    auto settled = book_.settle(path_, paused());
    if (settled == journey_book::settled::nothing_new)
      return;
    auto state = book_.state();
    // The supervisor counts the journeys a pause holds.
    if ((state == journey_state::paused) != told_held_) {
      told_held_ = !told_held_;
      send(supervisor_, held_atom::value, told_held_);
    }
    if (settled == journey_book::settled::new_state) {
      journal_entry e;
      e.kind = journal_kind::state_changed;
      e.at = now();
      e.state = state;
      journal(std::move(e));
    }
    ++changes_;
    save_or_defer(state);
  }

  void save_timer_fired() override {
    save_timer_ = 0;
    if (unsaved_)
      persist(book_.state());
  }

private:
  /// Saves the journey in `state` now, or once a while from now when
  /// nobody wants to see each change as it was (see
  /// journey_sink::watches_every_change): after the messages already
  /// waiting for it (`burst_over`: those have been handled), or, while it
  /// runs, when it next waits, pauses or ends, or its save delay is up.
  /// An end is saved at once.
  void save_or_defer(journey_state state, bool burst_over = false) {
    if (is_terminal(state)
        || ctx_.services->sink->watches_every_change(ctx_.model->name)) {
      persist(state);
      return;
    }
    auto delay = ctx_.services->save_delay_ms;
    if (state == journey_state::running && delay > 0) {
      unsaved_ = true;
      if (save_timer_ == 0)
        save_timer_ = ctx_.services->time->schedule(
          delay, caf::actor_cast<caf::actor>(this), save_timer_token);
      return;
    }
    if (!burst_over && !mailbox().empty()) {
      unsaved_ = true;
      if (!save_queued_) {
        save_queued_ = true;
        send(this, save_now_atom::value);
      }
      return;
    }
    persist(state);
  }

  /// Saves the journey as it is now (`state`), and ends it if that is an
  /// end.
  void persist(journey_state state) {
    unsaved_ = false;
    // Once a waiting snapshot is durable, the journey may leave memory.
    bool passivate =
      state == journey_state::waiting && ctx_.services->passivate_waiting;
    // Only a waiting snapshot needs an answer; a failure of any other
    // comes through the supervisor (see journey_sink::save), so that most
    // saves hold no handle of this actor until they are committed. The
    // answer holds a weak one: a journey that has ended meanwhile (its
    // event came first) needs no answer, and is not left for the commit
    // thread to destroy.
    std::function<void(const caf::error&)> on_saved;
    if (passivate)
      on_saved = [self = caf::actor_cast<caf::weak_actor_ptr>(this),
                  change = changes_](const caf::error& err) {
        auto strong = self.lock();
        if (!strong)
          return;
        auto journey = caf::actor_cast<caf::actor>(std::move(strong));
        if (err)
          caf::anon_send(journey, save_failed_atom::value, describe(err));
        else
          caf::anon_send(journey, saved_waiting_atom::value, change);
      };
    save(std::move(on_saved));
    if (is_terminal(state))
      stop_all();
  }

  /// Hands the journey, as new, to version `latest` of its flow and quits.
  /// What the order receives meanwhile is in the order's record, which the
  /// new journey reads when `home` loads it.
  void move_to(uint32_t latest, const caf::actor& home) {
    const auto& snap = book_.snapshot();
    auto next = moved_to_version(snap, latest, the_order(), now());
    next.events = ctx_.signals.events; // what it holds now, saved or not
    next.cancel_requested = ctx_.signals.cancelling;
    auto* sink = ctx_.services->sink;
    sink->move(snap, next,
               [sink, home, id = snap.order_id, flow = snap.flow,
                version = snap.version, latest](const caf::error& err) {
                 if (!err)
                   caf::anon_send(home, move_in_atom::value, id);
                 else
                   sink->journey_failed(id, flow, version,
                                        "cannot move it to version "
                                          + std::to_string(latest) + ": "
                                          + describe(err));
               });
    stop_all();
  }

  void stop_all() {
    for (const auto& kv : children_)
      send_exit(kv.second, caf::exit_reason::user_shutdown);
    quit();
  }

  /// Leaves memory if nothing happened since the waiting snapshot `change`
  /// became durable and the supervisor has sent nothing still in flight.
  /// While it asks, the journey handles nothing else: a timer that fires
  /// meanwhile is dropped, and its deadline wakes the journey from the store.
  void try_passivate(uint64_t change) {
    if (change != changes_ || book_.state() != journey_state::waiting)
      return;
    // Every branch must have told its state since it started: a restored
    // branch may be about to find that its event came or its wait is over.
    // (One its merge has counted, gone from the book, has nothing to tell.)
    for (auto it = unreported_.begin(); it != unreported_.end();)
      it = book_.branch(*it) == nullptr ? unreported_.erase(it) : std::next(it);
    if (!unreported_.empty())
      return;
    auto wake_at = book_.wake_at(path_, ctx_.signals.events);
    if (!wake_at)
      return;
    request(supervisor_, caf::infinite, passivate_atom::value,
            book_.snapshot().order_id, *wake_at, received_)
      .await([this](bool passivated) {
        if (passivated)
          stop_all();
      });
  }

  /// Tells the engine's metrics that a step ended.
  void observe(const step_result& r) {
    auto* observer = ctx_.services->observer;
    if (observer != nullptr && r.step < ctx_.model->steps.size())
      observer->step_ended(ctx_.model->name,
                           ctx_.model->steps[r.step].kind_name(), r.outcome);
  }

  void apply(path_report& report) {
    for (auto& result : report.steps) {
      observe(result);
      book_.step_ended(std::move(result));
    }
    book_.add_fulfillment(std::move(report.new_fulfillment));
    book_.fulfillment_done(report.sent, true);
    book_.fulfillment_done(report.released, false);
    if (report.invoice_id)
      book_.set_invoice(std::move(*report.invoice_id));
    for (auto& child : report.started) {
      auto seq = child.seq;
      if (book_.add_branch(std::move(child)))
        unreported_.insert(seq);
    }
    // A report sent before its branch took in the journey's last signal
    // does not say what the branch made of it, unless its path has ended:
    // an ended path acts on nothing more, and reports no more.
    bool current = report.heard == heard();
    auto settle_mark = [&](const path_state& p) {
      if (current || p.phase == path_phase::ended)
        unreported_.erase(p.seq);
    };
    for (auto& side : report.sides) {
      settle_mark(side);
      book_.branch_moved(std::move(side));
    }
    settle_mark(report.state);
    pending_journal_.insert(pending_journal_.end(),
                            std::make_move_iterator(report.journal.begin()),
                            std::make_move_iterator(report.journal.end()));
    for (auto& failed : report.failed)
      book_.path_failed(failed);
    book_.branch_moved(std::move(report.state));
  }

  void save(std::function<void(const caf::error&)> on_saved) {
    auto& snap = book_.with_paths(path_);
    snap.updated_on = now();
    snap.events = ctx_.signals.events;
    snap.cancel_requested = ctx_.signals.cancelling;
    if (!pending_journal_.empty())
      ++snap.journal_chunks;
    ctx_.services->sink->save(snap, pending_journal_, std::move(on_saved));
    pending_journal_.clear();
    book_.drop_paths();
  }

  static constexpr std::size_t journal_room = 16;

  journey_book book_;
  std::vector<journal_entry> pending_journal_;
  caf::actor supervisor_;
  uint64_t changes_ = 0;     ///< snapshots handed to the sink
  bool told_held_ = false;   ///< the supervisor was told the journey is paused
  bool unsaved_ = false;     ///< a change waits for save_now_atom or the timer
  bool save_queued_ = false; ///< save_now_atom is on its way to this actor
  uint64_t save_timer_ = 0;  ///< the save timer's id (clock::cancel), or 0
  /// Branch actors that have not reported since they (re)started.
  std::set<sequence_id> unreported_;
};

} // namespace

caf::actor spawn_journey(caf::event_based_actor* supervisor,
                         services_ptr services, flow_ptr model,
                         flow_clock_ptr flow_time, order_ptr the_order,
                         journey_snapshot snapshot, bool paused) {
  path_context ctx;
  ctx.services = std::move(services);
  ctx.model = std::move(model);
  ctx.the_order = std::move(the_order);
  ctx.flow_time = std::move(flow_time);
  ctx.identity = journey_identity{snapshot.order_id, snapshot.flow,
                                  snapshot.version, snapshot.run};
  ctx.signals.events = snapshot.events;
  ctx.signals.paused = paused;
  ctx.signals.cancelling = snapshot.cancel_requested;
  return supervisor->spawn<journey_actor, caf::monitored>(
    std::move(ctx), std::move(snapshot),
    caf::actor_cast<caf::actor>(supervisor));
}

} // namespace orca
