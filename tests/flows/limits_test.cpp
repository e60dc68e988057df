// The depth bound that every parse of outside JSON keeps (SPEC §8).

#include <catch2/catch.hpp>

#include <random>
#include <string>

#include "flows/json.hpp"

using namespace orca;

namespace {

json_parse_result parse(std::string_view text, std::size_t max_depth) {
  json_document doc;
  return parse_bounded(doc, text, max_depth);
}

/// A random JSON value, nesting at most `room` more levels; `depth` is
/// raised to the deepest level it reaches below `at`. Its strings hold
/// brackets, braces, quotes and backslashes, escaped as JSON says.
std::string random_value(std::mt19937& random, std::size_t room, std::size_t at,
                         std::size_t& depth) {
  std::uniform_int_distribution<int> kind{0, 2};
  std::uniform_int_distribution<int> count{0, 3};
  auto k = room == 0 ? 0 : kind(random);
  if (k == 0) {
    const std::string pieces[] = {"[", "]", "{", "}", "a", "\\\"", "\\\\"};
    std::uniform_int_distribution<std::size_t> pick{0, std::size(pieces) - 1};
    std::string s = "\"";
    for (int i = count(random) * 2; i > 0; --i)
      s += pieces[pick(random)];
    return s + "\"";
  }
  depth = std::max(depth, at + 1);
  auto n = count(random);
  std::string s = k == 1 ? "[" : "{";
  for (int i = 0; i < n; ++i) {
    if (i > 0)
      s += ",";
    if (k == 2)
      s += "\"k" + std::to_string(i) + "\":";
    s += random_value(random, room - 1, at + 1, depth);
  }
  return s + (k == 1 ? "]" : "}");
}

} // namespace

TEST_CASE("brackets inside strings do not nest, escaped quotes or not") {
  CHECK(parse(R"({"a": "[[[[{{{{"})", 1).ok());
  CHECK(parse(R"({"a": "\"[[[["})", 1).ok());
  CHECK(parse(R"({"a": "\\", "b": [[]]})", 2).too_deep);
  CHECK(parse(R"({"a": "\\\"[[", "b": []})", 2).ok());
  CHECK(parse(R"({"a": "\\\\", "b": [[]]})", 2).too_deep);
  CHECK(parse(R"({"a": "\\\\\"[[", "b": []})", 2).ok());
  CHECK(parse("[[[]]]", 3).ok());
  CHECK(parse("[[[]]]", 2).too_deep);
  CHECK(parse("7", 0).ok());
}

TEST_CASE("a parse stops at the first level past the bound, deep as the "
          "text may go") {
  auto deep = std::string(200000, '[') + std::string(200000, ']');
  auto r = parse(deep, 64);
  CHECK(r.too_deep);
  // It stopped where the 65th level opens.
  CHECK(r.syntax.Offset() == 64);
  json_document doc;
  CHECK(parse_bounded(doc, deep, 200000).ok());
  CHECK(doc.IsArray());
}

TEST_CASE("text that is not JSON is reported as such, not as too deep") {
  std::string text = R"({"a": nope, "b": [[[[[[]]]]]]})";
  auto r = parse(text, 2);
  CHECK_FALSE(r.too_deep);
  CHECK(r.syntax.IsError());
  CHECK(r.syntax.Offset() < text.find('['));
  CHECK(parse("[[[", 3).syntax.IsError());
  CHECK(parse("", 0).syntax.IsError());
}

TEST_CASE("the document holds what was parsed, in place or not") {
  std::string text = R"({"id": "SO-1", "lines": [{"sku": "A"}]})";
  json_document doc;
  REQUIRE(parse_bounded(doc, text, 3).ok());
  CHECK(view_of(doc["lines"][0]["sku"]) == "A");
  json_document insitu;
  std::string copy = text;
  REQUIRE(parse_insitu_bounded(insitu, copy.data(), 3).ok());
  CHECK(view_of(insitu["id"]) == "SO-1");
  json_document shallow;
  copy = text;
  CHECK(parse_insitu_bounded(shallow, copy.data(), 2).too_deep);
}

TEST_CASE("the bound agrees with the depth of any JSON document") {
  std::mt19937 random{20261207};
  std::uniform_int_distribution<std::size_t> room{0, 8};
  for (int i = 0; i < 5000; ++i) {
    std::size_t depth = 0;
    auto text = random_value(random, room(random), 0, depth);
    INFO(text);
    CHECK(parse(text, depth).ok());
    if (depth > 0)
      CHECK(parse(text, depth - 1).too_deep);
  }
}
