#include "persistence/keys.hpp"

#include "persistence/format.hpp"

#include <utility>

namespace orca {

void put_be(std::string& out, uint64_t x, int bytes) {
  for (int i = bytes - 1; i >= 0; --i)
    out.push_back(static_cast<char>((x >> (8 * i)) & 0xFF));
}

void put_le(std::string& out, uint64_t x, int bytes) {
  char buf[sizeof(x)];
  set_le(buf, x, bytes);
  out.append(buf, static_cast<std::size_t>(bytes));
}

namespace {

/// `name` and the separator: the prefix of every key that extends it.
std::string separated(std::string name) {
  name.push_back(format::key_separator);
  return name;
}

/// `name`, the separator, `n` as a big-endian u32; `more` (with its
/// separator) between `name` and the number where given. One allocation:
/// keys are made on every save.
std::string numbered(std::string_view name, uint32_t n,
                     std::optional<std::string_view> more = std::nullopt) {
  std::string key;
  key.reserve(name.size() + (more ? more->size() + 1 : 0) + 1 + 4);
  key.append(name);
  if (more) {
    key.push_back(format::key_separator);
    key.append(*more);
  }
  key.push_back(format::key_separator);
  put_be(key, n, 4);
  return key;
}

} // namespace

std::string flow_version_key(const std::string& name, uint32_t version) {
  return numbered(name, version);
}

std::string journey_prefix(const std::string& order_id) {
  return separated(order_id);
}

std::string journey_key(const std::string& order_id, const std::string& flow,
                        uint32_t version) {
  return numbered(order_id, version, flow);
}

namespace {

/// Where a journey key's two separators are (after the order id, and
/// before the version), if it is one.
std::optional<std::pair<std::size_t, std::size_t>>
journey_key_parts(std::string_view key) {
  auto first = key.find(format::key_separator);
  if (first == std::string_view::npos || key.size() < first + 1 + 5)
    return std::nullopt;
  auto second = key.size() - 5;
  if (key[second] != format::key_separator || second <= first)
    return std::nullopt;
  return std::make_pair(first, second);
}

} // namespace

std::optional<journey_id> journey_id::from_key(std::string_view key) {
  auto parts = journey_key_parts(key);
  if (!parts)
    return std::nullopt;
  auto [first, second] = *parts;
  journey_id id;
  id.order_id = std::string{key.substr(0, first)};
  id.flow = std::string{key.substr(first + 1, second - first - 1)};
  id.version = static_cast<uint32_t>(get_be(key, second + 1, 4));
  return id;
}

std::string journey_state_prefix(const std::string& flow) {
  return separated(flow);
}

std::string journey_state_prefix(const std::string& flow, uint8_t state) {
  auto key = journey_state_prefix(flow);
  key.push_back(static_cast<char>(state));
  return key;
}

std::string journey_state_key(const std::string& flow, uint8_t state,
                              const std::string& order_id, uint32_t version) {
  return numbered(journey_state_prefix(flow, state) + order_id, version);
}

std::string journey_state_key(std::string_view journey_key, uint8_t state) {
  auto parts = journey_key_parts(journey_key);
  if (!parts)
    return {};
  auto [first, second] = *parts;
  auto order_id = journey_key.substr(0, first);
  auto flow = journey_key.substr(first + 1, second - first - 1);
  std::string key;
  key.reserve(journey_key.size() + 1);
  key.append(flow);
  key.push_back(format::key_separator);
  key.push_back(static_cast<char>(state));
  key.append(order_id);
  key.append(journey_key.substr(second)); // the separator and the version
  return key;
}

std::optional<journey_state_entry>
journey_state_entry::from_key(std::string_view key) {
  auto first = key.find(format::key_separator);
  // flow, 0, state, at least one byte of order id, 0, version
  if (first == std::string_view::npos || key.size() < first + 2 + 1 + 5)
    return std::nullopt;
  auto second = key.size() - 5;
  if (key[second] != format::key_separator)
    return std::nullopt;
  journey_state_entry e;
  e.state = static_cast<uint8_t>(key[first + 1]);
  e.id.flow = std::string{key.substr(0, first)};
  e.id.order_id = std::string{key.substr(first + 2, second - first - 2)};
  e.id.version = static_cast<uint32_t>(get_be(key, second + 1, 4));
  return e;
}

std::string journal_key(const std::string& journey_key, uint32_t n) {
  return numbered(journey_key, n);
}

std::string journal_prefix(const std::string& journey_key) {
  return separated(journey_key);
}

std::string journal_expiry_key(int64_t ended_on,
                               const std::string& journey_key) {
  std::string key;
  key.reserve(8 + journey_key.size());
  put_be(key, static_cast<uint64_t>(ended_on), 8);
  key += journey_key;
  return key;
}

std::optional<journal_expiry> journal_expiry::from_key(std::string_view key) {
  if (key.size() < 8)
    return std::nullopt;
  journal_expiry e;
  e.ended_on = static_cast<int64_t>(get_be(key, 0, 8));
  e.journey_key = std::string{key.substr(8)};
  return e;
}

std::string provider_call_prefix(const std::string& provider) {
  return separated(provider);
}

std::string provider_call_key(const std::string& provider,
                              const std::string& key) {
  return provider_call_prefix(provider) + key;
}

} // namespace orca
