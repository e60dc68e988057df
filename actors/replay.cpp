#include "actors/replay.hpp"

#include <algorithm>
#include <charconv>
#include <deque>
#include <map>
#include <set>

#include "actors/path_runner.hpp"

namespace orca {

namespace {

struct pending_call {
  std::string step;
  uint32_t attempt = 0;
  uint32_t token = 0;
  std::string provider;
};

/// Every path of one journey, run by hand: the same rules as the actors,
/// with the journal as the only source of answers, events and time.
class replay_host final : public path_host {
public:
  replay_host(const flow& model, const order& o, uint32_t default_timeout_ms)
      : model_(model), order_(o), default_timeout_ms_(default_timeout_ms) {
  }

  // -- path_host --------------------------------------------------------------

  const flow& model() const override {
    return model_;
  }

  const order& the_order() const override {
    return order_;
  }

  int64_t now() const override {
    return now_;
  }

  /// Recorded time less the time the journal shows the journey paused.
  int64_t flow_now() const override {
    return (paused_ ? paused_at_ : now_) - paused_ms_;
  }

  bool has_event(const std::vector<std::string>& types) const override {
    return holds_event(events_, types);
  }

  bool paused() const override {
    return paused_;
  }

  uint32_t default_timeout_ms() const override {
    return default_timeout_ms_;
  }

  bool cancelling() const override {
    return cancelling_;
  }

  void step_ended(step_result result) override {
    result_.steps.push_back(std::move(result));
  }

  void journal(journal_entry entry) override {
    result_.timeline.push_back(std::move(entry));
  }

  void path_failed(const path_state&) override {
  }

  void add_fulfillment(std::vector<source_group> groups) override {
    for (auto& g : groups) {
      fulfillment_order fo;
      fo.id = order_.id() + "-FO"
        + std::to_string(result_.fulfillment_orders.size() + 1);
      fo.source = std::move(g.source);
      fo.lines = std::move(g.line_ids);
      result_.fulfillment_orders.push_back(std::move(fo));
    }
  }

  std::optional<std::vector<fulfillment_order>>
  claim_unsent(const std::vector<std::string>& scope) override {
    std::vector<fulfillment_order> result;
    for (const auto& fo : result_.fulfillment_orders)
      if (!fo.sent && claimed_.count(fo.id) == 0 && fo.within(scope)) {
        claimed_.insert(fo.id);
        result.push_back(fo);
      }
    return result;
  }

  void fulfillment_done(const std::vector<std::string>& ids,
                        bool sent) override {
    for (const auto& id : ids) {
      claimed_.erase(id);
      if (sent)
        for (auto& fo : result_.fulfillment_orders)
          if (fo.id == id)
            fo.sent = true;
    }
  }

  void set_invoice(std::string id) override {
    result_.invoice_id = std::move(id);
  }

  void call_provider(const path_state& p, const step& s,
                     const line_set&) override {
    calls_[p.seq] = pending_call{s.name, p.attempts, p.token, s.provider};
    journal_entry e;
    e.kind = journal_kind::provider_called;
    e.at = now_;
    e.path = p.seq;
    e.step = s.id;
    e.attempt = p.attempts;
    e.text = s.provider;
    journal(std::move(e));
  }

  void start_timer(uint32_t, uint32_t token) override {
    timers_[current_] = token;
  }

  void start_branches(const path_state&,
                      std::vector<path_state> children) override {
    for (auto& child : children) {
      auto seq = child.seq;
      paths_[seq] = std::move(child);
      work_.push_back({seq, false, 0, false});
    }
  }

  // -- driving ----------------------------------------------------------------

  /// `first`: the journal's first entry.
  void start(const journal_entry& first) {
    now_ = first.at;
    if (first.kind == journal_kind::started)
      keep_to_flow_time(first);
    paths_[top_sequence] = initial_path(order_);
    work_.push_back({top_sequence, false, 0, false});
    drain();
  }

