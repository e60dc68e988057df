// http:// and https:// URLs split into what a client needs, or refused
// saying why.

#include "actors/http_client.hpp"

#include <algorithm>
#include <cstdlib>
#include <string_view>

#include "flows/json.hpp"

namespace orca {

namespace {

bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size())
    return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    auto lower = [](char c) {
      return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    };
    if (lower(text[i]) != lower(prefix[i]))
      return false;
  }
  return true;
}

bool is_control_or_space(char c) {
  auto u = static_cast<unsigned char>(c);
  return u <= 0x20 || u == 0x7f;
}

} // namespace

caf::expected<http_url> parse_http_url(const std::string& url) {
  auto fail = [&url](const std::string& why) -> caf::expected<http_url> {
    return make_error(errc::invalid_config, "url " + quote(url) + ": " + why);
  };
  if (url.empty())
    return fail("must not be empty");
  http_url result;
  std::string_view scheme = "http://";
  if (starts_with_ignoring_case(url, "https://")) {
    scheme = "https://";
    result.tls = true;
  } else if (!starts_with_ignoring_case(url, scheme)) {
    return fail("only http:// and https:// URLs are supported");
  }
  if (std::any_of(url.begin(), url.end(), is_control_or_space))
    return fail("must not contain spaces or control characters");
  auto rest = std::string_view{url}.substr(scheme.size());
  auto authority_end = rest.find_first_of("/?#");
  auto authority = rest.substr(0, authority_end);
  auto tail = authority_end == std::string_view::npos
    ? std::string_view{}
    : rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos)
    return fail("user names and passwords in URLs are not supported");
  std::string_view port;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos)
      return fail("the IPv6 address has no closing ']'");
    result.host = std::string{authority.substr(1, close - 1)};
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':')
        return fail("unexpected text after the IPv6 address");
      port = after.substr(1);
      has_port = true;
    }
  } else {
    auto colon = authority.find(':');
    result.host = std::string{authority.substr(0, colon)};
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      has_port = true;
    }
  }
  if (result.host.empty())
    return fail("has no host");
  if (has_port) {
    auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
    auto bad_port = [&] {
      return fail("port " + quote(port) + " is not a number from 1 to 65535");
    };
    if (port.empty() || port.size() > 5
        || !std::all_of(port.begin(), port.end(), is_digit))
      return bad_port();
    auto number = std::strtoul(std::string{port}.c_str(), nullptr, 10);
    if (number < 1 || number > 65535)
      return bad_port();
    result.port = std::to_string(number);
  } else {
    result.port = result.tls ? "443" : "80";
  }
  // The fragment is the client's business; servers never see it.
  tail = tail.substr(0, tail.find('#'));
  if (tail.empty())
    result.target = "/";
  else if (tail.front() == '?')
    result.target = "/" + std::string{tail};
  else
    result.target = std::string{tail};
  return result;
}

} // namespace orca
