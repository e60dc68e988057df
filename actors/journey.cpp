#include "actors/journey.hpp"

#include <algorithm>
#include <set>
#include <unordered_map>

#include <caf/all.hpp>

#include "actors/journey_lifecycle.hpp"
#include "actors/supervisor.hpp"

namespace orca {

namespace {

class journey_actor final : public path_actor {
public:
  journey_actor(caf::actor_config& cfg, path_context context,
                journey_snapshot snapshot, caf::actor supervisor)
      : path_actor(cfg, std::move(context), path_state{}),
        snap_(std::move(snapshot)), lifecycle_(snap_.state),
        supervisor_(std::move(supervisor)) {
    // paths[0] is the journey's own path, the others its live branches.
    if (!snap_.paths.empty()) {
      path_ = std::move(snap_.paths.front());
      for (std::size_t i = 1; i < snap_.paths.size(); ++i)
        mirrors_[snap_.paths[i].seq] = std::move(snap_.paths[i]);
    }
    snap_.paths.clear();
    for_each_path([this](const path_state& p) {
      for (const auto& id : p.sending)
        claims_[id] = p.seq;
    });
  }

  const char* name() const override {
    return "orca.journey";
  }

  void on_exit() override {
    supervisor_ = nullptr;
    path_actor::on_exit();
  }

  caf::behavior make_behavior() override {
    ctx_.journey = caf::actor_cast<caf::actor>(this);
    caf::behavior behavior = path_handlers().or_else(
      [this](path_report& report) {
        apply(report);
        changed();
      },
      [this](claim_atom, sequence_id seq,
             const std::vector<std::string>& scope) {
        auto orders = claim_for(seq, scope);
        changed();
        return orders;
      },
      [this](saved_waiting_atom, uint64_t change) { try_passivate(change); },
      [this](resume_atom, uint32_t latest, const caf::actor& home) {
        ++received_;
        if (latest > snap_.version && !started())
          move_to(latest, home);
        else
          resumed();
      },
      [this](save_failed_atom, const std::string& why) {
        // Going on would act on a state the store does not have: the
        // journey stops, and its failure is its last write (queued after
        // every save it made), over the last state that was saved.
        ctx_.services->sink->journey_failed(
          snap_.order_id, snap_.flow, snap_.version,
          "its state could not be saved: " + why);
        stop_all();
      });
    if (is_terminal(snap_.state)) {
      quit();
      return behavior;
    }
    journal_entry first;
    first.kind = snap_.state == journey_state::received ? journal_kind::started
                                                        : journal_kind::resumed;
    first.at = now();
    first.state = snap_.state;
    // Where the flow's time stands: a replay keeps to it, though pauses may
    // have come and gone while the journey was in the store.
    first.ok = ctx_.paused;
    first.text = std::to_string(flow_now());
    journal(std::move(first));
    if (snap_.state == journey_state::received)
      lifecycle_.fire(ctx_.paused ? lifecycle_event::hold
                                  : lifecycle_event::start);
    // Restored branches get their own and their descendants' states.
    for (const auto& kv : mirrors_)
      unreported_.insert(kv.first);
    ctx_.restored = mirrors_;
    ctx_.sending = snap_.fulfillment_orders;
    if (path_.phase == path_phase::branching)
      restore_children();
    else
      runner().on_restore();
    ctx_.restored.clear();
    ctx_.sending.clear();
    changed();
    return behavior;
  }

protected:
  // -- journey-wide effects: applied here -------------------------------------

  void step_ended(step_result result) override {
    snap_.steps.push_back(std::move(result));
  }

  void journal(journal_entry entry) override {
    pending_journal_.push_back(std::move(entry));
  }

  void path_failed(const path_state& at_step) override {
    snap_.failed_paths.push_back(at_step);
  }

  void control_received(journal_kind kind, const std::string& text) override {
    journal_entry e;
    e.kind = kind;
    e.at = now();
    e.text = text;
    journal(std::move(e));
  }

  void children_told() override {
    // Every live branch will answer with a report: until then what the
    // journey knows of them may be out of date.
    for (const auto& kv : mirrors_)
      if (kv.second.phase != path_phase::ended)
        unreported_.insert(kv.first);
  }

  void add_fulfillment(std::vector<source_group> groups) override {
    for (auto& g : groups) {
      fulfillment_order fo;
      fo.id = snap_.order_id + "-FO"
        + std::to_string(snap_.fulfillment_orders.size() + 1);
      fo.source = std::move(g.source);
      fo.lines = std::move(g.line_ids);
      snap_.fulfillment_orders.push_back(std::move(fo));
    }
  }

  std::optional<std::vector<fulfillment_order>>
  claim_unsent(const std::vector<std::string>& scope) override {
    return claim_for(path_.seq, scope);
  }

