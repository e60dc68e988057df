#include "flows/limits.hpp"

namespace orca {

const limits& default_limits() {
  static const limits defaults;
  return defaults;
}

std::string name_problem(std::string_view value, std::size_t max_bytes) {
  if (value.empty())
    return "must not be empty";
  if (value.size() > max_bytes)
    return std::to_string(value.size()) + " bytes is over the limit of "
      + std::to_string(max_bytes) + " bytes";
  for (unsigned char c : value)
    if (c < 0x20 || c == 0x7F)
      return "must not contain control characters";
  return {};
}

caf::error check_name(std::string_view value, std::string_view what,
                      std::size_t max_bytes) {
  auto problem = name_problem(value, max_bytes);
  if (problem.empty())
    return caf::none;
  return make_error(value.size() > max_bytes ? errc::limit_exceeded
                                             : errc::invalid_argument,
                    std::string{what} + ": " + problem);
}

caf::error too_large(std::string_view what, std::size_t size,
                     std::size_t max_bytes) {
  return make_error(errc::limit_exceeded,
                    std::string{what} + " of " + std::to_string(size)
                      + " bytes is over the limit of "
                      + std::to_string(max_bytes) + " bytes");
}

caf::error too_deep(std::string_view what, std::size_t max_depth) {
  return make_error(errc::limit_exceeded,
                    std::string{what} + " nests JSON deeper than the limit of "
                      + std::to_string(max_depth) + " levels");
}

} // namespace orca
