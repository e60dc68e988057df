#include "actors/path_runner.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "actors/merge_barrier.hpp"
#include "flows/policies.hpp"

namespace orca {

path_host::~path_host() = default;

path_state path_runner::branch_start(sequence_id body, line_set lines) {
  path_state p;
  p.seq = body;
  p.lines = std::move(lines);
  return p;
}

path_state path_runner::fresh_branch(sequence_id body) const {
  const auto& f = host_.model();
  const auto& element = f.steps[f.sequences[body].owner];
  if (is_condition(element.element))
    return branch_start(body, p_.lines);
  const auto& first = f.steps[f.sequences[body].steps.front()];
  return branch_start(
    body, apply_filters(f, first, host_.the_order(), p_.lines).lines);
}

bool path_runner::is_idle(const path_state& p) {
  switch (p.phase) {
    case path_phase::ready:
    case path_phase::retry: return p.held;
    default: return true;
  }
}

const step& path_runner::current() const {
  const auto& f = host_.model();
  return f.steps[f.sequences[p_.seq].steps[p_.position]];
}

std::size_t path_runner::sequence_size() const {
  return host_.model().sequences[p_.seq].steps.size();
}

void path_runner::note(journal_kind kind, const step& s, std::string text) {
  journal_entry e;
  e.kind = kind;
  e.at = host_.now();
  e.path = p_.seq;
  e.step = s.id;
  e.attempt = p_.attempts;
  e.text = std::move(text);
  host_.journal(std::move(e));
}

void path_runner::run() {
  for (;;) {
    switch (p_.phase) {
      case path_phase::ready:
        if (p_.position >= sequence_size()) {
          end(false, false);
          return;
        }
        if (!at_boundary())
          return;
        if (current().is_action ? !begin_action(current())
                                : !begin_element(current()))
          return;
        break; // the step completed at once: go on with the next one
      case path_phase::retry:
        if (!at_boundary())
          return;
        send_attempt(current());
        return;
      default: return;
    }
  }
}

bool path_runner::at_boundary() {
  if (host_.cancelling()) {
    end(false, true);
    return false;
  }
  p_.held = host_.paused();
  return !p_.held;
}

void path_runner::end(bool failed, bool cancelled) {
  if (!p_.sending.empty() && p_.phase != path_phase::calling)
    host_.fulfillment_done(p_.sending, false);
  p_.sending.clear();
  p_.phase = path_phase::ended;
  p_.failed = failed;
  p_.cancelled = cancelled;
  p_.held = false;
  p_.deadline = 0;
  ++p_.token; // whatever was pending is void now
}

bool path_runner::begin_action(const step& s) {
  const auto& f = host_.model();
  auto filtered = apply_filters(f, s, host_.the_order(), p_.lines);
  if (!filtered.matched) {
    complete(s, step_outcome::skipped, 0, {});
    return true;
  }
  if (!s.input_events.empty() && !host_.has_event(s.input_events)) {
    p_.phase = path_phase::waiting_event;
    ++p_.token;
    p_.deadline = 0;
    if (s.wait_timeout_ms > 0) {
      p_.deadline = host_.flow_now() + s.wait_timeout_ms;
      arm();
    }
    return false;
  }
  note(journal_kind::step_started, s);
  switch (s.action) {
    case action_kind::validate_order_header:
    case action_kind::validate_order_line: {
      auto failures = run_validation(f, s, host_.the_order(), filtered.lines);
      if (failures.empty())
        complete(s, step_outcome::succeeded, 1, {});
      else
        complete(s, step_outcome::failed, 1,
                 fmt::format("{}", fmt::join(failures, "; ")));
      return true;
    }
    case action_kind::assign_fulfillment_source: {
      auto groups = assign_sources(f, s, host_.the_order(), filtered.lines);
      if (!groups) {
        complete(s, step_outcome::failed, 1, describe(groups.error()));
      } else {
        host_.add_fulfillment(std::move(*groups));
        complete(s, step_outcome::succeeded, 1, {});
      }
      return true;
    }
    case action_kind::send_to_fulfillment: {
      std::vector<std::string> scope;
      scope.reserve(filtered.lines.size());
      for (auto line : filtered.lines)
        scope.emplace_back(host_.the_order().line_id(line));
      auto claimed = host_.claim_unsent(p_, scope);
      if (!claimed) {
        p_.phase = path_phase::claiming;
        return false;
      }
      return begin_sending(s, std::move(*claimed));
    }
    default: send_attempt(s); return false;
  }
}

bool path_runner::begin_sending(const step& s,
                                std::vector<fulfillment_order> orders) {
  if (orders.empty()) {
    complete(s, step_outcome::skipped, 0, {});
    return true;
  }
  p_.sending.clear();
  for (const auto& fo : orders)
    p_.sending.push_back(fo.id);
  send_attempt(s);
  return false;
}

void path_runner::send_attempt(const step& s) {
  ++p_.attempts;
  ++p_.token;
  p_.phase = path_phase::calling;
  p_.deadline = 0;
  auto filtered = apply_filters(host_.model(), s, host_.the_order(), p_.lines);
  host_.call_provider(p_, s, filtered.lines);
  host_.start_timer(p_, timeout_of(s));
}

void path_runner::attempt_failed(const step& s, errc code, std::string error) {
  p_.last_error = std::move(error);
  p_.last_error_code = code;
  if (p_.attempts < s.max_attempts()) {
    ++p_.token;
    p_.phase = path_phase::backoff;
    p_.deadline = host_.flow_now() + s.retry->delay_before(p_.attempts + 1);
    arm();
    return;
  }
  if (s.action == action_kind::send_to_fulfillment)
    host_.fulfillment_done(p_.sending, false);
  complete(s, step_outcome::failed, p_.attempts, p_.last_error,
           p_.last_error_code);
}

void path_runner::record(const step& s, step_outcome outcome, uint32_t attempts,
                         std::string error, errc code) {
  journal_entry e;
  e.kind = journal_kind::step_ended;
  e.at = host_.now();
  e.path = p_.seq;
  e.step = s.id;
  e.attempt = attempts;
  e.outcome = outcome;
  e.text = error;
  e.code = code;
  host_.journal(std::move(e));
  host_.step_ended(
    step_result{s.id, outcome, attempts, std::move(error), host_.now(), code});
}

void path_runner::complete(const step& s, step_outcome outcome,
                           uint32_t attempts, std::string error, errc code) {
  std::optional<path_state> at_step;
  if (outcome == step_outcome::failed)
    at_step = p_;
  record(s, outcome, attempts, std::move(error), code);
  p_.previous = outcome;
  p_.attempts = 0;
  p_.last_error.clear();
  p_.last_error_code = errc{};
  p_.sending.clear();
  p_.deadline = 0;
  ++p_.position;
  p_.phase = path_phase::ready;
  if (outcome != step_outcome::failed)
    return;
  // A failure is handled only by a condition right after the step.
  const auto& f = host_.model();
  const auto& seq = f.sequences[p_.seq].steps;
  bool routed = p_.position < seq.size() && !f.steps[seq[p_.position]].is_action
    && is_condition(f.steps[seq[p_.position]].element);
  if (!routed) {
    host_.path_failed(*at_step);
    end(true, false);
  }
}

bool path_runner::begin_element(const step& s) {
  const auto& f = host_.model();
  note(journal_kind::step_started, s);
  std::vector<path_state> children;
  p_.branches.clear();
  if (is_condition(s.element)) {
    const auto& side = s.branches[p_.previous == step_outcome::failed ? 1 : 0];
    if (!f.sequences[side.body].steps.empty()) {
      p_.branches.push_back({side.body, false, false});
      children.push_back(branch_start(side.body, p_.lines));
    }
  } else {
    for (const auto& b : s.branches) {
      const auto& first = f.steps[f.sequences[b.body].steps.front()];
      auto filtered = apply_filters(f, first, host_.the_order(), p_.lines);
      if (filtered.matched) {
        p_.branches.push_back({b.body, false, false});
        children.push_back(branch_start(b.body, std::move(filtered.lines)));
      } else {
        // An untaken branch is reached only as far as its first action.
        record(first, step_outcome::skipped, 0, {});
      }
    }
  }
  if (children.empty()) {
    complete(s, step_outcome::succeeded, 0, {});
    return true;
  }
  p_.phase = path_phase::branching;
  host_.start_branches(p_, std::move(children));
  return false;
}

void path_runner::on_reply(uint32_t token, const provider_reply& reply) {
  if (!awaits_answer(p_, token))
    return; // late answer to an attempt that already timed out
  const auto& s = current();
  journal_entry e;
  e.kind = journal_kind::provider_answered;
  e.at = host_.now();
  e.path = p_.seq;
  e.step = s.id;
  e.attempt = p_.attempts;
  e.ok = reply.ok;
  e.text = reply.error;
  if (!reply.ok)
    e.code = reply.code;
  e.fulfillment = reply.fulfillment;
  e.invoice_id = reply.invoice_id;
  host_.journal(std::move(e));
  if (!reply.ok) {
    attempt_failed(s, reply.code,
                   reply.error.empty() ? "the provider failed" : reply.error);
    run();
    return;
  }
  if (auto stray = line_out_of_scope(s, reply)) {
    attempt_failed(s, errc::protocol_error,
                   "the provider's answer names line " + quote(*stray)
                     + ", which is not among the lines sent to it");
    run();
    return;
  }
  switch (s.action) {
    case action_kind::send_to_dom:
      host_.add_fulfillment(reply.fulfillment);
      break;
    case action_kind::send_to_invoice:
      if (reply.invoice_id)
        host_.set_invoice(*reply.invoice_id);
      break;
    case action_kind::send_to_fulfillment:
      host_.fulfillment_done(p_.sending, true);
      break;
    default: break;
  }
  complete(s, step_outcome::succeeded, p_.attempts, {});
  run();
}

std::optional<std::string>
path_runner::line_out_of_scope(const step& s,
                               const provider_reply& reply) const {
  if (reply.fulfillment.empty())
    return std::nullopt;
  const auto& o = host_.the_order();
  auto scope = apply_filters(host_.model(), s, o, p_.lines).lines;
  for (const auto& group : reply.fulfillment)
    for (const auto& id : group.line_ids) {
      bool sent = std::any_of(scope.begin(), scope.end(),
                              [&](line_index i) { return o.line_id(i) == id; });
      if (!sent)
        return id;
    }
  return std::nullopt;
}

bool path_runner::awaits_timer(const path_state& p, uint32_t token) {
  switch (p.phase) {
    case path_phase::calling:
    case path_phase::backoff:
    case path_phase::waiting_event: return token == p.token;
    default: return false;
  }
}

bool path_runner::awaits_answer(const path_state& p, uint32_t token) {
  return p.phase == path_phase::calling && token == p.token;
}

void path_runner::on_timer(uint32_t token) {
  if (!awaits_timer(p_, token))
    return;
  switch (p_.phase) {
    case path_phase::calling: {
      const auto& s = current();
      note(journal_kind::timer_fired, s, "attempt timed out");
      attempt_failed(s, errc::provider_timeout,
                     "timed out after " + std::to_string(timeout_of(s))
                       + " ms");
      break;
    }
    case path_phase::backoff:
      if (!due())
        return;
      note(journal_kind::timer_fired, current(), "back-off over");
      p_.phase = path_phase::retry;
      p_.deadline = 0;
      break;
    case path_phase::waiting_event: {
      if (!due())
        return;
      const auto& s = current();
      note(journal_kind::timer_fired, s, "wait timed out");
      complete(s, step_outcome::failed, 0,
               "no " + fmt::format("{}", fmt::join(s.input_events, " or "))
                 + " event within " + std::to_string(s.wait_timeout_ms)
                 + " ms");
      break;
    }
    default: return;
  }
  run();
}

void path_runner::on_claimed(std::vector<fulfillment_order> orders) {
  if (p_.phase != path_phase::claiming)
    return;
  if (host_.cancelling() || host_.paused()) {
    // The claim came back across a boundary: give it back and stop there.
    std::vector<std::string> ids;
    for (const auto& fo : orders)
      ids.push_back(fo.id);
    if (!ids.empty())
      host_.fulfillment_done(ids, false);
    p_.phase = path_phase::ready;
    run();
    return;
  }
  if (begin_sending(current(), std::move(orders)))
    run();
}

void path_runner::on_branch_ended(sequence_id body, bool failed) {
  if (p_.phase != path_phase::branching)
    return;
  merge_barrier barrier{p_.branches};
  if (!barrier.branch_ended(body, failed) || !barrier.done())
    return;
  auto outcome = barrier.outcome();
  const auto& s = current();
  std::string error;
  if (outcome == step_outcome::failed) {
    std::vector<std::string> names;
    for (const auto& slot : p_.branches)
      if (slot.failed)
        for (const auto& b : s.branches)
          if (b.body == slot.body)
            names.push_back(quote(b.name));
    error = "failed branch: " + fmt::format("{}", fmt::join(names, ", "));
  }
  // The slots stay until the step is complete: a failed element's state at
  // its step, kept for redrive, must say which branches failed.
  complete(s, outcome, 0, std::move(error));
  p_.branches.clear();
  run();
}

void path_runner::on_event() {
  if (p_.phase != path_phase::waiting_event
      || !host_.has_event(current().input_events))
    return;
  p_.phase = path_phase::ready;
  p_.deadline = 0;
  ++p_.token;
  run();
}

void path_runner::on_resume() {
  if (host_.paused())
    return;
  if (p_.held) {
    run();
    return;
  }
  if ((p_.phase == path_phase::waiting_event || p_.phase == path_phase::backoff)
      && p_.deadline > 0)
    wait_until(p_.deadline);
}

bool path_runner::due() {
  if (host_.paused())
    return false; // the time left waits for the resume
  if (host_.flow_now() < p_.deadline) {
    // A pause came and went since the timer was set: the wait has the
    // time it had left.
    arm();
    return false;
  }
  return true;
}

void path_runner::arm() {
  if (host_.paused())
    return;
  auto left = p_.deadline - host_.flow_now();
  host_.start_timer(p_, left > 0 ? static_cast<uint32_t>(left) : 0);
}

void path_runner::on_cancel() {
  switch (p_.phase) {
    case path_phase::ready:
    case path_phase::retry:
    case path_phase::waiting_event:
    case path_phase::backoff: end(false, true); break;
    default:
      break; // calling / claiming end when they come back; branching when
             // its branches have ended
  }
}

void path_runner::wait_until(int64_t deadline) {
  ++p_.token;
  p_.deadline = deadline;
  if (host_.paused())
    return;
  if (deadline <= host_.flow_now()) {
    // Already over (the journey was away longer): act on it now rather than
    // through a timer that a passivating journey might not live to see.
    on_timer(p_.token);
    return;
  }
  arm();
}

void path_runner::on_signal(journal_kind signal) {
  switch (signal) {
    case journal_kind::event_received: on_event(); break;
    case journal_kind::cancel_requested: on_cancel(); break;
    case journal_kind::unpaused: on_resume(); break;
    default: break;
  }
}

void path_runner::on_restore() {
  if (host_.cancelling()) {
    on_cancel();
    if (p_.phase == path_phase::ended)
      return;
  }
  switch (p_.phase) {
    case path_phase::ready:
    case path_phase::retry: run(); break;
    case path_phase::waiting_event:
      if (host_.has_event(current().input_events))
        on_event();
      else if (p_.deadline > 0)
        wait_until(p_.deadline);
      break;
    case path_phase::backoff: wait_until(p_.deadline); break;
    case path_phase::calling: {
      // The answer was lost with the process: ask again, same attempt and
      // same idempotency key.
      const auto& s = current();
      ++p_.token;
      auto filtered =
        apply_filters(host_.model(), s, host_.the_order(), p_.lines);
      host_.call_provider(p_, s, filtered.lines);
      host_.start_timer(p_, timeout_of(s));
      break;
    }
    case path_phase::claiming:
      p_.phase = path_phase::ready;
      run();
      break;
    case path_phase::branching: {
      // Branches that had not reported before the save start again from
      // their start states, as begin_element made them.
      std::vector<const path_state*> saved;
      std::vector<path_state> fresh;
      for (const auto& slot : p_.branches) {
        if (slot.ended)
          continue;
        if (const auto* state = host_.saved_branch(slot.body))
          saved.push_back(state);
        else
          fresh.push_back(fresh_branch(slot.body));
      }
      host_.restart_branches(p_, std::move(saved), std::move(fresh));
      break;
    }
    case path_phase::ended: break;
  }
}

} // namespace orca
