#include <catch2/catch.hpp>

#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "flows/flow.hpp"
#include "flows/flow_diagram.hpp"
#include "flows/flow_svg.hpp"
#include "support/files.hpp"

using namespace orca;

namespace {

// The tests read the rendered text back into nodes and edges, so that they
// check the picture's structure rather than search for substrings. Every
// line of the output must be understood by the reader, which also checks
// the syntax.

struct drawn_node {
  std::string shape; ///< DOT's name for it; Mermaid brackets are mapped
  std::vector<std::string> lines;

  bool operator==(const drawn_node& other) const {
    return shape == other.shape && lines == other.lines;
  }
};

struct drawn_edge {
  std::string from;
  std::string to;
  std::string label;

  bool operator==(const drawn_edge& other) const {
    return from == other.from && to == other.to && label == other.label;
  }
};

std::ostream& operator<<(std::ostream& out, const drawn_edge& e) {
  return out << e.from << " -> " << e.to << " [" << e.label << "]";
}

struct picture {
  std::map<std::string, drawn_node> nodes;
  std::vector<drawn_edge> edges;

  std::vector<drawn_edge> edges_from(const std::string& id) const {
    std::vector<drawn_edge> result;
    for (const auto& e : edges)
      if (e.from == id)
        result.push_back(e);
    return result;
  }

  bool has_edge(const std::string& from, const std::string& to) const {
    for (const auto& e : edges)
      if (e.from == from && e.to == to)
        return true;
    return false;
  }

  std::string label_of(const std::string& from, const std::string& to) const {
    for (const auto& e : edges)
      if (e.from == from && e.to == to)
        return e.label;
    FAIL("no edge " << from << " -> " << to);
    return {};
  }
};

std::vector<std::string> split_lines(const std::string& text,
                                     const std::string& separator) {
  std::vector<std::string> result;
  std::size_t begin = 0;
  for (;;) {
    auto at = text.find(separator, begin);
    result.push_back(text.substr(begin, at - begin));
    if (at == std::string::npos)
      return result;
    begin = at + separator.size();
  }
}

std::string dot_unescape(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size()) {
      ++i;
      out += text[i] == 'n' ? '\n' : text[i];
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string mermaid_unescape(const std::string& text) {
  static const std::map<std::string, std::string> entities{
    {"quot", "\""}, {"35", "#"}, {"amp", "&"},
    {"lt", "<"},    {"gt", ">"}, {"96", "`"}};
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text.compare(i, 5, "<br/>") == 0) {
      out += '\n';
      i += 4;
    } else if (text[i] == '#') {
      auto semicolon = text.find(';', i);
      REQUIRE(semicolon != std::string::npos);
      auto name = text.substr(i + 1, semicolon - i - 1);
      INFO("entity #" << name << ";");
      REQUIRE(entities.count(name) == 1);
      out += entities.at(name);
      i = semicolon;
    } else {
      out += text[i];
    }
  }
  return out;
}

