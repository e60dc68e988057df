#pragma once

// Collects every problem found in one input (a flow file, an order) so that a
// user sees all of them in one pass, each naming where it is.

#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "flows/errc.hpp"

namespace orca {

struct diagnostic {
  std::string where;   ///< Field or step path, e.g. `steps[1] "Fan out".retry`.
  std::string message; ///< What is wrong there.
};

class diagnostics {
public:
  void add(std::string where, std::string message) {
    items_.push_back({std::move(where), std::move(message)});
  }

  bool empty() const noexcept {
    return items_.empty();
  }

  std::size_t size() const noexcept {
    return items_.size();
  }

  const std::vector<diagnostic>& items() const noexcept {
    return items_;
  }

  /// One line per problem: `ORIGIN: WHERE: MESSAGE` (ORIGIN omitted if empty).
  std::vector<std::string> lines(const std::string& origin) const;

  /// One error of kind `code` whose message is lines(origin), one a line.
  caf::error to_error(errc code, const std::string& origin) const;

  /// Reports fields of `object` that are not in `allowed` ("unknown field").
  /// REQUIRES: object.IsObject()
  void reject_unknown_fields(const rapidjson::Value& object,
                             const std::string& where,
                             std::initializer_list<const char*> allowed);

private:
  std::vector<diagnostic> items_;
};

/// `parent.child`, or `child` where parent is empty.
std::string field_of(const std::string& parent, const std::string& child);

/// `parent[index]`.
std::string element_of(const std::string& parent, std::size_t index);

} // namespace orca
