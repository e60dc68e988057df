#pragma once

// Test helpers: orders as JSON text, built from the examples or minimal.

#include <sstream>
#include <stdexcept>
#include <string>

#include "support/files.hpp"

namespace orca::test {

/// The example order with id `id` from flows/examples/orders.jsonl.
inline std::string example_order(const std::string& id) {
  std::istringstream lines{example("orders.jsonl")};
  std::string line;
  while (std::getline(lines, line))
    if (line.find("\"id\": \"" + id + "\"") != std::string::npos)
      return line;
  throw std::runtime_error("no example order " + id);
}

/// The first example order (SO-1001).
inline std::string first_example_order() {
  auto all = example("orders.jsonl");
  return all.substr(0, all.find('\n'));
}

/// `order` (an example's JSON text) with its id replaced by `id`.
inline std::string with_id(const std::string& order, const std::string& id) {
  auto at = order.find("\"id\": \"") + 7;
  return order.substr(0, at) + id + order.substr(order.find('"', at));
}

/// The smallest order a flow takes: `id` and one line "1".
inline std::string minimal_order(const std::string& id) {
  return R"({"id": ")" + id + R"(", "lines": [{"id": "1"}]})";
}

} // namespace orca::test