picture read_dot(const std::string& text) {
  static const std::regex node{
    R"re(  (\w+) \[label="((?:[^"\\]|\\.)*)", shape=(\w+)\];)re"};
  static const std::regex edge{
    R"re(  (\w+) -> (\w+)(?: \[label="((?:[^"\\]|\\.)*)"\])?;)re"};
  static const std::regex header{R"re(digraph "(?:[^"\\]|\\.)*" \{)re"};
  picture result;
  std::istringstream in{text};
  std::string line;
  std::getline(in, line);
  REQUIRE(std::regex_match(line, header));
  std::getline(in, line);
  REQUIRE(line == "  rankdir=TB;");
  bool closed = false;
  while (std::getline(in, line)) {
    INFO(line);
    REQUIRE_FALSE(closed);
    std::smatch m;
    if (std::regex_match(line, m, node)) {
      REQUIRE(result.nodes.count(m[1]) == 0);
      result.nodes[m[1]] = {m[3], split_lines(dot_unescape(m[2]), "\n")};
    } else if (std::regex_match(line, m, edge)) {
      result.edges.push_back({m[1], m[2], dot_unescape(m[3])});
    } else {
      REQUIRE(line == "}");
      closed = true;
    }
  }
  REQUIRE(closed);
  return result;
}

picture read_mermaid(const std::string& text) {
  static const std::regex node{
    R"re(    (\w+)(\(\[|\[|\{\{|\{|\(\()"([^"]*)"(\]\)|\]|\}\}|\}|\)\)))re"};
  static const std::regex edge{R"re(    (\w+) -->(?:\|"([^"]*)"\|)? (\w+))re"};
  static const std::map<std::string, std::pair<std::string, std::string>>
    shapes{{"([", {"])", "oval"}},
           {"[", {"]", "box"}},
           {"{", {"}", "diamond"}},
           {"{{", {"}}", "hexagon"}},
           {"((", {"))", "circle"}}};
  picture result;
  std::istringstream in{text};
  std::string line;
  std::getline(in, line);
  REQUIRE(line == "flowchart TD");
  while (std::getline(in, line)) {
    INFO(line);
    std::smatch m;
    if (std::regex_match(line, m, node)) {
      auto shape = shapes.find(m[2]);
      REQUIRE(shape != shapes.end());
      REQUIRE(m[4] == shape->second.first);
      REQUIRE(result.nodes.count(m[1]) == 0);
      result.nodes[m[1]] = {shape->second.second,
                            split_lines(mermaid_unescape(m[3]), "\n")};
    } else {
      REQUIRE(std::regex_match(line, m, edge));
      result.edges.push_back({m[1], m[3], mermaid_unescape(m[2])});
    }
  }
  return result;
}

picture draw(const flow& f, diagram_format format) {
  auto text = render_diagram(f, format);
  return format == diagram_format::dot ? read_dot(text) : read_mermaid(text);
}

flow_ptr parsed(const std::string& text) {
  auto result = parse_flow(text);
  for (const auto& line : result.errors.lines("flow.json"))
    UNSCOPED_INFO(line);
  REQUIRE(result.errors.empty());
  REQUIRE(result.model != nullptr);
  return result.model;
}

flow_ptr example_flow(const std::string& name) {
  return parsed(test::example(name));
}

/// The node id of the step called `name`.
std::string node(const flow& f, std::string_view name) {
  const auto* s = f.find_step(name);
  REQUIRE(s != nullptr);
  return "s" + std::to_string(s->id);
}

/// The node id of the merge point of the element called `name`.
std::string merge_node(const flow& f, std::string_view name) {
  const auto* s = f.find_step(name);
  REQUIRE(s != nullptr);
  return "m" + std::to_string(s->id);
}

/// Node ids reachable from `from` along the edges (forwards or backwards).
std::set<std::string> reachable(const picture& p, const std::string& from,
                                bool forwards) {
  std::set<std::string> seen{from};
  std::vector<std::string> todo{from};
  while (!todo.empty()) {
    auto at = todo.back();
    todo.pop_back();
    for (const auto& e : p.edges) {
      const auto& source = forwards ? e.from : e.to;
      const auto& target = forwards ? e.to : e.from;
      if (source == at && seen.insert(target).second)
        todo.push_back(target);
    }
  }
  return seen;
}

const std::vector<std::string> example_names{"order-to-invoice.json",
                                             "test-order-flow-sample.json"};

const std::vector<diagram_format> formats{diagram_format::dot,
                                          diagram_format::mermaid};

const char* name_of(diagram_format format) {
  return format == diagram_format::dot ? "dot" : "mermaid";
}

std::string custom(const std::string& name, const std::string& extra = "") {
  return R"({"action": "custom", "name": ")" + name + R"(", "provider": "p")"
    + extra + "}";
}

std::string flow_of(const std::string& name, const std::string& steps) {
  return R"({"name": ")" + name
    + R"(", "type": "order", "policies": {"filter": [
      {"name": "Big", "scope": "header", "when": {"field": "source", "op": "eq", "value": "BigCommerce"}},
      {"name": "Real", "scope": "line", "when": {"all": [{"field": "sku", "op": "exists"}, {"not": {"field": "qty", "op": "eq", "value": 0}}]}}
    ]}, "steps": )"
    + steps + "}";
}

} // namespace

