#include "flows/flow_text.hpp"

namespace orca {

namespace {

std::string join_names(const std::vector<std::string>& names) {
  std::string result;
  for (const auto& name : names) {
    if (!result.empty())
      result += ", ";
    result += name;
  }
  return result;
}

void render_sequence(const flow& f, sequence_id seq, const std::string& indent,
                     std::string& out) {
  const auto& steps = f.sequences[seq].steps;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const auto& s = f.steps[steps[i]];
    bool last = i + 1 == steps.size();
    out += indent + (last ? "└── " : "├── ") + s.name + ": " + s.kind_name();
    if (s.is_action && !s.provider.empty())
      out += " → " + s.provider;
    auto settings = describe_settings(f, s);
    if (!settings.empty())
      out += "  [" + settings + "]";
    out += '\n';
    std::string child_indent = indent + (last ? "    " : "│   ");
    for (std::size_t b = 0; b < s.branches.size(); ++b) {
      bool last_branch = b + 1 == s.branches.size();
      const auto& br = s.branches[b];
      out += child_indent + (last_branch ? "└── " : "├── ") + br.name;
      if (f.sequences[br.body].steps.empty())
        out += " (no steps)";
      out += '\n';
      render_sequence(f, br.body,
                      child_indent + (last_branch ? "    " : "│   "), out);
    }
  }
}

} // namespace

std::string describe_settings(const flow& f, const step& s) {
  if (!s.is_action)
    return {};
  std::vector<std::string> parts;
  if (!s.filters.empty()) {
    std::vector<std::string> names;
    for (auto i : s.filters)
      names.push_back(f.filters[i].name);
    parts.push_back("filters: " + join_names(names));
  }
  if (!s.executions.empty()) {
    std::vector<std::string> names;
    for (auto i : s.executions)
      names.push_back(f.executions[i].name);
    parts.push_back("execution: " + join_names(names));
  }
  if (!s.input_events.empty()) {
    std::string waits = "waits for: " + join_names(s.input_events);
    if (s.wait_timeout_ms > 0)
      waits += " (at most " + std::to_string(s.wait_timeout_ms) + " ms)";
    parts.push_back(waits);
  }
  if (s.retry)
    parts.push_back("retry: " + std::to_string(s.retry->max_attempts)
                    + " attempts, backoff "
                    + std::to_string(s.retry->backoff_ms) + " ms up to "
                    + std::to_string(s.retry->max_backoff_ms) + " ms");
  if (s.timeout_ms > 0)
    parts.push_back("timeout: " + std::to_string(s.timeout_ms) + " ms");
  std::string result;
  for (const auto& part : parts) {
    if (!result.empty())
      result += "; ";
    result += part;
  }
  return result;
}

std::string render_tree(const flow& f) {
  std::string out = f.name + " (" + f.type + " flow, "
    + std::to_string(f.steps.size()) + " steps)\n";
  if (!f.description.empty())
    out += f.description + "\n";
  render_sequence(f, top_sequence, "", out);
  return out;
}

} // namespace orca
