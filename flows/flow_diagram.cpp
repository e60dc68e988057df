#include "flows/flow_diagram.hpp"

#include <utility>
#include <vector>

#include <fmt/format.h>

namespace orca {

namespace {

enum class node_shape : uint8_t {
  terminal,
  action,
  condition,
  splitter,
  merge
};

// A step, merge point or terminal, with the id both formats use for it.
struct diagram_node {
  std::string id;
  std::string label; ///< raw text, '\n' between lines
  node_shape shape = node_shape::action;
};

// An arrow between two node ids, labelled with a branch name and filters.
struct diagram_edge {
  std::string from;
  std::string to;
  std::string label; ///< raw text, may be empty
};

// The picture without its syntax, so that both formats draw exactly the same
// nodes and edges in the same order.
struct diagram {
  std::vector<diagram_node> nodes;
  std::vector<diagram_edge> edges;
};

// An edge whose source is known but whose target is whatever runs next: the
// end of a path. It carries a label when the path is an empty branch, so the
// branch name still shows on the edge that skips it.
struct open_end {
  std::string from;
  std::string label;
};

using open_ends = std::vector<open_end>;

// `channel ne "b2b"` reads better in parentheses after a policy name, but
// all / any already come parenthesised from to_text.
std::string predicate_in_parens(const predicate& p) {
  auto text = to_text(p);
  if (p.type == predicate::kind::all || p.type == predicate::kind::any)
    return text;
  return "(" + text + ")";
}

// Walks the flow's sequences in execution order and collects nodes and
// edges. Used once per render_diagram call, on the caller's thread.
class diagram_builder {
public:
  explicit diagram_builder(const flow& f) : flow_(f) {
  }

  diagram build() && {
    diagram_.nodes.push_back({"start", "start", node_shape::terminal});
    auto ends = add_sequence(top_sequence, {{"start", ""}});
    diagram_.nodes.push_back({"finish", "end", node_shape::terminal});
    connect(ends, "finish", "");
    return std::move(diagram_);
  }

private:
  // Adds the steps of `seq`, the first one reached from `ends`; returns the
  // ends of the sequence (`ends` itself if it has no steps).
  open_ends add_sequence(sequence_id seq, open_ends ends) {
    for (auto id : flow_.sequences[seq].steps)
      ends = add_step(flow_.steps[id], ends);
    return ends;
  }

  open_ends add_step(const step& s, const open_ends& ends) {
    auto id = "s" + std::to_string(s.id);
    diagram_.nodes.push_back({id, step_label(s), shape_of(s)});
    connect(ends, id, s.is_action ? filter_text(s) : std::string{});
    if (s.is_action)
      return {{id, ""}};
    if (!is_merge(s.element)) {
      // A plain condition or splitter is the last step of its sequence
      // (SPEC §2.1), so its branches end where the enclosing path ends.
      open_ends result;
      for (const auto& br : s.branches) {
        auto branch_ends = add_sequence(br.body, {{id, br.name}});
        result.insert(result.end(), branch_ends.begin(), branch_ends.end());
      }
      return result;
    }
    // Each branch joins the merge right after it, so edges stay in the
    // order a reader follows them.
    auto merge = "m" + std::to_string(s.id);
    for (const auto& br : s.branches)
      connect(add_sequence(br.body, {{id, br.name}}), merge, "");
    diagram_.nodes.push_back({merge, "merge: " + s.name, node_shape::merge});
    return {{merge, ""}};
  }

  void connect(const open_ends& ends, const std::string& to,
               const std::string& filters) {
    for (const auto& end : ends) {
      auto label = end.label;
      if (!label.empty() && !filters.empty())
        label += ": ";
      label += filters;
      diagram_.edges.push_back({end.from, to, std::move(label)});
    }
  }

  static node_shape shape_of(const step& s) {
    if (s.is_action)
      return node_shape::action;
    return is_condition(s.element) ? node_shape::condition
                                   : node_shape::splitter;
  }