  /// Feeds one recorded input; returns false if this flow has no use for it.
  bool deliver(const journal_entry& e, const std::string& step_name) {
    now_ = e.at;
    switch (e.kind) {
      case journal_kind::provider_answered:
        for (auto& [seq, call] : calls_) {
          auto& p = paths_[seq];
          if (call.step != step_name || call.attempt != e.attempt
              || p.phase != path_phase::calling || p.token != call.token)
            continue;
          provider_reply reply;
          reply.ok = e.ok;
          reply.error = e.text;
          reply.fulfillment = e.fulfillment;
          reply.invoice_id = e.invoice_id;
          auto token = call.token;
          with_path(seq, [&](path_runner& r) { r.on_reply(token, reply); });
          drain();
          return true;
        }
        return false;
      case journal_kind::timer_fired:
        for (auto& [seq, token] : timers_) {
          auto& p = paths_[seq];
          if (p.token != token || p.phase == path_phase::ended)
            continue;
          const auto& steps = model_.sequences[seq].steps;
          if (p.position >= steps.size()
              || model_.steps[steps[p.position]].name != step_name)
            continue;
          auto t = token;
          with_path(seq, [&](path_runner& r) { r.on_timer(t); });
          drain();
          return true;
        }
        return false;
      case journal_kind::event_received:
        if (std::find(events_.begin(), events_.end(), e.text) == events_.end())
          events_.push_back(e.text);
        for_each_live([](path_runner& r) { r.on_event(); });
        return true;
      case journal_kind::cancel_requested:
        cancelling_ = true;
        for_each_live([](path_runner& r) { r.on_cancel(); });
        return true;
      case journal_kind::paused:
        if (!paused_)
          paused_at_ = now_;
        paused_ = true;
        return true;
      case journal_kind::unpaused:
        if (paused_)
          paused_ms_ += now_ - paused_at_;
        paused_ = false;
        for_each_live([](path_runner& r) { r.on_resume(); });
        return true;
      case journal_kind::started:
      case journal_kind::resumed: keep_to_flow_time(e); return true;
      default: return true;
    }
  }

  /// The call a path still waits for, if any.
  std::optional<pending_call> unanswered() const {
    for (const auto& [seq, call] : calls_) {
      auto it = paths_.find(seq);
      if (it != paths_.end() && it->second.phase == path_phase::calling
          && it->second.token == call.token)
        return call;
    }
    return std::nullopt;
  }

  replay_result finish() {
    const auto& root = paths_[top_sequence];
    if (root.phase == path_phase::ended) {
      bool action_ran = false;
      for (const auto& r : result_.steps)
        if (model_.steps[r.step].is_action
            && r.outcome != step_outcome::skipped)
          action_ran = true;
      bool cut_by_cancel = false;
      for (const auto& [seq, p] : paths_)
        if (p.phase == path_phase::ended && p.cancelled)
          cut_by_cancel = true;
      result_.state = cut_by_cancel ? journey_state::cancelled
        : root.failed               ? journey_state::failed
        : action_ran                ? journey_state::completed
                                    : journey_state::skipped;
    } else {
      bool active = false;
      bool held = false;
      bool waiting = false;
      for (const auto& [seq, p] : paths_) {
        if (p.phase == path_phase::waiting_event)
          waiting = true;
        else if (p.held || (p.phase == path_phase::backoff && paused_))
          held = true;
        else if (p.phase != path_phase::branching
                 && p.phase != path_phase::ended)
          active = true;
      }
      result_.state = active ? journey_state::running
        : held               ? journey_state::paused
        : waiting            ? journey_state::waiting
                             : journey_state::running;
    }
    return std::move(result_);
  }

private:
  struct work_item {
    sequence_id seq;
    bool branch_ended;
    sequence_id child;
    bool failed;
  };

  template <class F>
  void with_path(sequence_id seq, F f) {
    auto previous = current_;
    current_ = seq;
    path_runner r{*this, paths_[seq]};
    f(r);
    current_ = previous;
    auto& p = paths_[seq];
    if (p.phase == path_phase::ended && seq != top_sequence
        && reported_.insert(seq).second) {
      auto parent = model_.steps[model_.sequences[seq].owner].sequence;
      work_.push_back({parent, true, seq, p.failed});
    }
  }

  template <class F>
  void for_each_live(F f) {
    std::vector<sequence_id> live;
    for (const auto& [seq, p] : paths_)
      if (p.phase != path_phase::ended)
        live.push_back(seq);
    for (auto seq : live)
      with_path(seq, f);
    drain();
  }

  void drain() {
    while (!work_.empty()) {
      auto item = work_.front();
      work_.pop_front();
      if (item.branch_ended)
        with_path(item.seq, [&](path_runner& r) {
          r.on_branch_ended(item.child, item.failed);
        });
      else
        with_path(item.seq, [](path_runner& r) { r.run(); });
    }
  }

  /// Takes the flow's time and pause from a started or resumed entry (a
  /// journey in the store hears of no pause or resume; its next start says
  /// where they left the flow). Entries written before they said so are
  /// passed over.
  void keep_to_flow_time(const journal_entry& e) {
    int64_t flow_time = 0;
    auto [end, err] =
      std::from_chars(e.text.data(), e.text.data() + e.text.size(), flow_time);
    if (e.text.empty() || err != std::errc{}
        || end != e.text.data() + e.text.size())
      return;
    bool was_paused = paused_;
    paused_ = e.ok;
    paused_at_ = now_;
    paused_ms_ = now_ - flow_time;
    if (was_paused && !paused_)
      for_each_live([](path_runner& r) { r.on_resume(); });
  }

