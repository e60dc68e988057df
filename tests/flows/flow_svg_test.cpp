#include <catch2/catch.hpp>

#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "flows/flow.hpp"
#include "flows/flow_diagram.hpp"
#include "flows/flow_svg.hpp"
#include "support/files.hpp"

using namespace orca;

namespace {

flow_ptr parsed(const std::string& text) {
  auto result = parse_flow(text);
  REQUIRE(result.errors.empty());
  return result.model;
}

std::size_t count(const std::string& text, const std::regex& pattern) {
  return static_cast<std::size_t>(
    std::distance(std::sregex_iterator(text.begin(), text.end(), pattern),
                  std::sregex_iterator()));
}

// The number of node and edge statements of a DOT text.
std::size_t dot_nodes(const std::string& dot) {
  return count(dot, std::regex{R"(\n  [sm]?\w+ \[label=)"});
}

} // namespace

TEST_CASE("the order-to-invoice flow is drawn as SVG with every node and edge "
          "of its DOT picture") {
  auto f = parsed(test::example("order-to-invoice.json"));
  auto dot = render_diagram(*f, diagram_format::dot);
  auto svg = render_svg(*f);
  REQUIRE(svg);
  CHECK(svg->rfind("<?xml", 0) == 0);
  CHECK(svg->find("<svg") != std::string::npos);
  CHECK(svg->find("</svg>") != std::string::npos);
  auto nodes = count(*svg, std::regex{R"(<g id="node\d+" class="node">)"});
  auto edges = count(*svg, std::regex{R"(<g id="edge\d+" class="edge">)"});
  CHECK(nodes == dot_nodes(dot));
  CHECK(edges == count(dot, std::regex{R"( -> )"}));
  CHECK(nodes > 5);
  // Step names are in the picture as text.
  CHECK(svg->find(">Check header<") != std::string::npos);
}

TEST_CASE("markup in a flow's names is escaped in its SVG picture") {
  auto f = parsed(R"({"name": "<script>alert(1)</script> & co",
    "type": "order", "steps": [{"action": "custom", "provider": "p",
      "name": "a <b>bold</b> \"step\""}]})");
  auto svg = render_svg(*f);
  REQUIRE(svg);
  CHECK(svg->find("<script>") == std::string::npos);
  CHECK(svg->find("<b>") == std::string::npos);
  CHECK(svg->find("&lt;script&gt;") != std::string::npos);
  CHECK(svg->find("&lt;b&gt;bold&lt;/b&gt;") != std::string::npos);
}

TEST_CASE("DOT that Graphviz cannot read is an error carrying its message") {
  auto svg = render_svg(std::string_view{"digraph { a -> ; }"});
  REQUIRE_FALSE(svg);
  auto text = describe(svg.error());
  CHECK(text.find("graphviz could not read the picture") != std::string::npos);
  CHECK(text.find("syntax error") != std::string::npos);
  // The next rendering is not disturbed by the last one's messages.
  auto ok = render_svg(std::string_view{"digraph { a -> b; }"});
  REQUIRE(ok);
}

TEST_CASE("flows are drawn from several threads at once") {
  auto f = parsed(test::example("order-to-invoice.json"));
  auto expected = render_svg(*f);
  REQUIRE(expected);
  std::vector<std::string> results(4);
  std::vector<std::thread> threads;
  for (auto& r : results)
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i) {
        auto svg = render_svg(*f);
        r = svg ? *svg : std::string{"error: "} + describe(svg.error());
      }
    });
  for (auto& t : threads)
    t.join();
  for (const auto& r : results)
    CHECK(r == *expected);
}
