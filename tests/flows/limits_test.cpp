// The depth scan that guards every parse of outside JSON (SPEC §8).

#include <catch2/catch.hpp>

#include <random>
#include <string>

#include "flows/limits.hpp"

using namespace orca;

namespace {

/// The depth of `json` read one byte at a time, as the JSON grammar says:
/// brackets inside strings do not count, and a backslash escapes the next
/// byte of a string.
std::size_t depth_by_bytes(std::string_view json) {
  std::size_t depth = 0;
  std::size_t deepest = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : json) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

} // namespace

TEST_CASE("brackets inside strings do not nest, escaped quotes or not") {
  CHECK_FALSE(nests_deeper_than(R"({"a": "[[[[{{{{"})", 1));
  CHECK_FALSE(nests_deeper_than(R"({"a": "\"[[[["})", 1));
  CHECK(nests_deeper_than(R"({"a": "\\", "b": [[]]})", 2));
  CHECK_FALSE(nests_deeper_than(R"({"a": "\\\"[[", "b": []})", 2));
  CHECK(nests_deeper_than(R"({"a": "\\\\", "b": [[]]})", 2));
  CHECK_FALSE(nests_deeper_than(R"({"a": "\\\\\"[[", "b": []})", 2));
  // A string that never closes hides what follows it.
  CHECK_FALSE(nests_deeper_than(R"({"a": "[[[[)", 1));
  CHECK(nests_deeper_than(R"([[[)", 2));
  CHECK_FALSE(nests_deeper_than(R"([[[)", 3));
  CHECK_FALSE(nests_deeper_than("", 0));
}

TEST_CASE("the depth scan agrees with a byte-by-byte reading of any text") {
  std::mt19937 random{20261207};
  const std::string alphabet = "\"\\[]{}a";
  std::uniform_int_distribution<std::size_t> pick{0, alphabet.size() - 1};
  std::uniform_int_distribution<std::size_t> length{0, 40};
  for (int i = 0; i < 20000; ++i) {
    std::string text(length(random), ' ');
    for (auto& c : text)
      c = alphabet[pick(random)];
    auto depth = depth_by_bytes(text);
    INFO(text);
    CHECK(nests_deeper_than(text, depth) == false);
    if (depth > 0)
      CHECK(nests_deeper_than(text, depth - 1));
  }
}
