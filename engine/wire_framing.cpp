#include "engine/wire_framing.hpp"

#include <algorithm>
#include <set>
#include <string_view>

namespace orca {

namespace {

/// BASP operations (caf/io/basp/message_type.hpp).
enum : unsigned char {
  server_handshake = 0x00,
  client_handshake = 0x01,
  direct_message = 0x02,
  routed_message = 0x03,
  monitor_message = 0x04,
  down_message = 0x05,
  heartbeat = 0x06,
};

/// CAF's flat types: read with bounds, holding no message of their own.
bool is_flat_caf_type(std::string_view name) {
  static const std::set<std::string_view> flat{
    "@actor",    "@addr",      "@atom",
    "@i8",       "@i16",       "@i32",
    "@i64",      "@u8",        "@u16",
    "@u32",      "@u64",       "@str",
    "@strvec",   "@strset",    "@strmap",
    "@unit",     "@duration",  "@node",
    "@timespan", "@timestamp", "@strong_actor_ptr",
    "bool",      "float",      "double"};
  return flat.count(name) > 0;
}

/// Reads the start of a payload the way CAF's binary deserializer wrote
/// it. Each read is false when the bytes end first.
class payload_reader {
public:
  explicit payload_reader(std::string_view bytes) : bytes_(bytes) {
  }

  bool skip(std::size_t n) {
    if (bytes_.size() - at_ < n)
      return false;
    at_ += n;
    return true;
  }

  bool byte(unsigned char& x) {
    if (at_ == bytes_.size())
      return false;
    x = static_cast<unsigned char>(bytes_[at_++]);
    return true;
  }

  /// A length: seven bits a byte, lowest first, high bit "more follows".
  bool varbyte(uint32_t& x) {
    x = 0;
    for (int shift = 0; shift < 35; shift += 7) {
      unsigned char b;
      if (!byte(b))
        return false;
      x |= static_cast<uint32_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0)
        return true;
    }
    return false;
  }

  bool u64(uint64_t& x) {
    x = 0;
    for (int i = 0; i < 8; ++i) {
      unsigned char b;
      if (!byte(b))
        return false;
      x = (x << 8) | b;
    }
    return true;
  }

  bool text(std::string_view& x) {
    uint32_t n;
    if (!varbyte(n) || bytes_.size() - at_ < n)
      return false;
    x = bytes_.substr(at_, n);
    at_ += n;
    return true;
  }

private:
  std::string_view bytes_;
  std::size_t at_ = 0;
};

/// Screens the start of one message's payload; "" if CAF may read it,
/// else why not.
class message_screen {
public:
  message_screen(const wire_rules& rules, std::string_view start, bool whole)
      : rules_(rules), in_(start), whole_(whole) {
  }

  std::string operator()(unsigned char operation) {
    switch (operation) {
      case client_handshake:
      case monitor_message:
      case heartbeat: return {};
      case direct_message: {
        uint32_t stages;
        if (!in_.varbyte(stages))
          return unreadable();
        if (stages != 0)
          return "a message with a forwarding stack, which clients never "
                 "send";
        return content(true);
      }
      case down_message: // the actor's node, the node told, the reason
        for (int i = 0; i < 2; ++i)
          if (auto why = node_id(); !why.empty())
            return why;
        return error();
      case server_handshake:
      case routed_message:
      default:
        return "a BASP message of operation " + std::to_string(operation)
          + ", which clients never send";
    }
  }

private:
  /// A caf::message: its type list, and an error's context if it is one.
  std::string content(bool answer) {
    unsigned char nr[2];
    std::string_view types;
    if (!in_.byte(nr[0]) || !in_.byte(nr[1]) || !in_.text(types))
      return unreadable();
    constexpr std::string_view empty = "@<>";
    if (nr[0] != 0 || nr[1] != 0 || types.substr(0, empty.size()) != empty)
      return unreadable();
    types.remove_prefix(empty.size());
    if (answer && types == "+@error")
      return error();
    while (!types.empty()) {
      if (types.front() != '+')
        return unreadable();
      types.remove_prefix(1);
      auto name = types.substr(0, types.find('+'));
      types.remove_prefix(name.size());
      if (!is_flat_caf_type(name)
          && rules_.client_types.count(std::string{name}) == 0)
        return "a message holding " + std::string{name}
        + ", a type clients never send";
    }
    return {};
  }

  /// A caf::error: code, category, and a context screened as a message.
  std::string error() {
    if (!in_.skip(1 + 8))
      return unreadable();
    return content(false);
  }

  /// A caf::node_id: none, or CAF's default form, or a URI.
  std::string node_id() {
    constexpr uint64_t none = 0xf;                        // atom("")
    constexpr uint64_t default_form = 0x00003e9aab9bac79; // atom("default")
    constexpr uint64_t uri_form = 0x00000000003cb6ab;     // atom("uri")
    uint64_t form;
    if (!in_.u64(form))
      return unreadable();
    std::string_view uri;
    if (form == none)
      return {};
    if (form == default_form)
      return in_.skip(4 + 20) ? std::string{} : unreadable();
    if (form == uri_form)
      return in_.text(uri) ? std::string{} : unreadable();
    return unreadable();
  }

  std::string unreadable() const {
    return whole_ ? "a message that cannot be read"
                  : "a message whose types do not fit in its first "
        + std::to_string(wire_framing::screened_bytes) + " bytes";
  }

  const wire_rules& rules_;
  payload_reader in_;
  bool whole_;
};

} // namespace

bool wire_framing::feed(const char* data, std::size_t n) {
  if (!refusal_.empty())
    return false;
  constexpr std::size_t length_at = 4;
  std::size_t at = 0;
  while (at < n) {
    if (start_.size() < start_want_) {
      auto take = std::min(start_want_ - start_.size(), n - at);
      start_.append(data + at, take);
      at += take;
      payload_left_ -= take;
      if (start_.size() == start_want_ && !screen())
        return false;
      continue;
    }
    if (payload_left_ > 0) {
      auto take = std::min<uint64_t>(payload_left_, n - at);
      payload_left_ -= take;
      at += static_cast<std::size_t>(take);
      continue;
    }
    header_[header_have_++] = static_cast<unsigned char>(data[at++]);
    if (header_have_ < header_bytes)
      continue;
    header_have_ = 0;
    uint64_t length = 0;
    for (std::size_t i = 0; i < 4; ++i)
      length = (length << 8) | header_[length_at + i];
    if (length + header_bytes > rules_->max_message_bytes) {
      too_large_ = length + header_bytes;
      refusal_ = "a message of " + std::to_string(too_large_)
        + " bytes, over the limit of "
        + std::to_string(rules_->max_message_bytes) + " bytes (wire_bytes)";
      return false;
    }
    payload_left_ = length;
    start_.clear();
    start_want_ =
      static_cast<std::size_t>(std::min<uint64_t>(length, screened_bytes));
    if (start_want_ == 0 && !screen())
      return false;
  }
  return true;
}

bool wire_framing::screen() {
  // Screened while the payload's last byte has not passed yet (it is in
  // the bytes being fed at the latest), so CAF has not read the message.
  bool whole = payload_left_ == 0;
  refusal_ = message_screen{*rules_, start_, whole}(header_[0]);
  start_want_ = 0;
  start_.clear();
  return refusal_.empty();
}

} // namespace orca
