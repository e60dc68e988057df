#include "actors/journey_book.hpp"

#include <algorithm>

#include "actors/path_runner.hpp"

namespace orca {

journey_book::journey_book(const flow& model, journey_snapshot snap)
    : model_(&model), snap_(std::move(snap)), lifecycle_(snap_.state) {
  if (!snap_.paths.empty()) {
    top_at_start_ = std::move(snap_.paths.front());
    for (std::size_t i = 1; i < snap_.paths.size(); ++i)
      branches_[snap_.paths[i].seq] = std::move(snap_.paths[i]);
  }
  snap_.paths.clear();
  for_each_path(top_at_start_, [this](const path_state& p) {
    for (const auto& id : p.sending)
      claims_[id] = p.seq;
  });
}

path_state* journey_book::branch(sequence_id seq) {
  auto it = branches_.find(seq);
  return it == branches_.end() ? nullptr : &it->second;
}

void journey_book::step_ended(step_result result) {
  snap_.steps.push_back(std::move(result));
}

void journey_book::path_failed(const path_state& at_step) {
  snap_.failed_paths.push_back(at_step);
}

void journey_book::add_fulfillment(std::vector<source_group> groups) {
  for (auto& g : groups) {
    fulfillment_order fo;
    fo.id = snap_.order_id + "-FO"
      + std::to_string(snap_.fulfillment_orders.size() + 1);
    fo.source = std::move(g.source);
    fo.lines = std::move(g.line_ids);
    snap_.fulfillment_orders.push_back(std::move(fo));
  }
}

std::vector<fulfillment_order>
journey_book::claim(sequence_id seq, const std::vector<std::string>& scope) {
  std::vector<fulfillment_order> result;
  for (const auto& fo : snap_.fulfillment_orders)
    if (!fo.sent && claims_.count(fo.id) == 0 && fo.within(scope)) {
      claims_[fo.id] = seq;
      result.push_back(fo);
    }
  return result;
}

void journey_book::fulfillment_done(const std::vector<std::string>& ids,
                                    bool sent) {
  for (const auto& id : ids) {
    claims_.erase(id);
    if (!sent)
      continue;
    for (auto& fo : snap_.fulfillment_orders)
      if (fo.id == id)
        fo.sent = true;
  }
}

void journey_book::set_invoice(std::string id) {
  snap_.invoice_id = std::move(id);
}

std::vector<fulfillment_order>
journey_book::orders(const std::vector<std::string>& ids) const {
  std::vector<fulfillment_order> result;
  for (const auto& fo : snap_.fulfillment_orders)
    if (std::find(ids.begin(), ids.end(), fo.id) != ids.end())
      result.push_back(fo);
  return result;
}

bool journey_book::add_branch(path_state start) {
  auto seq = start.seq;
  return branches_.emplace(seq, std::move(start)).second;
}

void journey_book::branch_moved(path_state p) {
  auto seq = p.seq;
  branches_[seq] = std::move(p);
}

void journey_book::begin(bool paused) {
  lifecycle_.fire(paused ? lifecycle_event::hold : lifecycle_event::start);
  snap_.state = lifecycle_.state();
}

bool journey_book::started(const path_state& top) const {
  return started_a_step(!snap_.steps.empty(), top, !branches_.empty());
}

std::optional<int64_t>
journey_book::wake_at(const path_state& top,
                      const std::vector<std::string>& events) const {
  std::vector<path_state> paths;
  for_each_path(top, [&](const path_state& p) { paths.push_back(p); });
  return sleep_until(*model_, paths, events);
}

const path_state* journey_book::parent_of(const path_state& top,
                                          sequence_id seq) const {
  auto parent_seq = model_->parent_of(seq);
  if (parent_seq == top.seq)
    return &top;
  auto it = branches_.find(parent_seq);
  return it == branches_.end() ? nullptr : &it->second;
}

void journey_book::forget_joined_branches(const path_state& top) {
  // Until its parent's merge barrier has counted an ended branch, a restart
  // must still be able to tell the parent.
  for (auto it = branches_.begin(); it != branches_.end();) {
    bool joined = false;
    if (it->second.phase == path_phase::ended) {
      if (it->second.cancelled)
        snap_.cut_by_cancel = true;
      const auto* parent = parent_of(top, it->first);
      joined = true;
      if (parent != nullptr && parent->phase == path_phase::branching)
        for (const auto& slot : parent->branches)
          if (slot.body == it->first && !slot.ended)
            joined = false;
    }
    it = joined ? branches_.erase(it) : std::next(it);
  }
}

journey_book::settled journey_book::settle(const path_state& top, bool paused) {
  forget_joined_branches(top);
  if (is_terminal(snap_.state))
    return settled::nothing_new;
  auto before = lifecycle_.state();
  if (top.phase == path_phase::ended) {
    finish(top);
  } else {
    bool active = false;
    bool held = false;
    bool waiting = false;
    for_each_path(top, [&](const path_state& p) {
      switch (p.phase) {
        case path_phase::ready:
        case path_phase::retry: (p.held ? held : active) = true; break;
        case path_phase::waiting_event: waiting = true; break;
        case path_phase::backoff:
          // A back-off stands still while the flow is paused.
          (paused ? held : active) = true;
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
  return snap_.state == before ? settled::same_state : settled::new_state;
}

void journey_book::to(lifecycle_event e) {
  if (lifecycle_.state() == journey_state::received)
    lifecycle_.fire(e == lifecycle_event::hold ? lifecycle_event::hold
                                               : lifecycle_event::start);
  lifecycle_.fire(e);
}

void journey_book::finish(const path_state& top) {
  if (top.cancelled || snap_.cut_by_cancel) {
    lifecycle_.fire(lifecycle_event::cancel);
    return;
  }
  if (top.failed) {
    lifecycle_.fire(lifecycle_event::fail);
    return;
  }
  bool action_ran = false;
  for (const auto& result : snap_.steps)
    if (model_->steps[result.step].is_action
        && result.outcome != step_outcome::skipped)
      action_ran = true;
  to(lifecycle_event::work);
  lifecycle_.fire(action_ran ? lifecycle_event::complete
                             : lifecycle_event::skip);
}

journey_snapshot& journey_book::with_paths(const path_state& top) {
  if (!is_terminal(snap_.state) || snap_.state == journey_state::failed) {
    snap_.paths.reserve(branches_.size() + 1);
    for_each_path(top,
                  [this](const path_state& p) { snap_.paths.push_back(p); });
  }
  return snap_;
}

void journey_book::drop_paths() {
  snap_.paths.clear();
}

} // namespace orca
