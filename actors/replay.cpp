#include "actors/replay.hpp"

#include <algorithm>
#include <charconv>
#include <deque>
#include <map>
#include <set>

#include "actors/journey_book.hpp"
#include "actors/path_runner.hpp"
#include "actors/redrive.hpp"
#include "flows/errc.hpp"
#include "flows/flow_pauses.hpp"

namespace orca {

namespace {

struct pending_call {
  std::string step;
  uint32_t attempt = 0;
  uint32_t token = 0;
  std::string provider;
};

/// Every path of one journey, run by hand: the path rules of path_runner
/// and the journey's book and lifecycle of journey_book, as the actors run
/// them, with the journal as the only source of answers, events and time.
class replay_host final : public path_host {
public:
  replay_host(const flow& model, const order& o, uint32_t default_timeout_ms)
      : model_(model), order_(o), default_timeout_ms_(default_timeout_ms),
        book_(model, new_journey(o)) {
    top_ = book_.take_top();
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

  /// Recorded time less the time the journal shows the flow paused.
  int64_t flow_now() const override {
    return pauses_.at(now_);
  }

  bool has_event(const std::vector<std::string>& types) const override {
    return holds_event(signals_.events, types);
  }

  bool paused() const override {
    return signals_.paused;
  }

  uint32_t default_timeout_ms() const override {
    return default_timeout_ms_;
  }

  bool cancelling() const override {
    return signals_.cancelling;
  }

  void step_ended(step_result result) override {
    book_.step_ended(std::move(result));
  }

  void journal(journal_entry&& entry) override {
    result_.timeline.push_back(std::move(entry));
  }

  void path_failed(const path_state& at_step) override {
    book_.path_failed(at_step);
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

  void start_timer(const path_state& p, uint32_t) override {
    timers_[p.seq] = p.token;
  }

  void start_branches(const path_state&,
                      std::vector<path_state> children) override {
    for (auto& child : children) {
      auto seq = child.seq;
      book_.add_branch(std::move(child));
      work_.push_back({seq, false, 0, false});
    }
  }

  const path_state* saved_branch(sequence_id body) const override {
    auto found = book_.branches().find(body);
    return found != book_.branches().end() ? &found->second : nullptr;
  }

  void restart_branches(const path_state&, std::vector<const path_state*> saved,
                        std::vector<path_state> fresh) override {
    std::vector<sequence_id> bodies;
    for (const auto* child : saved)
      bodies.push_back(child->seq);
    for (auto& child : fresh) {
      bodies.push_back(child.seq);
      book_.add_branch(std::move(child));
    }
    for (auto body : bodies)
      with_path(body, [](path_runner& r) { r.on_restore(); });
  }

  // -- driving ----------------------------------------------------------------

  /// `first`: the journal's first entry.
  void start(const journal_entry& first) {
    now_ = first.at;
    if (first.kind == journal_kind::started)
      keep_to_flow_time(first);
    book_.begin(signals_.paused);
    restore(top_sequence);
    settle();
  }

  /// Feeds one recorded entry, as the journey actor took it in.
  void deliver(const journal_entry& e, const std::string& step_name) {
    now_ = e.at;
    switch (e.kind) {
      case journal_kind::provider_answered: answer(e, step_name); break;
      case journal_kind::timer_fired: fire(step_name); break;
      case journal_kind::event_received:
      case journal_kind::cancel_requested:
      case journal_kind::paused:
      case journal_kind::unpaused:
        // As path_actor::signalled, for every live path at once.
        signals_.take(e.kind, e.text);
        if (e.kind == journal_kind::paused)
          pauses_.pause(now_);
        else if (e.kind == journal_kind::unpaused)
          pauses_.resume(now_);
        for_each_live([&](path_runner& r) { r.on_signal(e.kind); });
        break;
      case journal_kind::started: keep_to_flow_time(e); break;
      case journal_kind::resumed:
        // A journey brought back from the store (after a restart, a sleep
        // or a redrive) restores its paths as it was saved.
        keep_to_flow_time(e);
        restore(top_sequence);
        break;
      case journal_kind::redriven: redrive(e); break;
      default: break;
    }
    settle();
  }

  /// Why the replay cannot go on with the journal, if it cannot.
  const std::optional<std::string>& stuck() const {
    return stuck_;
  }

  /// The call a path still waits for, if any.
  std::optional<pending_call> unanswered() {
    for (const auto& [seq, call] : calls_) {
      const auto* p = find_path(seq);
      if (p != nullptr && p->phase == path_phase::calling
          && p->token == call.token)
        return call;
    }
    return std::nullopt;
  }

  replay_result finish() {
    const auto& snap = book_.snapshot();
    result_.state = snap.state;
    result_.steps = snap.steps;
    result_.fulfillment_orders = snap.fulfillment_orders;
    result_.invoice_id = snap.invoice_id;
    return std::move(result_);
  }

private:
  struct work_item {
    sequence_id seq;
    bool branch_ended;
    sequence_id child;
    bool failed;
  };

  static journey_snapshot new_journey(const order& o) {
    journey_snapshot snap;
    snap.order_id = o.id();
    snap.paths.push_back(initial_path(o));
    return snap;
  }

  path_state* find_path(sequence_id seq) {
    return seq == top_sequence ? &top_ : book_.branch(seq);
  }

  void answer(const journal_entry& e, const std::string& step_name) {
    for (auto& [seq, call] : calls_) {
      const auto* p = find_path(seq);
      if (p == nullptr || call.step != step_name || call.attempt != e.attempt
          || p->phase != path_phase::calling || p->token != call.token)
        continue;
      provider_reply reply;
      reply.ok = e.ok;
      reply.error = e.text;
      reply.code = e.code;
      reply.fulfillment = e.fulfillment;
      reply.invoice_id = e.invoice_id;
      auto token = call.token;
      with_path(seq, [&](path_runner& r) { r.on_reply(token, reply); });
      drain();
      return;
    }
  }

  void fire(const std::string& step_name) {
    for (auto& [seq, token] : timers_) {
      const auto* p = find_path(seq);
      if (p == nullptr || p->token != token || p->phase == path_phase::ended)
        continue;
      const auto& steps = model_.sequences[seq].steps;
      if (p->position >= steps.size()
          || model_.steps[steps[p->position]].name != step_name)
        continue;
      auto t = token;
      with_path(seq, [&](path_runner& r) { r.on_timer(t); });
      drain();
      return;
    }
  }

  /// The journey's own path and, through restart_branches, its branches,
  /// as the journey actor and its branch actors restore them.
  void restore(sequence_id seq) {
    with_path(seq, [](path_runner& r) { r.on_restore(); });
    drain();
  }

  /// A redrive starts the failed journey again from its failed steps, by
  /// the same rule as Engine::redrive.
  void redrive(const journal_entry& e) {
    journey_snapshot failed = book_.with_paths(top_);
    book_.drop_paths();
    auto next = redrive_point(failed, e.at);
    if (!next) {
      stuck_ = "the recorded run was redriven here, the replay cannot be: "
        + describe(next.error());
      return;
    }
    signals_.cancelling = next->cancel_requested;
    book_ = journey_book{model_, std::move(*next)};
    top_ = book_.take_top();
    calls_.clear();
    timers_.clear();
    reported_.clear();
  }

  void settle() {
    if (book_.settle(top_, signals_.paused) != journey_book::settled::new_state)
      return;
    journal_entry e;
    e.kind = journal_kind::state_changed;
    e.at = now_;
    e.state = book_.state();
    journal(std::move(e));
  }

  template <class F>
  void with_path(sequence_id seq, F f) {
    auto* p = find_path(seq);
    if (p == nullptr)
      return;
    path_runner r{*this, *p};
    f(r);
    if (p->phase == path_phase::ended && seq != top_sequence
        && reported_.insert(seq).second) {
      work_.push_back({model_.parent_of(seq), true, seq, p->failed});
    }
  }

  template <class F>
  void for_each_live(F f) {
    std::vector<sequence_id> live;
    if (top_.phase != path_phase::ended)
      live.push_back(top_sequence);
    for (const auto& [seq, p] : book_.branches())
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
    signals_.paused = e.ok;
    pauses_ = flow_pauses::reading(flow_time, now_, e.ok);
  }

  const flow& model_;
  const order& order_;
  uint32_t default_timeout_ms_;
  journey_book book_;
  path_state top_;
  int64_t now_ = 0;
  journey_signals signals_;
  flow_pauses pauses_; ///< the flow's time as the journal shows it
  std::map<sequence_id, pending_call> calls_;
  std::map<sequence_id, uint32_t> timers_;
  std::set<sequence_id> reported_;
  std::deque<work_item> work_;
  std::optional<std::string> stuck_;
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
  for (const auto& e : journal)
    if (e.kind == journal_kind::step_ended
        && e.step < recorded_model.steps.size()) {
      const auto& s = recorded_model.steps[e.step];
      recorded.push_back({recorded_model.sequences[s.sequence].path, s.name,
                          e.outcome, e.attempt, e.text});
    }
  replay_host host{model, o, default_timeout_ms};
  std::optional<std::string> stuck;
  try {
    host.start(journal.empty() ? journal_entry{} : journal.front());
    for (const auto& e : journal) {
      host.deliver(e, name_of(e.step));
      if (host.stuck())
        break;
    }
    stuck = host.stuck();
  } catch (const impossible_move& e) {
    // The recorded inputs would move the journey in a way its lifecycle
    // does not have: the replay stops there and says so.
    stuck = std::string{"the replay stopped: "} + e.what();
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
  if (!result.divergence)
    result.divergence = stuck;
  return result;
}

} // namespace orca