  static std::string step_label(const step& s) {
    std::string label = s.name + "\n" + s.kind_name();
    if (!s.is_action)
      return label;
    if (!s.provider.empty())
      label += " → " + s.provider;
    if (!s.input_events.empty())
      label +=
        "\nwaits for " + fmt::format("{}", fmt::join(s.input_events, ", "));
    if (s.max_attempts() > 1)
      label += "\nup to " + std::to_string(s.max_attempts()) + " attempts";
    return label;
  }

  // `Retail (channel ne "b2b"), Physical lines [line] (kind ne "gift_card")`,
  // or "" for an action without filter policies.
  std::string filter_text(const step& s) const {
    std::vector<std::string> parts;
    for (auto i : s.filters) {
      const auto& policy = flow_.filters[i];
      auto part = policy.name;
      if (policy.scope == policy_scope::line)
        part += " [line]";
      parts.push_back(part + " " + predicate_in_parens(policy.when));
    }
    return fmt::format("{}", fmt::join(parts, ", "));
  }

  const flow& flow_;
  diagram diagram_;
};

// Text inside a DOT double-quoted string. Only `"` and `\` need escaping;
// `\n` is DOT's centred line break.
std::string dot_quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// Text inside a Mermaid "..." label. Mermaid has no backslash escapes; it
// turns `#name;` / `#code;` into HTML entities, and labels are rendered as
// HTML, so markup characters are written as entities too. A leading
// backquote would make the label Markdown, hence #96;.
std::string mermaid_quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"': out += "#quot;"; break;
      case '#': out += "#35;"; break;
      case '&': out += "#amp;"; break;
      case '<': out += "#lt;"; break;
      case '>': out += "#gt;"; break;
      case '`': out += "#96;"; break;
      case '\n': out += "<br/>"; break;
      default: out += static_cast<unsigned char>(c) < 0x20 ? ' ' : c;
    }
  }
  return out + "\"";
}

const char* dot_shape(node_shape shape) {
  switch (shape) {
    case node_shape::terminal: return "oval";
    case node_shape::action: return "box";
    case node_shape::condition: return "diamond";
    case node_shape::splitter: return "hexagon";
    case node_shape::merge: return "circle";
  }
  return "box";
}

std::string render_dot(const flow& f, const diagram& d) {
  std::string out = "digraph " + dot_quoted(f.name) + " {\n";
  out += "  rankdir=TB;\n";
  for (const auto& n : d.nodes)
    out += "  " + n.id + " [label=" + dot_quoted(n.label)
      + ", shape=" + dot_shape(n.shape) + "];\n";
  for (const auto& e : d.edges) {
    out += "  " + e.from + " -> " + e.to;
    if (!e.label.empty())
      out += " [label=" + dot_quoted(e.label) + "]";
    out += ";\n";
  }
  return out + "}\n";
}

// Opening and closing brackets of a Mermaid node shape.
std::pair<const char*, const char*> mermaid_brackets(node_shape shape) {
  switch (shape) {
    case node_shape::terminal: return {"([", "])"};
    case node_shape::action: return {"[", "]"};
    case node_shape::condition: return {"{", "}"};
    case node_shape::splitter: return {"{{", "}}"};
    case node_shape::merge: return {"((", "))"};
  }
  return {"[", "]"};
}

std::string render_mermaid(const diagram& d) {
  std::string out = "flowchart TD\n";
  for (const auto& n : d.nodes) {
    auto [open, close] = mermaid_brackets(n.shape);
    out += "    " + n.id + open + mermaid_quoted(n.label) + close + "\n";
  }
  for (const auto& e : d.edges) {
    out += "    " + e.from + " -->";
    if (!e.label.empty())
      out += "|" + mermaid_quoted(e.label) + "|";
    out += " " + e.to + "\n";
  }
  return out;
}

} // namespace

std::optional<diagram_format> diagram_format_from(std::string_view name) {
  if (name == "dot")
    return diagram_format::dot;
  if (name == "mermaid")
    return diagram_format::mermaid;
  return std::nullopt;
}

std::string render_diagram(const flow& f, diagram_format format) {
  auto d = diagram_builder{f}.build();
  switch (format) {
    case diagram_format::dot: return render_dot(f, d);
    case diagram_format::mermaid: return render_mermaid(d);
  }
  return {};
}

} // namespace orca
