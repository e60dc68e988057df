#include "flows/flow.hpp"

#include <algorithm>

namespace orca {

const char* to_string(action_kind kind) {
  switch (kind) {
    case action_kind::validate_order_header: return "validate_order_header";
    case action_kind::validate_order_line: return "validate_order_line";
    case action_kind::send_to_dom: return "send_to_dom";
    case action_kind::assign_fulfillment_source:
      return "assign_fulfillment_source";
    case action_kind::send_to_fulfillment: return "send_to_fulfillment";
    case action_kind::send_to_fulfillment_fno: return "send_to_fulfillment_fno";
    case action_kind::send_to_invoice: return "send_to_invoice";
    case action_kind::custom: return "custom";
  }
  return "?";
}

const char* to_string(element_kind kind) {
  switch (kind) {
    case element_kind::condition: return "condition";
    case element_kind::condition_merge: return "condition_merge";
    case element_kind::splitter: return "splitter";
    case element_kind::splitter_merge: return "splitter_merge";
  }
  return "?";
}

const char* to_string(policy_scope scope) {
  return scope == policy_scope::header ? "header" : "line";
}

const char* to_string(execution_kind kind) {
  switch (kind) {
    case execution_kind::header_validation: return "header_validation";
    case execution_kind::line_validation: return "line_validation";
    case execution_kind::fulfillment_source: return "fulfillment_source";
  }
  return "?";
}

const char* provider_role(action_kind kind) {
  switch (kind) {
    case action_kind::send_to_dom: return "dom";
    case action_kind::send_to_fulfillment: return "fulfillment";
    case action_kind::send_to_fulfillment_fno: return "fno";
    case action_kind::send_to_invoice: return "billing";
    default: return "";
  }
}

bool uses_provider(action_kind kind) {
  switch (kind) {
    case action_kind::validate_order_header:
    case action_kind::validate_order_line:
    case action_kind::assign_fulfillment_source: return false;
    default: return true;
  }
}

bool is_merge(element_kind kind) {
  return kind == element_kind::condition_merge
    || kind == element_kind::splitter_merge;
}

bool is_condition(element_kind kind) {
  return kind == element_kind::condition
    || kind == element_kind::condition_merge;
}

uint32_t retry_policy::delay_before(uint32_t next_attempt) const {
  uint64_t delay = backoff_ms;
  for (uint32_t i = 2; i < next_attempt && delay < max_backoff_ms; ++i)
    delay *= 2;
  return static_cast<uint32_t>(std::min<uint64_t>(delay, max_backoff_ms));
}

const char* step::kind_name() const {
  return is_action ? to_string(action) : to_string(element);
}

step_id flow::next_in_sequence(step_id id) const {
  const auto& s = steps[id];
  const auto& seq = sequences[s.sequence];
  auto next = static_cast<std::size_t>(s.position) + 1;
  return next < seq.steps.size() ? seq.steps[next] : no_step;
}

const step* flow::find_step(std::string_view step_name) const {
  for (const auto& s : steps)
    if (s.name == step_name)
      return &s;
  return nullptr;
}

std::vector<std::string> flow::provider_ids() const {
  std::vector<std::string> result;
  for (const auto& s : steps)
    if (s.is_action && !s.provider.empty()
        && std::find(result.begin(), result.end(), s.provider) == result.end())
      result.push_back(s.provider);
  return result;
}

diagnostics check_providers(const flow& f,
                            const std::vector<std::string>& registered) {
  diagnostics result;
  for (const auto& s : f.steps) {
    if (!s.is_action || s.provider.empty())
      continue;
    if (std::find(registered.begin(), registered.end(), s.provider)
        == registered.end()) {
      auto path = f.sequences[s.sequence].path;
      result.add(
        "step " + quote(s.name) + (path.empty() ? "" : " in " + quote(path)),
        "provider " + quote(s.provider) + " is not registered on this node");
    }
  }
  return result;
}

} // namespace orca