TEST_CASE("diagram_format_from accepts dot and mermaid and nothing else") {
  CHECK(diagram_format_from("dot") == diagram_format::dot);
  CHECK(diagram_format_from("mermaid") == diagram_format::mermaid);
  for (const char* other : {"", "DOT", "Mermaid", "svg", "dot ", "graphviz"}) {
    INFO(other);
    CHECK_FALSE(diagram_format_from(other).has_value());
  }
}

TEST_CASE("a DOT diagram is a digraph named after the flow, top to bottom") {
  auto f = example_flow("order-to-invoice.json");
  auto text = render_diagram(*f, diagram_format::dot);
  CHECK(text.rfind("digraph \"Order to invoice\" {\n  rankdir=TB;\n", 0) == 0);
  CHECK(text.size() > 2);
  CHECK(text.compare(text.size() - 2, 2, "}\n") == 0);
}

TEST_CASE("a Mermaid diagram starts with a top-down flowchart line") {
  auto f = example_flow("order-to-invoice.json");
  auto text = render_diagram(*f, diagram_format::mermaid);
  CHECK(text.rfind("flowchart TD\n", 0) == 0);
}

TEST_CASE("both formats draw the same nodes and edges in the same order") {
  for (const auto& name : example_names) {
    INFO(name);
    auto f = example_flow(name);
    auto dot = draw(*f, diagram_format::dot);
    auto mermaid = draw(*f, diagram_format::mermaid);
    CHECK(dot.nodes == mermaid.nodes);
    CHECK(dot.edges == mermaid.edges);
  }
}

TEST_CASE("rendering the same flow twice gives the same text") {
  for (const auto& name : example_names)
    for (auto format : formats) {
      INFO(name << " as " << name_of(format));
      auto f = example_flow(name);
      auto again = example_flow(name);
      CHECK(render_diagram(*f, format) == render_diagram(*again, format));
    }
}

TEST_CASE("every step is a node labelled with its name and kind in its shape") {
  for (const auto& name : example_names)
    for (auto format : formats) {
      INFO(name << " as " << name_of(format));
      auto f = example_flow(name);
      auto p = draw(*f, format);
      // Steps, one merge node per *_merge element, start and end.
      std::size_t merges = 0;
      for (const auto& s : f->steps) {
        INFO(s.name);
        auto id = node(*f, s.name);
        REQUIRE(p.nodes.count(id) == 1);
        const auto& n = p.nodes.at(id);
        REQUIRE(n.lines.size() >= 2);
        CHECK(n.lines[0] == s.name);
        CHECK(n.lines[1].rfind(s.kind_name(), 0) == 0);
        if (s.is_action) {
          CHECK(n.shape == "box");
        } else if (is_condition(s.element)) {
          CHECK(n.shape == "diamond");
        } else {
          CHECK(n.shape == "hexagon");
        }
        if (!s.is_action && is_merge(s.element)) {
          ++merges;
          auto merge = merge_node(*f, s.name);
          REQUIRE(p.nodes.count(merge) == 1);
          CHECK(p.nodes.at(merge).lines
                == std::vector<std::string>{"merge: " + s.name});
          CHECK(p.nodes.at(merge).shape == "circle");
        }
      }
      REQUIRE(p.nodes.count("start") == 1);
      REQUIRE(p.nodes.count("finish") == 1);
      CHECK(p.nodes.at("start").lines == std::vector<std::string>{"start"});
      CHECK(p.nodes.at("finish").lines == std::vector<std::string>{"end"});
      CHECK(p.nodes.size() == f->steps.size() + merges + 2);
    }
}

