#include "flows/policies.hpp"

namespace orca {

filter_result apply_filters(const flow& f, const step& s, const order& o,
                            const line_set& lines) {
  filter_result result;
  result.lines = lines;
  bool line_scoped = false;
  for (auto index : s.filters) {
    const auto& policy = f.filters[index];
    if (policy.scope == policy_scope::header) {
      if (!evaluate(policy.when, o.header())) {
        result.matched = false;
        result.lines.clear();
        return result;
      }
    } else {
      line_scoped = true;
      line_set kept;
      for (auto line : result.lines)
        if (evaluate(policy.when, o.line(line)))
          kept.push_back(line);
      result.lines = std::move(kept);
    }
  }
  if (line_scoped && result.lines.empty())
    result.matched = false;
  return result;
}

std::vector<std::string> run_validation(const flow& f, const step& s,
                                        const order& o, const line_set& lines) {
  std::vector<std::string> failures;
  for (auto index : s.executions) {
    const auto& policy = f.executions[index];
    if (policy.kind == execution_kind::header_validation) {
      for (const auto& rule : policy.rules)
        if (!evaluate(rule.when, o.header()))
          failures.push_back(rule.message);
    } else if (policy.kind == execution_kind::line_validation) {
      for (auto line : lines)
        for (const auto& rule : policy.rules)
          if (!evaluate(rule.when, o.line(line)))
            failures.push_back("line " + quote(o.line_id(line)) + ": "
                               + rule.message);
    }
  }
  return failures;
}

caf::expected<std::vector<source_group>> assign_sources(const flow& f,
                                                        const step& s,
                                                        const order& o,
                                                        const line_set& lines) {
  // REQUIRES: the flow was validated, so `s` has exactly one
  // fulfillment_source policy.
  const auto& policy = f.executions[s.executions.front()];
  std::vector<source_group> groups;
  std::string unassigned;
  for (auto line : lines) {
    const std::string* source = nullptr;
    for (const auto& rule : policy.sources)
      if (evaluate(rule.when, o.line(line))) {
        source = &rule.source;
        break;
      }
    if (source == nullptr && policy.default_source)
      source = &*policy.default_source;
    if (source == nullptr) {
      if (!unassigned.empty())
        unassigned += ", ";
      unassigned += quote(o.line_id(line));
      continue;
    }
    auto group = groups.begin();
    while (group != groups.end() && group->source != *source)
      ++group;
    if (group == groups.end()) {
      groups.push_back({*source, {}});
      group = groups.end() - 1;
    }
    group->line_ids.emplace_back(o.line_id(line));
  }
  if (!unassigned.empty())
    return make_error(errc::invalid_order,
                      "no fulfillment source for line(s) " + unassigned
                        + " (no rule of " + quote(policy.name)
                        + " matched and it has no default_source)");
  return groups;
}

} // namespace orca
