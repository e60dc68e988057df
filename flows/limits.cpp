#include "flows/limits.hpp"

#include <cstring>

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

namespace {

/// Where a JSON string ends whose text, after its opening quote, starts at
/// `p`: just after its closing quote, or `end` if it has none. A quote
/// closes the string unless an odd run of backslashes stands before it.
const char* after_string(const char* p, const char* end) {
  for (;;) {
    auto* quote = static_cast<const char*>(
      std::memchr(p, '"', static_cast<std::size_t>(end - p)));
    if (quote == nullptr)
      return end;
    auto* run = quote;
    while (run > p && run[-1] == '\\')
      --run;
    if ((quote - run) % 2 == 0)
      return quote + 1;
    p = quote + 1;
  }
}

} // namespace

bool nests_deeper_than(std::string_view json, std::size_t max_depth) {
  std::size_t depth = 0;
  const char* p = json.data();
  const char* end = p + json.size();
  while (p < end) {
    switch (*p++) {
      case '"': p = after_string(p, end); break;
      case '[':
      case '{':
        if (++depth > max_depth)
          return true;
        break;
      case ']':
      case '}':
        if (depth > 0)
          --depth;
        break;
      default: break;
    }
  }
  return false;
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