TEST_CASE("every node lies on a path from start to end") {
  for (const auto& name : example_names)
    for (auto format : formats) {
      INFO(name << " as " << name_of(format));
      auto f = example_flow(name);
      auto p = draw(*f, format);
      auto from_start = reachable(p, "start", true);
      auto to_finish = reachable(p, "finish", false);
      for (const auto& [id, n] : p.nodes) {
        INFO(id);
        CHECK(from_start.count(id) == 1);
        CHECK(to_finish.count(id) == 1);
      }
      for (const auto& e : p.edges) {
        INFO(e);
        CHECK(p.nodes.count(e.from) == 1);
        CHECK(p.nodes.count(e.to) == 1);
      }
    }
}

TEST_CASE("order to invoice is drawn edge by edge in execution order") {
  auto f = example_flow("order-to-invoice.json");
  auto n = [&](const char* name) { return node(*f, name); };
  const std::string retail =
    R"(Retail: Retail (channel ne "b2b"), Physical lines [line] (kind ne "gift_card"))";
  std::vector<drawn_edge> expected{
    {"start", n("Check header"), ""},
    {n("Check header"), n("Check lines"), ""},
    {n("Check lines"), n("Valid?"), ""},
    {n("Valid?"), n("Channel split"), "yes"},
    {n("Channel split"), n("Pick warehouse"), retail},
    {n("Pick warehouse"), n("Ship it"), ""},
    {n("Ship it"), merge_node(*f, "Channel split"), ""},
    {n("Channel split"), n("Hand to ERP"), R"(B2B: B2B (channel eq "b2b"))"},
    {n("Hand to ERP"), merge_node(*f, "Channel split"), ""},
    {merge_node(*f, "Channel split"), n("Bill it"), ""},
    {n("Bill it"), merge_node(*f, "Valid?"), ""},
    {n("Valid?"), n("Notify customer service"), "no"},
    {n("Notify customer service"), merge_node(*f, "Valid?"), ""},
    {merge_node(*f, "Valid?"), "finish", ""},
  };
  for (auto format : formats) {
    INFO(name_of(format));
    CHECK(draw(*f, format).edges == expected);
  }
}

TEST_CASE("the condition Valid? has one yes edge and one no edge") {
  auto f = example_flow("order-to-invoice.json");
  for (auto format : formats) {
    INFO(name_of(format));
    auto p = draw(*f, format);
    auto out = p.edges_from(node(*f, "Valid?"));
    REQUIRE(out.size() == 2);
    CHECK(out[0].label == "yes");
    CHECK(out[0].to == node(*f, "Channel split"));
    CHECK(out[1].label == "no");
    CHECK(out[1].to == node(*f, "Notify customer service"));
  }
}

TEST_CASE("the branches of Channel split join at its merge node") {
  auto f = example_flow("order-to-invoice.json");
  auto merge = merge_node(*f, "Channel split");
  for (auto format : formats) {
    INFO(name_of(format));
    auto p = draw(*f, format);
    REQUIRE(p.nodes.count(merge) == 1);
    CHECK(p.has_edge(node(*f, "Ship it"), merge));
    CHECK(p.has_edge(node(*f, "Hand to ERP"), merge));
    CHECK(p.edges_from(merge).size() == 1);
    CHECK(p.has_edge(merge, node(*f, "Bill it")));
  }
}

TEST_CASE("the edge into a splitter branch names the branch and its filters") {
  auto f = example_flow("order-to-invoice.json");
  SECTION("as DOT") {
    auto text = render_diagram(*f, diagram_format::dot);
    CHECK(text.find(R"(Physical lines [line] (kind ne \"gift_card\"))")
          != std::string::npos);
    auto label = read_dot(text).label_of(node(*f, "Channel split"),
                                         node(*f, "Pick warehouse"));
    CHECK(label.rfind("Retail: ", 0) == 0);
    CHECK(label.find("Physical lines") != std::string::npos);
    CHECK(label.find(R"(kind ne "gift_card")") != std::string::npos);
  }
  SECTION("as Mermaid") {
    auto text = render_diagram(*f, diagram_format::mermaid);
    CHECK(text.find("Physical lines [line] (kind ne #quot;gift_card#quot;)")
          != std::string::npos);
    auto label = read_mermaid(text).label_of(node(*f, "Channel split"),
                                             node(*f, "Pick warehouse"));
    CHECK(label.rfind("Retail: ", 0) == 0);
    CHECK(label.find(R"(kind ne "gift_card")") != std::string::npos);
  }
}

