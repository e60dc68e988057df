#include "flows/diagnostics.hpp"

#include <cstring>

#include "flows/json.hpp"

namespace orca {

caf::error diagnostics::to_error(errc code, const std::string& origin) const {
  std::string msg;
  for (const auto& line : lines(origin)) {
    if (!msg.empty())
      msg += '\n';
    msg += line;
  }
  return make_error(code, std::move(msg));
}

std::vector<std::string> diagnostics::lines(const std::string& origin) const {
  std::vector<std::string> result;
  result.reserve(items_.size());
  for (const auto& item : items_) {
    std::string line;
    if (!origin.empty())
      line += origin + ": ";
    if (!item.where.empty())
      line += item.where + ": ";
    line += item.message;
    result.push_back(std::move(line));
  }
  return result;
}

void diagnostics::reject_unknown_fields(
  const rapidjson::Value& object, const std::string& where,
  std::initializer_list<const char*> allowed) {
  for (auto it = object.MemberBegin(); it != object.MemberEnd(); ++it) {
    auto key = view_of(it->name);
    bool known = false;
    for (const char* name : allowed)
      if (key == name)
        known = true;
    if (!known) {
      std::string expected;
      for (const char* name : allowed) {
        if (!expected.empty())
          expected += ", ";
        expected += name;
      }
      add(field_of(where, std::string{key}),
          "unknown field " + quote(key) + " (expected one of: " + expected
            + ")");
    }
  }
}

std::string field_of(const std::string& parent, const std::string& child) {
  return parent.empty() ? child : parent + "." + child;
}

std::string element_of(const std::string& parent, std::size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

} // namespace orca
