#include "actors/path_actor.hpp"

#include <algorithm>
#include <chrono>

#include <caf/all.hpp>

#include "flows/errc.hpp"
#include "flows/json.hpp"

#include "actors/branch.hpp"

namespace orca {

namespace {

/// What a timer or an answer sent to itself carries: the path's token, and
/// which path it is for above it (below save_timer_token's bit).
uint64_t path_token(const path_state& p) {
  return uint64_t{p.token} | uint64_t{p.seq} << 32;
}

sequence_id path_of(uint64_t token) {
  return static_cast<sequence_id>(token >> 32);
}

} // namespace

std::string journey_identity::idempotency_key(const std::string& step) const {
  // Made for every provider call: built in place, in one allocation.
  auto number = std::to_string(version);
  std::string key;
  key.reserve(order_id.size() + flow.size() + number.size() + step.size() + 16);
  key.append(order_id).append(1, '/').append(flow).append(1, '/');
  key.append(number).append(1, '/').append(step);
  if (run > 0)
    key.append("/r").append(std::to_string(run));
  return key;
}

path_actor::path_actor(caf::actor_config& cfg, path_context context,
                       path_state path)
    : caf::event_based_actor(cfg), ctx_(std::move(context)),
      path_(std::move(path)) {
  // A broken invariant (an impossible lifecycle move, for one) ends this
  // actor with its text as the reason: its journey is recorded as failed
  // with it, and the node goes on.
  set_exception_handler([](std::exception_ptr& thrown) -> caf::error {
    try {
      std::rethrow_exception(thrown);
    } catch (const std::exception& e) {
      return make_error(errc::broken_invariant, e.what());
    } catch (...) {
      return make_error(errc::broken_invariant, "an unknown exception");
    }
  });
}

void path_actor::on_exit() {
  // A pending timer would keep what is left of this actor until it fires.
  ctx_.services->time->cancel(timer_);
  timer_ = 0;
  children_.clear();
  ctx_.journey = nullptr;
  ctx_.restored.clear();
  ctx_.sending.clear();
}

const flow& path_actor::model() const {
  return *ctx_.model;
}

const order& path_actor::the_order() const {
  return *ctx_.the_order;
}

int64_t path_actor::now() const {
  return ctx_.services->time->now_ms();
}

int64_t path_actor::flow_now() const {
  return ctx_.flow_time->at(now());
}

bool path_actor::has_event(const std::vector<std::string>& types) const {
  return holds_event(ctx_.signals.events, types);
}

bool path_actor::paused() const {
  return ctx_.signals.paused;
}

bool path_actor::cancelling() const {
  return ctx_.signals.cancelling;
}

uint32_t path_actor::default_timeout_ms() const {
  return ctx_.services->default_timeout_ms;
}

void path_actor::call_provider(const path_state& p, const step& s,
                               const line_set& lines) {
  provider_request req;
  req.idempotency_key = ctx_.identity.idempotency_key(s.name);
  req.provider = s.provider;
  req.action = s.action;
  req.flow = ctx_.identity.flow;
  req.version = ctx_.identity.version;
  req.step = s.name;
  req.attempt = p.attempts;
  req.order = with_lines(ctx_.the_order, lines);
  req.line_ids.reserve(lines.size());
  for (auto line : lines)
    req.line_ids.emplace_back(ctx_.the_order->line_id(line));
  if (s.action == action_kind::send_to_fulfillment)
    req.fulfillment_orders = orders_for(p.sending);
  journal_entry called;
  called.kind = journal_kind::provider_called;
  called.at = now();
  called.path = p.seq;
  called.step = s.id;
  called.attempt = p.attempts;
  called.text = s.provider;
  called.key = req.idempotency_key;
  journal(std::move(called));
  auto token = path_token(p);
  auto adapter = ctx_.services->providers.find(s.provider);
  if (!adapter) {
    // The provider was registered when the flow was published but is not
    // (any more) on this node: an attempt that fails, like any other.
    send(caf::actor_cast<caf::actor>(this),
         provider_reply::failure("provider " + orca::quote(s.provider)
                                   + " is not registered on this node",
                                 errc::node_unreachable),
         token);
    return;
  }
  auto sent = std::chrono::steady_clock::now();
  request(adapter, caf::infinite, std::move(req))
    .then(
      [this, token, sent, provider = s.provider](provider_reply& reply) {
        if (auto* observer = ctx_.services->observer)
          observer->provider_answered(provider,
                                      std::chrono::duration<double>(
                                        std::chrono::steady_clock::now() - sent)
                                        .count(),
                                      reply.ok);
        answered(token, reply);
      },
      [this, token](caf::error& err) {
        // A provider that stopped with the node: not a failed attempt. The
        // call is made again from the journey's snapshot next time.
        if (quit_if_stopping())
          return;
        answered(
          token,
          provider_reply::failure("provider unreachable: " + describe(err),
                                  errc::node_unreachable));
      });
}

path_state* path_actor::awaiting(uint64_t token,
                                 bool (*expects)(const path_state&, uint32_t)) {
  auto* p = hosted(path_of(token));
  return p != nullptr && expects(*p, static_cast<uint32_t>(token)) ? p
                                                                   : nullptr;
}

void path_actor::answered(uint64_t token, const provider_reply& reply) {
  // A late answer, to an attempt that timed out, changes nothing.
  if (auto* p = awaiting(token, path_runner::awaits_answer)) {
    path_runner{*this, *p}.on_reply(static_cast<uint32_t>(token), reply);
    changed();
  }
}

void path_actor::start_timer(const path_state& p, uint32_t delay_ms) {
  // Of the paths an actor runs, one at a time sets timers: a new timer
  // makes the last moot.
  ctx_.services->time->cancel(timer_);
  timer_ = ctx_.services->time->schedule(
    delay_ms, caf::actor_cast<caf::actor>(this), path_token(p));
}

path_state* path_actor::hosted(sequence_id seq) {
  if (seq == path_.seq)
    return &path_;
  if (std::find(sides_.begin(), sides_.end(), seq) == sides_.end())
    return nullptr;
  return side_state(seq);
}

void path_actor::branch_ended(sequence_id body, bool failed) {
  if (auto* owner = hosted(ctx_.model->parent_of(body)))
    path_runner{*this, *owner}.on_branch_ended(body, failed);
}

bool path_actor::at_condition(const path_state& p) const {
  const auto& f = *ctx_.model;
  return is_condition(f.steps[f.sequences[p.seq].steps[p.position]].element);
}

void path_actor::take_side(path_state start) {
  auto seq = start.seq;
  keep_side(std::move(start));
  sides_.push_back(seq);
  to_run_.push_back(seq);
}

void path_actor::run_sides() {
  for (;;) {
    if (!to_run_.empty()) {
      auto seq = to_run_.front();
      to_run_.erase(to_run_.begin());
      // A new side starts as a restored one does (see branch.cpp).
      if (auto* p = hosted(seq))
        path_runner{*this, *p}.on_restore();
      continue;
    }
    auto ended = std::find_if(sides_.begin(), sides_.end(), [this](auto seq) {
      const auto* p = side_state(seq);
      return p == nullptr || p->phase == path_phase::ended;
    });
    if (ended == sides_.end())
      return;
    auto seq = *ended;
    sides_.erase(ended);
    if (const auto* p = side_state(seq)) {
      auto failed = p->failed;
      side_ended(*p);
      branch_ended(seq, failed);
    }
  }
}

caf::actor path_actor::spawn_child(path_state start) {
  auto seq = start.seq;
  auto context = ctx_;
  context.heard = heard();
  auto child = spawn_branch(this, std::move(context), std::move(start));
  children_[seq] = child;
  return child;
}

// The journey hears of new branches before the branches can send it
// anything: a branch that reported (even ended) before its parent announced
// it would be taken for one that already joined, then brought back as a
// branch that never runs, and the journey would stay running for good.
void path_actor::start_branches(const path_state& p,
                                std::vector<path_state> children) {
  if (at_condition(p)) {
    for (auto& child : children)
      take_side(std::move(child));
    return;
  }
  branches_started(children);
  for (const auto& child : children)
    spawn_child(child);
}

const path_state* path_actor::saved_branch(sequence_id body) const {
  auto found = ctx_.restored.find(body);
  return found != ctx_.restored.end() ? &found->second : nullptr;
}

void path_actor::restart_branches(const path_state& p,
                                  std::vector<const path_state*> saved,
                                  std::vector<path_state> fresh) {
  if (at_condition(p)) {
    for (const auto* side : saved)
      take_side(*side);
    for (auto& side : fresh)
      take_side(std::move(side));
    return;
  }
  // The journey hears of fresh branches first, as of new ones.
  if (!fresh.empty())
    branches_started(fresh);
  for (const auto* child : saved)
    spawn_child(*child);
  for (auto& child : fresh)
    spawn_child(std::move(child));
}

void path_actor::tell_children(const caf::message& msg) {
  for (const auto& kv : children_)
    send(kv.second, msg);
  if (!children_.empty())
    children_told();
}

bool path_actor::quit_if_stopping() {
  if (!ctx_.services->stopping)
    return false;
  quit(caf::exit_reason::user_shutdown);
  return true;
}

void path_actor::signalled(journal_kind signal, const std::string& type,
                           const caf::message& forward) {
  if (ctx_.signals.take(signal, type))
    control_received(signal, type);
  tell_children(forward);
  runner().on_signal(signal);
  // A copy: a side the signal moves on may reach a condition and add one.
  auto sides = sides_;
  for (auto seq : sides)
    if (auto* p = hosted(seq))
      path_runner{*this, *p}.on_signal(signal);
  changed();
}

caf::message_handler path_actor::path_handlers() {
  return {
    [this](event_atom, const std::string& type) {
      ++received_;
      signalled(journal_kind::event_received, type,
                caf::make_message(event_atom::value, type));
    },
    [this](cancel_atom) {
      ++received_;
      signalled(journal_kind::cancel_requested, {},
                caf::make_message(cancel_atom::value));
    },
    [this](pause_atom) {
      ++received_;
      signalled(journal_kind::paused, {}, caf::make_message(pause_atom::value));
    },
    [this](resume_atom) {
      ++received_;
      signalled(journal_kind::unpaused, {},
                caf::make_message(resume_atom::value));
    },
    [this](timer_atom, uint64_t token) {
      if (token == save_timer_token) {
        save_timer_fired();
        return;
      }
      // A timer of what a path no longer waits for (a call answered in
      // time) changes nothing.
      if (auto* p = awaiting(token, path_runner::awaits_timer)) {
        path_runner{*this, *p}.on_timer(static_cast<uint32_t>(token));
        changed();
      }
    },
    [this](branch_done_atom, sequence_id body, bool failed) {
      children_.erase(body);
      branch_ended(body, failed);
      changed();
    },
    [this](provider_reply& reply, uint64_t token) { answered(token, reply); },
  };
}

} // namespace orca