TEST_CASE("non-ASCII policy names are kept as UTF-8 on the branch edges") {
  auto f = example_flow("test-order-flow-sample.json");
  auto merge = merge_node(*f, "Validation split");
  for (auto format : formats) {
    INFO(name_of(format));
    auto p = draw(*f, format);
    CHECK(
      p.label_of(node(*f, "Validation split"), node(*f, "Test validation 1"))
      == "Order Source 1: Filter Policy \xE2\x80\x93 BigCommerce"
         R"( (source eq "BigCommerce"))");
    CHECK(
      p.label_of(node(*f, "Validation split"), node(*f, "Test validation 2"))
      == "Order Source 2: Filter Policy \xE2\x80\x93 Orderful"
         R"( (source eq "Orderful"))");
    CHECK(p.has_edge(node(*f, "Test validation 1"), merge));
    CHECK(p.has_edge(node(*f, "Test validation 2"), merge));
    CHECK(p.has_edge(merge, "finish"));
  }
}

TEST_CASE("an action's label shows its provider, input events and retries") {
  auto f = example_flow("order-to-invoice.json");
  for (auto format : formats) {
    INFO(name_of(format));
    auto p = draw(*f, format);
    CHECK(p.nodes.at(node(*f, "Ship it")).lines
          == std::vector<std::string>{"Ship it",
                                      "send_to_fulfillment → fulfillment",
                                      "up to 5 attempts"});
    CHECK(p.nodes.at(node(*f, "Bill it")).lines
          == std::vector<std::string>{"Bill it", "send_to_invoice → billing",
                                      "waits for fulfillment_shipped"});
    CHECK(p.nodes.at(node(*f, "Notify customer service")).lines
          == std::vector<std::string>{"Notify customer service",
                                      "custom → notify"});
    CHECK(p.nodes.at(node(*f, "Check header")).lines
          == std::vector<std::string>{"Check header", "validate_order_header"});
  }
}

