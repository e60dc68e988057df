#include "actors/journey.hpp"

#include <algorithm>
#include <unordered_map>

#include <caf/all.hpp>

#include "actors/journey_lifecycle.hpp"

namespace orca {

namespace {

class journey_actor final : public path_actor {
public:
  journey_actor(caf::actor_config& cfg, path_context context,
                journey_snapshot snapshot)
    : path_actor(cfg, std::move(context), path_state{}),
      snap_(std::move(snapshot)), lifecycle_(snap_.state) {
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

  caf::behavior make_behavior() override {
    ctx_.journey = caf::actor_cast<caf::actor>(this);
    caf::behavior behavior = path_handlers().or_else(
      [this](path_report& report) {
        apply(report);
        changed();
      },
      [this](claim_atom, sequence_id seq) {
        auto orders = claim_for(seq);
        changed();
        return orders;
      });
    if (is_terminal(snap_.state)) {
      quit();
      return behavior;
    }
    if (snap_.state == journey_state::received)
      lifecycle_.fire(ctx_.paused ? lifecycle_event::hold
                                  : lifecycle_event::start);
    // Restored branches get their own and their descendants' states.
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

  std::optional<std::vector<fulfillment_order>> claim_unsent() override {
    return claim_for(path_.seq);
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
    for (const auto& child : children)
      mirrors_.emplace(child.seq, child);
  }

  void changed() override {
    forget_joined_branches();
    if (!decide_state())
      return; // nothing new to say
    save();
    if (is_terminal(snap_.state)) {
      for (const auto& kv : children_)
        send_exit(kv.second, caf::exit_reason::user_shutdown);
      quit();
    }
  }

private:
  template <class F>
  void for_each_path(F f) const {
    f(path_);
    for (const auto& kv : mirrors_)
      f(kv.second);
  }

  std::vector<fulfillment_order> claim_for(sequence_id seq) {
    std::vector<fulfillment_order> result;
    for (const auto& fo : snap_.fulfillment_orders)
      if (!fo.sent && claims_.count(fo.id) == 0) {
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
    for (auto& child : report.started)
      mirrors_.emplace(child.seq, std::move(child));
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
          case path_phase::retry:
            (p.held ? held : active) = true;
            break;
          case path_phase::waiting_event: waiting = true; break;
          case path_phase::calling:
          case path_phase::claiming:
          case path_phase::backoff: active = true; break;
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
    (void) before;
    return true;
  }

  /// Fires `e`, entering running first where the machine needs it.
  void to(lifecycle_event e) {
    if (lifecycle_.state() == journey_state::received)
      lifecycle_.fire(e == lifecycle_event::hold ? lifecycle_event::hold
                                                 : lifecycle_event::start);
    if (e == lifecycle_event::work && lifecycle_.state() == journey_state::running)
      return;
    lifecycle_.fire(e);
  }

  void finish() {
    if (path_.cancelled || ctx_.cancelling) {
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

  void save() {
    snap_.updated_on = now();
    snap_.events = ctx_.events;
    snap_.cancel_requested = ctx_.cancelling;
    if (!is_terminal(snap_.state)) {
      snap_.paths.reserve(mirrors_.size() + 1);
      snap_.paths.push_back(path_);
      for (const auto& kv : mirrors_)
        snap_.paths.push_back(kv.second);
    }
    ctx_.services->sink->save(snap_);
    snap_.paths.clear();
  }

  journey_snapshot snap_;
  journey_lifecycle lifecycle_;
  std::map<sequence_id, path_state> mirrors_;
  std::unordered_map<std::string, sequence_id> claims_;
};

} // namespace

caf::actor spawn_journey(caf::event_based_actor* supervisor,
                         services_ptr services, flow_ptr model,
                         order_ptr the_order, journey_snapshot snapshot,
                         bool paused) {
  path_context ctx;
  ctx.services = std::move(services);
  ctx.model = std::move(model);
  ctx.the_order = std::move(the_order);
  ctx.identity = journey_identity{snapshot.order_id, snapshot.flow,
                                  snapshot.version, snapshot.run};
  ctx.events = snapshot.events;
  if (std::find(ctx.events.begin(), ctx.events.end(), "new_order")
      == ctx.events.end())
    ctx.events.insert(ctx.events.begin(), "new_order");
  ctx.paused = paused;
  ctx.cancelling = snapshot.cancel_requested;
  return supervisor->spawn<journey_actor, caf::monitored>(std::move(ctx),
                                                          std::move(snapshot));
}

} // namespace orca