  void fulfillment_done(const std::vector<std::string>& ids,
                        bool sent) override {
    for (const auto& id : ids) {
      claims_.erase(id);
      if (!sent)
        continue;
      for (auto& fo : snap_.fulfillment_orders)
        if (fo.id == id)
          fo.sent = true;
    }
  }

  void set_invoice(std::string id) override {
    snap_.invoice_id = std::move(id);
  }

  std::vector<fulfillment_order>
  orders_for(const std::vector<std::string>& ids) const override {
    std::vector<fulfillment_order> result;
    for (const auto& fo : snap_.fulfillment_orders)
      if (std::find(ids.begin(), ids.end(), fo.id) != ids.end())
        result.push_back(fo);
    return result;
  }

  void branches_started(const std::vector<path_state>& children) override {
    for (const auto& child : children) {
      mirrors_.emplace(child.seq, child);
      unreported_.insert(child.seq);
    }
  }

  void changed() override {
    forget_joined_branches();
    if (!decide_state())
      return; // nothing new to say
    ++changes_;
    // Once a waiting snapshot is durable, the journey may leave memory.
    bool passivate =
      snap_.state == journey_state::waiting && ctx_.services->passivate_waiting;
    save([self = caf::actor_cast<caf::actor>(this), change = changes_,
          passivate](const caf::error& err) {
      if (err)
        caf::anon_send(self, save_failed_atom::value, describe(err));
      else if (passivate)
        caf::anon_send(self, saved_waiting_atom::value, change);
    });
    if (is_terminal(snap_.state))
      stop_all();
  }

private:
  /// Whether the journey has begun any step (SPEC §2.4: one that has not
  /// starts on the latest version when its flow resumes).
  bool started() const {
    return !snap_.steps.empty() || !mirrors_.empty() || path_.position > 0
      || path_.phase != path_phase::ready;
  }