TEST_CASE("an empty no branch goes straight to the merge") {
  auto f = parsed(flow_of("Empty no",
                          "[" + custom("Try") + R"(,
    {"element": "condition_merge", "name": "Ok?",
     "yes": [)" + custom("Go on")
                            + R"(], "no": []},
    )" + custom("After") + "]"));
  auto merge = merge_node(*f, "Ok?");
  for (auto format : formats) {
    INFO(name_of(format));
    auto p = draw(*f, format);
    auto out = p.edges_from(node(*f, "Ok?"));
    REQUIRE(out.size() == 2);
    CHECK(out[0] == drawn_edge{node(*f, "Ok?"), node(*f, "Go on"), "yes"});
    CHECK(out[1] == drawn_edge{node(*f, "Ok?"), merge, "no"});
    CHECK(p.has_edge(node(*f, "Go on"), merge));
    CHECK(p.edges_from(merge)
          == std::vector<drawn_edge>{{merge, node(*f, "After"), ""}});
  }
}

TEST_CASE("the branches of a plain condition end where the flow ends") {
  auto f = parsed(flow_of("Plain",
                          "[" + custom("Try") + R"(,
    {"element": "condition", "name": "Ok?",
     "yes": [)" + custom("Go on")
                            + R"(], "no": []}])"));
  for (auto format : formats) {
    INFO(name_of(format));
    auto p = draw(*f, format);
    CHECK(p.edges
          == std::vector<drawn_edge>{
            {"start", node(*f, "Try"), ""},
            {node(*f, "Try"), node(*f, "Ok?"), ""},
            {node(*f, "Ok?"), node(*f, "Go on"), "yes"},
            {node(*f, "Go on"), "finish", ""},
            {node(*f, "Ok?"), "finish", "no"},
          });
    CHECK(p.nodes.count(merge_node(*f, "Ok?")) == 0);
  }
}

TEST_CASE("a plain splitter inside a merged branch ends at the outer merge") {
  auto f = parsed(flow_of(
    "Nested",
    R"([
    {"element": "splitter_merge", "name": "Outer", "branches": [
      {"name": "A", "steps": [)"
      + custom("First")
      + R"(, {"element": "splitter", "name": "Inner", "branches": [
          {"name": "X", "steps": [)"
      + custom("Ex", R"(, "filter_policies": ["Big", "Real"])") + R"(]},
          {"name": "Y", "steps": [)"
      + custom("Why") + R"(]}]}]},
      {"name": "B", "steps": [)"
      + custom("Bee") + ", "
      + custom("Filtered later", R"(, "filter_policies": ["Big"])") + R"(]}]},
    )" + custom("Last")
      + "]"));
  auto outer = merge_node(*f, "Outer");
  for (auto format : formats) {
    INFO(name_of(format));
    auto p = draw(*f, format);
    CHECK(p.nodes.count(merge_node(*f, "Inner")) == 0);
    CHECK(
      p.label_of(node(*f, "Inner"), node(*f, "Ex"))
      == R"(X: Big (source eq "BigCommerce"), Real [line] (sku exists and not qty eq 0))");
    CHECK(p.label_of(node(*f, "Inner"), node(*f, "Why")) == "Y");
    CHECK(p.has_edge(node(*f, "Ex"), outer));
    CHECK(p.has_edge(node(*f, "Why"), outer));
    CHECK(p.edges_from(node(*f, "Inner")).size() == 2);
    // Filters show on the edge into any filtered action, not only the
    // first of a branch.
    CHECK(p.label_of(node(*f, "Bee"), node(*f, "Filtered later"))
          == R"(Big (source eq "BigCommerce"))");
    CHECK(p.has_edge(node(*f, "Filtered later"), outer));
    CHECK(p.edges_from(outer)
          == std::vector<drawn_edge>{{outer, node(*f, "Last"), ""}});
  }
}

TEST_CASE(
  "quotes, backslashes and markup in names are escaped in both formats") {
  auto f = parsed(flow_of(
    R"(Say \"hi\")", "[" + custom(R"(Check \"A\" \\ B #1 <b> & `x`)") + "]"));
  const std::string name = R"(Check "A" \ B #1 <b> & `x`)";
  REQUIRE(f->steps.at(0).name == name);

  SECTION("as DOT") {
    auto text = render_diagram(*f, diagram_format::dot);
    CHECK(text.rfind(R"(digraph "Say \"hi\"" {)", 0) == 0);
    CHECK(text.find(R"(s0 [label="Check \"A\" \\ B #1 <b> & `x`\ncustom → p")")
          != std::string::npos);
    CHECK(read_dot(text).nodes.at("s0").lines[0] == name);
  }
  SECTION("as Mermaid") {
    auto text = render_diagram(*f, diagram_format::mermaid);
    CHECK(
      text.find(
        R"(s0["Check #quot;A#quot; \ B #35;1 #lt;b#gt; #amp; #96;x#96;<br/>custom → p"])")
      != std::string::npos);
    CHECK(read_mermaid(text).nodes.at("s0").lines[0] == name);
  }
}

TEST_CASE("Graphviz reads and lays out the DOT output of every example") {
  for (const auto& name : example_names) {
    INFO(name);
    auto svg =
      render_svg(render_diagram(*example_flow(name), diagram_format::dot));
    INFO((svg ? std::string{} : describe(svg.error())));
    CHECK(svg);
  }
}