  const flow& model_;
  const order& order_;
  uint32_t default_timeout_ms_;
  int64_t now_ = 0;
  std::vector<std::string> events_;
  bool paused_ = false;
  int64_t paused_at_ = 0; ///< when the current pause began
  int64_t paused_ms_ = 0; ///< time spent in pauses that ended
  bool cancelling_ = false;
  std::map<sequence_id, path_state> paths_;
  std::map<sequence_id, pending_call> calls_;
  std::map<sequence_id, uint32_t> timers_;
  std::set<std::string> claimed_;
  std::set<sequence_id> reported_;
  std::deque<work_item> work_;
  sequence_id current_ = top_sequence;
  replay_result result_;
};

struct step_view {
  std::string path;
  std::string name;
  step_outcome outcome;
  uint32_t attempts;
  std::string error;
};

std::string describe_step(const step_view& s) {
  std::string text = quote(s.name) + " " + to_string(s.outcome);
  if (s.outcome != step_outcome::skipped)
    text += " after " + std::to_string(s.attempts) + " attempt(s)";
  if (!s.error.empty())
    text += " (" + s.error + ")";
  return text;
}

/// Steps grouped by path, each in the order it ended there.
std::map<std::string, std::vector<step_view>>
by_path(const std::vector<step_view>& steps) {
  std::map<std::string, std::vector<step_view>> result;
  for (const auto& s : steps)
    result[s.path].push_back(s);
  return result;
}

std::optional<std::string>
first_difference(const std::vector<step_view>& recorded,
                 const std::vector<step_view>& replayed,
                 const std::optional<pending_call>& unanswered) {
  auto mine = by_path(replayed);
  std::map<std::string, std::size_t> seen;
  for (const auto& r : recorded) {
    auto index = seen[r.path]++;
    const auto& list = mine[r.path];
    auto where = r.path.empty() ? std::string{"at the top level"}
                                : "on path " + quote(r.path);
    if (index >= list.size()) {
      std::string why = "it never gets there";
      if (unanswered)
        why = "it waits for provider " + quote(unanswered->provider)
          + " at step " + quote(unanswered->step) + " (attempt "
          + std::to_string(unanswered->attempt)
          + "), which the recorded run never answered";
      return "step " + std::to_string(index + 1) + " " + where + ": recorded "
        + describe_step(r) + "; replayed: " + why;
    }
    const auto& m = list[index];
    if (m.name != r.name || m.outcome != r.outcome || m.attempts != r.attempts
        || m.error != r.error)
      return "step " + std::to_string(index + 1) + " " + where + ": recorded "
        + describe_step(r) + "; replayed " + describe_step(m);
  }
  for (const auto& [path, list] : mine) {
    auto done = seen[path];
    if (list.size() > done) {
      auto where = path.empty() ? std::string{"at the top level"}
                                : "on path " + quote(path);
      return "step " + std::to_string(done + 1) + " " + where
        + ": the recorded run ends there; replayed "
        + describe_step(list[done]);
    }
  }
  return std::nullopt;
}

} // namespace

replay_result replay(const flow& recorded_model, const flow& model,
                     const order& o, const std::vector<journal_entry>& journal,
                     uint32_t default_timeout_ms) {
  auto name_of = [&](step_id id) {
    return id < recorded_model.steps.size() ? recorded_model.steps[id].name
                                            : std::string{};
  };
  std::vector<step_view> recorded;
  for (const auto& e : journal) {
    // A redrive starts another run; replay covers the first one.
    if (e.kind == journal_kind::redriven)
      break;
    if (e.kind == journal_kind::step_ended
        && e.step < recorded_model.steps.size()) {
      const auto& s = recorded_model.steps[e.step];
      recorded.push_back({recorded_model.sequences[s.sequence].path, s.name,
                          e.outcome, e.attempt, e.text});
    }
  }
  replay_host host{model, o, default_timeout_ms};
  host.start(journal.empty() ? journal_entry{} : journal.front());
  for (const auto& e : journal) {
    if (e.kind == journal_kind::redriven)
      break;
    host.deliver(e, name_of(e.step));
  }
  auto unanswered = host.unanswered();
  auto result = host.finish();
  std::vector<step_view> replayed;
  for (const auto& r : result.steps) {
    const auto& s = model.steps[r.step];
    replayed.push_back({model.sequences[s.sequence].path, s.name, r.outcome,
                        r.attempts, r.error});
  }
  result.divergence = first_difference(recorded, replayed, unanswered);
  return result;
}

} // namespace orca