  /// Hands the journey, as new, to version `latest` of its flow and quits.
  /// What the order receives meanwhile is in the order's record, which the
  /// new journey reads when `home` loads it.
  void move_to(uint32_t latest, const caf::actor& home) {
    auto next = moved_to_version(snap_, latest, the_order(), now());
    next.events = ctx_.events; // what it holds now, saved or not
    next.cancel_requested = ctx_.cancelling;
    auto* sink = ctx_.services->sink;
    sink->move(snap_, next,
               [sink, home, id = snap_.order_id, flow = snap_.flow,
                version = snap_.version, latest](const caf::error& err) {
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
    if (change != changes_ || snap_.state != journey_state::waiting)
      return;
    // Every branch must have told its state since it started: a restored
    // branch may be about to find that its event came or its wait is over.
    if (!unreported_.empty())
      return;
    std::vector<path_state> paths;
    for_each_path([&](const path_state& p) { paths.push_back(p); });
    auto wake_at = sleep_until(model(), paths, ctx_.events);
    if (!wake_at)
      return;
    request(supervisor_, caf::infinite, passivate_atom::value, snap_.order_id,
            *wake_at, received_)
      .await([this](bool passivated) {
        if (passivated)
          stop_all();
      });
  }

  template <class F>
  void for_each_path(F f) const {
    f(path_);
    for (const auto& kv : mirrors_)
      f(kv.second);
  }

  std::vector<fulfillment_order>
  claim_for(sequence_id seq, const std::vector<std::string>& scope) {
    std::vector<fulfillment_order> result;
    for (const auto& fo : snap_.fulfillment_orders)
      if (!fo.sent && claims_.count(fo.id) == 0 && fo.within(scope)) {
        claims_[fo.id] = seq;
        result.push_back(fo);
      }
    return result;
  }

  void apply(path_report& report) {
    for (auto& result : report.steps)
      snap_.steps.push_back(std::move(result));
    add_fulfillment(std::move(report.new_fulfillment));
    fulfillment_done(report.sent, true);
    fulfillment_done(report.released, false);
    if (report.invoice_id)
      snap_.invoice_id = std::move(report.invoice_id);
    for (auto& child : report.started) {
      // A branch already known (it reported first) keeps what it said.
      auto seq = child.seq;
      if (mirrors_.emplace(seq, std::move(child)).second)
        unreported_.insert(seq);
    }
    unreported_.erase(report.state.seq);
    if (report.state.phase == path_phase::ended && report.state.cancelled)
      snap_.cut_by_cancel = true;
    for (auto& entry : report.journal)
      pending_journal_.push_back(std::move(entry));
    for (auto& failed : report.failed)
      snap_.failed_paths.push_back(std::move(failed));
    mirrors_[report.state.seq] = std::move(report.state);
  }

  /// The path that runs the element whose branch `seq` is.
  const path_state* parent_of(sequence_id seq) const {
    const auto& f = model();
    auto parent_seq = f.steps[f.sequences[seq].owner].sequence;
    if (parent_seq == path_.seq)
      return &path_;
    auto it = mirrors_.find(parent_seq);
    return it == mirrors_.end() ? nullptr : &it->second;
  }

  /// Drops ended branches once their parent's merge barrier has counted
  /// them; until then a restart must still be able to tell the parent.
  void forget_joined_branches() {
    for (auto it = mirrors_.begin(); it != mirrors_.end();) {
      bool joined = false;
      if (it->second.phase == path_phase::ended) {
        const auto* parent = parent_of(it->first);
        joined = true;
        if (parent != nullptr && parent->phase == path_phase::branching)
          for (const auto& slot : parent->branches)
            if (slot.body == it->first && !slot.ended)
              joined = false;
      }
      it = joined ? mirrors_.erase(it) : std::next(it);
    }
  }

  /// Moves the lifecycle to where the paths are. Returns whether anything
  /// is worth saving (always, unless the journey was already terminal).
  bool decide_state() {
    if (is_terminal(snap_.state))
      return false;
    auto before = lifecycle_.state();
    if (path_.phase == path_phase::ended) {
      finish();
    } else {
      bool active = false;
      bool held = false;
      bool waiting = false;
      for_each_path([&](const path_state& p) {
        switch (p.phase) {
          case path_phase::ready:
          case path_phase::retry: (p.held ? held : active) = true; break;
          case path_phase::waiting_event: waiting = true; break;
          case path_phase::backoff:
            // A back-off stands still while the flow is paused.
            (paused() ? held : active) = true;
            break;
          case path_phase::calling:
          case path_phase::claiming: active = true; break;
          case path_phase::branching:
          case path_phase::ended: break;
        }
      });
      if (active)
        to(lifecycle_event::work);
      else if (held)
        to(lifecycle_event::hold);
      else if (waiting)
        to(lifecycle_event::wait);
    }
    snap_.state = lifecycle_.state();
    // The supervisor counts the journeys a pause holds.
    if ((snap_.state == journey_state::paused) != told_held_) {
      told_held_ = !told_held_;
      send(supervisor_, held_atom::value, told_held_);
    }
    if (snap_.state != before) {
      journal_entry e;
      e.kind = journal_kind::state_changed;
      e.at = now();
      e.state = snap_.state;
      journal(std::move(e));
    }
    return true;
  }

  /// Fires `e`, leaving received first (for running, or paused if `e`
  /// holds).
  void to(lifecycle_event e) {
    if (lifecycle_.state() == journey_state::received)
      lifecycle_.fire(e == lifecycle_event::hold ? lifecycle_event::hold
                                                 : lifecycle_event::start);
    lifecycle_.fire(e);
  }

  /// The journey's own path has ended: the journey ends cancelled if a
  /// cancel cut a path short, else failed, completed or skipped.
  void finish() {
    if (path_.cancelled || snap_.cut_by_cancel) {
      lifecycle_.fire(lifecycle_event::cancel);
      return;
    }
    if (path_.failed) {
      lifecycle_.fire(lifecycle_event::fail);
      return;
    }
    bool action_ran = false;
    for (const auto& result : snap_.steps)
      if (model().steps[result.step].is_action
          && result.outcome != step_outcome::skipped)
        action_ran = true;
    to(lifecycle_event::work);
    lifecycle_.fire(action_ran ? lifecycle_event::complete
                               : lifecycle_event::skip);
  }

  void save(std::function<void(const caf::error&)> on_saved) {
    snap_.updated_on = now();
    snap_.events = ctx_.events;
    snap_.cancel_requested = ctx_.cancelling;
    // A failed journey keeps its paths, from which a redrive can go on.
    if (!is_terminal(snap_.state) || snap_.state == journey_state::failed) {
      snap_.paths.reserve(mirrors_.size() + 1);
      snap_.paths.push_back(path_);
      for (const auto& kv : mirrors_)
        snap_.paths.push_back(kv.second);
    }
    if (!pending_journal_.empty())
      ++snap_.journal_chunks;
    ctx_.services->sink->save(snap_, pending_journal_, std::move(on_saved));
    pending_journal_.clear();
    snap_.paths.clear();
  }

  journey_snapshot snap_;
  journey_lifecycle lifecycle_;
  std::map<sequence_id, path_state> mirrors_;
  std::unordered_map<std::string, sequence_id> claims_;
  std::vector<journal_entry> pending_journal_;
  caf::actor supervisor_;
  uint64_t changes_ = 0;   ///< snapshots handed to the sink
  bool told_held_ = false; ///< the supervisor was told the journey is paused
  /// Branches that have not reported since they (re)started.
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
  ctx.events = snapshot.events;
  if (std::find(ctx.events.begin(), ctx.events.end(), event_types::new_order)
      == ctx.events.end())
    ctx.events.insert(ctx.events.begin(), event_types::new_order);
  ctx.paused = paused;
  ctx.cancelling = snapshot.cancel_requested;
  return supervisor->spawn<journey_actor, caf::monitored>(
    std::move(ctx), std::move(snapshot),
    caf::actor_cast<caf::actor>(supervisor));
}

} // namespace orca
