#include "persistence/records.hpp"

#include <algorithm>
#include <cstring>

#include <cereal/archives/binary.hpp>
#include <cereal/types/optional.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>
#include <libdeflate.h>

#include "persistence/keys.hpp"

namespace orca {

// -- cereal schemas (the newest payload version of each record) ---------------

// A field added inside a repeated part of a record (a step result, a path, a
// journal entry) cannot be padded with zeros at the payload's end: it is read
// only from payloads of the version that added it (`since`), by
// bounded_input_archive, which knows the version it reads. Writers always
// write the newest version (the `holds` of string_output_archive, below,
// found when a schema is instantiated).

template <class Archive>
void serialize(Archive& ar, flow_record& x) {
  ar(x.name, x.created_on, x.updated_on, x.status, x.paused, x.latest_version,
     x.draft_version, x.draft, x.pauses.paused_on, x.pauses.paused_ms,
     x.cancel_epoch, x.resumed_on, x.resumed_to);
}

template <class Archive>
void serialize(Archive& ar, flow_version_record& x) {
  ar(x.name, x.version, x.published_on, x.definition);
}

template <class Archive>
void serialize(Archive& ar, order_record& x) {
  ar(x.id, x.text, x.received_on, x.events, x.cancelled);
}

template <class Archive>
void serialize(Archive& ar, step_result& x) {
  ar(x.step, x.outcome, x.attempts, x.error, x.ended_on);
  if (holds(ar, 3)) // journey record version 3
    ar(x.error_code);
}

template <class Archive>
void serialize(Archive& ar, fulfillment_order& x) {
  ar(x.id, x.source, x.lines, x.sent);
}

template <class Archive>
void serialize(Archive& ar, branch_slot& x) {
  ar(x.body, x.ended, x.failed);
}

template <class Archive>
void serialize(Archive& ar, path_state& x) {
  ar(x.seq, x.position, x.phase, x.previous, x.held, x.failed, x.cancelled,
     x.attempts, x.token, x.deadline, x.lines, x.branches, x.sending,
     x.last_error);
  if (holds(ar, 3)) // journey record version 3
    ar(x.last_error_code);
}

template <class Archive>
void serialize(Archive& ar, journey_snapshot& x) {
  ar(x.order_id, x.flow, x.version, x.state, x.created_on, x.updated_on, x.run,
     x.steps, x.fulfillment_orders, x.invoice_id, x.events, x.cancel_requested,
     x.error, x.paths, x.failed_paths, x.journal_chunks, x.cut_by_cancel,
     x.cancel_epoch);
}

template <class Archive>
void serialize(Archive& ar, library_policy& x) {
  ar(x.name, x.execution, x.json, x.updated_on);
}

template <class Archive>
void serialize(Archive& ar, ledger_entry& x) {
  ar(x.performed, x.repeats);
}

template <class Archive>
void serialize(Archive& ar, source_group& x) {
  ar(x.source, x.line_ids);
}

template <class Archive>
void serialize(Archive& ar, journal_entry& x) {
  ar(x.kind, x.at, x.path, x.step, x.attempt, x.outcome, x.state, x.ok, x.text,
     x.key, x.fulfillment, x.invoice_id);
  if (holds(ar, 2)) // journal chunk version 2
    ar(x.code);
}

namespace {

// -- archives over strings ----------------------------------------------------

/// Cereal's binary format written straight onto the end of a string: the
/// bytes of cereal::BinaryOutputArchive without its std::ostream, whose
/// sentry and virtual calls per field cost more than the copies. The
/// string is sized ahead and each field copied in place; it has its final
/// size once the archive is gone.
class string_output_archive
    : public cereal::OutputArchive<string_output_archive,
                                   cereal::AllowEmptyClassElision> {
public:
  explicit string_output_archive(std::string& out)
      : OutputArchive(this), out_(out) {
    auto used = out_.size();
    out_.resize(std::max(out_.capacity(), used + 256));
    at(used);
  }

  ~string_output_archive() {
    out_.resize(static_cast<std::size_t>(next_ - out_.data()));
  }

  string_output_archive(const string_output_archive&) = delete;
  string_output_archive& operator=(const string_output_archive&) = delete;

  void save_bytes(const void* data, std::size_t size) {
    room_for(size);
    std::memcpy(next_, data, size);
    next_ += size;
  }

  /// save_bytes of a size known when compiled (a number), copied inline:
  /// records are mostly such fields.
  template <std::size_t N>
  [[gnu::always_inline]] void save_fixed(const void* data) {
    room_for(N);
    std::memcpy(next_, data, N);
    next_ += N;
  }

private:
  [[gnu::always_inline]] void room_for(std::size_t size) {
    if (static_cast<std::size_t>(end_ - next_) < size)
      grow(size);
  }

  [[gnu::noinline]] void grow(std::size_t size) {
    auto used = static_cast<std::size_t>(next_ - out_.data());
    out_.resize(std::max(2 * out_.size(), used + size));
    at(used);
  }

  /// Writes go on at byte `used` of `out_`, whose whole size is room.
  void at(std::size_t used) {
    next_ = out_.data() + used;
    end_ = out_.data() + out_.size();
  }

  std::string& out_;
  char* next_ = nullptr; ///< where the next byte goes, in `out_`
  char* end_ = nullptr;  ///< the end of `out_`: the room ends here
};

template <class T>
std::enable_if_t<std::is_arithmetic<T>::value>
CEREAL_SAVE_FUNCTION_NAME(string_output_archive& ar, const T& t) {
  ar.save_fixed<sizeof(T)>(std::addressof(t));
}

template <class T>
void CEREAL_SERIALIZE_FUNCTION_NAME(string_output_archive& ar,
                                    cereal::NameValuePair<T>& t) {
  ar(t.value);
}

template <class T>
void CEREAL_SERIALIZE_FUNCTION_NAME(string_output_archive& ar,
                                    cereal::SizeTag<T>& t) {
  ar(t.size);
}

template <class T>
void CEREAL_SAVE_FUNCTION_NAME(string_output_archive& ar,
                               const cereal::BinaryData<T>& data) {
  ar.save_bytes(data.data, static_cast<std::size_t>(data.size));
}

/// A writer writes every field of the newest version.
bool holds(const string_output_archive&, uint16_t) {
  return true;
}

/// Cereal's binary format read straight from a record's payload, with one
/// difference from cereal::BinaryInputArchive: a length (of a string or a
/// list) longer than the bytes left is refused before anything is sized by
/// it, so a damaged record that passes its checksum cannot make a decoder
/// allocate gigabytes.
class bounded_input_archive
    : public cereal::InputArchive<bounded_input_archive,
                                  cereal::AllowEmptyClassElision> {
public:
  /// `version`: the payload version of the record `bytes` are of.
  bounded_input_archive(std::string_view bytes, uint16_t version)
      : InputArchive(this), bytes_(bytes), version_(version) {
  }

  uint16_t version() const {
    return version_;
  }

  void load_bytes(void* data, std::size_t size) {
    const char* from = bytes_.data();
    skip(size);
    std::memcpy(data, from, size);
  }

  /// Passes over `size` bytes.
  void skip(std::size_t size) {
    if (size > bytes_.size())
      throw cereal::Exception("it ends " + std::to_string(size - bytes_.size())
                              + " bytes early");
    bytes_.remove_prefix(size);
  }

  /// REQUIRES: every element of a list takes at least one byte.
  void check_length(uint64_t length) const {
    if (length > bytes_.size())
      throw cereal::Exception("a length of " + std::to_string(length)
                              + " where " + std::to_string(bytes_.size())
                              + " bytes are left");
  }

private:
  std::string_view bytes_;
  uint16_t version_;
};

/// Whether the payload being read has what version `since` added.
bool holds(const bounded_input_archive& ar, uint16_t since) {
  return ar.version() >= since;
}

template <class T>
std::enable_if_t<std::is_arithmetic<T>::value>
CEREAL_LOAD_FUNCTION_NAME(bounded_input_archive& ar, T& t) {
  ar.load_bytes(std::addressof(t), sizeof(t));
}

template <class T>
void CEREAL_SERIALIZE_FUNCTION_NAME(bounded_input_archive& ar,
                                    cereal::NameValuePair<T>& t) {
  ar(t.value);
}

template <class T>
void CEREAL_SERIALIZE_FUNCTION_NAME(bounded_input_archive& ar,
                                    cereal::SizeTag<T>& t) {
  ar(t.size);
  ar.check_length(static_cast<uint64_t>(t.size));
}

template <class T>
void CEREAL_LOAD_FUNCTION_NAME(bounded_input_archive& ar,
                               cereal::BinaryData<T>& data) {
  ar.load_bytes(data.data, static_cast<std::size_t>(data.size));
}

} // namespace
} // namespace orca

// Enums are stored through save_minimal/load_minimal, which pair an input
// archive with its output archive.
namespace cereal::traits::detail {
template <>
struct get_output_from_input<orca::bounded_input_archive> {
  using type = cereal::BinaryOutputArchive;
};
} // namespace cereal::traits::detail

namespace orca {
namespace {

/// CRC-32 (IEEE 802.3, as in zip and PNG): libdeflate's carry-less
/// multiply code, the same values as zlib's crc32 at six to eight times its
/// speed on record-sized payloads.
uint32_t checksum_of(std::string_view bytes) {
  return libdeflate_crc32(0, bytes.data(), bytes.size());
}

/// Fills in the header before a payload that already follows it in `out`.
void write_header(std::string& out, format::record_tag tag, uint16_t version) {
  auto payload = std::string_view{out}.substr(format::record_header_size);
  char* header = out.data();
  set_le(header, static_cast<uint8_t>(tag), 1);
  set_le(header + 1, version, 2);
  set_le(header + 3, checksum_of(payload), 4);
  set_le(header + 7, payload.size(), 4);
}

/// A record of `x`: the cereal payload is written straight after room for
/// the header, so that the record needs no second buffer.
template <class T>
std::string sealed(format::record_tag tag, uint16_t version, const T& x) {
  std::string out;
  out.reserve(1024);
  out.resize(format::record_header_size);
  {
    string_output_archive ar{out};
    ar(x);
  }
  write_header(out, tag, version);
  return out;
}

/// The payload of an older version of a record that differs from the
/// current one only by fields added at the end, all zero (false, 0) before:
/// `payload` with `missing` zero bytes after it.
std::string older_payload(std::string_view payload, std::size_t missing) {
  std::string result{payload};
  result.append(missing, '\0');
  return result;
}

template <class T>
caf::expected<T> from_payload(std::string_view payload, uint16_t version,
                              const std::string& what) {
  T result;
  try {
    bounded_input_archive ar{payload, version};
    ar(result);
  } catch (const std::exception& e) {
    return make_error(errc::corrupt_record,
                      "record " + what + " is damaged: " + e.what());
  }
  return result;
}

} // namespace

namespace detail {

std::string seal(format::record_tag tag, uint16_t version,
                 std::string_view payload) {
  std::string out(format::record_header_size, '\0');
  out.append(payload);
  write_header(out, tag, version);
  return out;
}

caf::expected<std::pair<std::string_view, uint16_t>>
unseal(std::string_view bytes, format::record_tag tag, uint16_t max_version,
       const std::string& what) {
  auto damaged = [&](const std::string& why) {
    return make_error(errc::corrupt_record,
                      "record " + what + " is damaged: " + why);
  };
  if (bytes.size() < format::record_header_size)
    return damaged("only " + std::to_string(bytes.size())
                   + " bytes, shorter than a record header");
  auto stored_tag = static_cast<uint8_t>(get_le(bytes, 0, 1));
  if (stored_tag != static_cast<uint8_t>(tag))
    return damaged("record kind " + std::to_string(stored_tag) + " where "
                   + std::to_string(static_cast<int>(tag)) + " was expected");
  auto version = static_cast<uint16_t>(get_le(bytes, 1, 2));
  if (version == 0 || version > max_version)
    return make_error(errc::store_too_new,
                      "record " + what + " has format version "
                        + std::to_string(version)
                        + "; this build of Orca reads versions up to "
                        + std::to_string(max_version));
  auto checksum = static_cast<uint32_t>(get_le(bytes, 3, 4));
  auto length = get_le(bytes, 7, 4);
  auto payload = bytes.substr(format::record_header_size);
  if (payload.size() != length)
    return damaged("payload of " + std::to_string(payload.size())
                   + " bytes where the header says " + std::to_string(length)
                   + " (truncated?)");
  if (checksum_of(payload) != checksum)
    return damaged("checksum mismatch");
  return std::make_pair(payload, version);
}

} // namespace detail

// -- each kind's tag, version and history -------------------------------------

/// What FORMAT.md says of each record kind: its tag, its payload version
/// now, and the bytes each later version added at the end of the payload
/// (added[0]: by version 2, ...), which a reader of an older version fills
/// with zeros.
template <class T>
struct record_kind;

template <>
struct record_kind<flow_record> {
  static constexpr auto tag = format::record_tag::flow;
  static constexpr uint16_t version = format::flow_record_version;
  /// 2: paused_on, paused_ms, cancel_epoch; 3: resumed_on, resumed_to.
  static constexpr std::size_t added[] = {
    2 * sizeof(int64_t) + sizeof(uint32_t), sizeof(int64_t) + sizeof(uint32_t)};
};

template <>
struct record_kind<flow_version_record> {
  static constexpr auto tag = format::record_tag::flow_version;
  static constexpr uint16_t version = format::flow_version_record_version;
  static constexpr std::size_t added[] = {0};
};

template <>
struct record_kind<order_record> {
  static constexpr auto tag = format::record_tag::order;
  static constexpr uint16_t version = format::order_record_version;
  static constexpr std::size_t added[] = {0};
};

template <>
struct record_kind<journey_snapshot> {
  static constexpr auto tag = format::record_tag::journey;
  static constexpr uint16_t version = format::journey_record_version;
  /// 2: cut_by_cancel, cancel_epoch; 3: error codes inside step results
  /// and paths (read by version, nothing at the end).
  static constexpr std::size_t added[] = {sizeof(bool) + sizeof(uint32_t), 0};
};

template <>
struct record_kind<std::vector<journal_entry>> {
  static constexpr auto tag = format::record_tag::journal_entry;
  static constexpr uint16_t version = format::journal_entry_version;
  /// 2: an error code inside each entry (read by version).
  static constexpr std::size_t added[] = {0};
};

template <>
struct record_kind<ledger_entry> {
  static constexpr auto tag = format::record_tag::provider_call;
  static constexpr uint16_t version = format::provider_call_version;
  static constexpr std::size_t added[] = {0};
};

template <>
struct record_kind<library_policy> {
  static constexpr auto tag = format::record_tag::policy;
  static constexpr uint16_t version = format::policy_record_version;
  static constexpr std::size_t added[] = {0};
};

void join_journal_chunks(std::string& into, std::string_view later) {
  // A chunk's payload is a u64 count of entries, then the entries.
  constexpr auto header = format::record_header_size;
  constexpr int count_size = sizeof(uint64_t);
  auto count =
    get_le(into, header, count_size) + get_le(later, header, count_size);
  into.append(later.substr(header + count_size));
  set_le(into.data() + header, count, count_size);
  write_header(into, format::record_tag::journal_entry,
               record_kind<std::vector<journal_entry>>::version);
}

namespace {

/// Passes over the string at byte `at` of `payload`, as cereal stores one
/// (a u64 length, then its bytes); false if it runs past the end.
/// REQUIRES: at <= payload.size().
bool pass_stored_string(std::string_view payload, std::size_t& at) {
  constexpr std::size_t length_size = sizeof(uint64_t);
  if (payload.size() - at < length_size)
    return false;
  auto length = get_le(payload, at, length_size);
  if (length > payload.size() - at - length_size)
    return false;
  at += length_size + length;
  return true;
}

} // namespace

std::optional<std::string>
order_with_event(std::string_view bytes, std::string_view type, bool cancel) {
  static const std::string what = "orders";
  auto payload = detail::unseal(bytes, format::record_tag::order,
                                format::order_record_version, what);
  if (!payload || payload->second != format::order_record_version)
    return std::nullopt;
  // id, text (a u64 length, then the bytes), received_on (i64), events (a
  // u64 count, then each as a string), cancelled (bool), as serialize()
  // writes them.
  constexpr std::size_t length_size = sizeof(uint64_t);
  auto in = payload->first;
  std::size_t at = 0;
  if (!pass_stored_string(in, at) || !pass_stored_string(in, at)
      || in.size() - at < sizeof(int64_t) + length_size)
    return std::nullopt;
  at += sizeof(int64_t);
  auto count_at = at;
  auto count = get_le(in, count_at, length_size);
  at += length_size;
  for (uint64_t i = 0; i < count; ++i)
    if (!pass_stored_string(in, at))
      return std::nullopt;
  if (in.size() - at != sizeof(bool))
    return std::nullopt;
  auto cancelled = in[at] != 0 || cancel;

  std::string out;
  out.reserve(bytes.size() + length_size + type.size());
  out.append(
    bytes.substr(0, format::record_header_size + in.size() - sizeof(bool)));
  set_le(out.data() + format::record_header_size + count_at, count + 1,
         length_size);
  put_le(out, type.size(), length_size);
  out.append(type);
  out.push_back(cancelled ? 1 : 0);
  write_header(out, format::record_tag::order, format::order_record_version);
  return out;
}

template <class T>
std::string encode(const T& record) {
  return sealed(record_kind<T>::tag, record_kind<T>::version, record);
}

template <class T>
caf::expected<T> decode(std::string_view bytes, const std::string& what) {
  using kind = record_kind<T>;
  static_assert(std::size(kind::added) + 1 >= kind::version,
                "each version after the first says what it added");
  auto payload = detail::unseal(bytes, kind::tag, kind::version, what);
  if (!payload)
    return payload.error();
  std::size_t missing = 0;
  for (auto v = payload->second; v < kind::version; ++v)
    missing += kind::added[v - 1];
  auto version = payload->second;
  if (missing == 0)
    return from_payload<T>(payload->first, version, what);
  return from_payload<T>(older_payload(payload->first, missing), version, what);
}

std::optional<journey_state> journey_state_in(std::string_view bytes) {
  static const std::string what = "journeys";
  auto payload = detail::unseal(bytes, format::record_tag::journey,
                                format::journey_record_version, what);
  if (!payload)
    return std::nullopt;
  // The first fields of every version, as cereal lays them out: the order
  // id and the flow (each a 64-bit length, then its bytes), the version (32
  // bits) and the state (8 bits). Read here without an archive: the index
  // reads the state of every journey record written.
  auto in = payload->first;
  std::size_t at = 0;
  if (!pass_stored_string(in, at) || !pass_stored_string(in, at)
      || in.size() - at < sizeof(uint32_t) + sizeof(journey_state))
    return std::nullopt;
  return static_cast<journey_state>(get_le(in, at + sizeof(uint32_t), 1));
}

#define ORCA_RECORD_KIND(T)                                                    \
  template std::string encode<T>(const T&);                                    \
  template caf::expected<T> decode<T>(std::string_view, const std::string&);
ORCA_RECORD_KIND(flow_record)
ORCA_RECORD_KIND(flow_version_record)
ORCA_RECORD_KIND(order_record)
ORCA_RECORD_KIND(journey_snapshot)
ORCA_RECORD_KIND(std::vector<journal_entry>)
ORCA_RECORD_KIND(ledger_entry)
ORCA_RECORD_KIND(library_policy)
#undef ORCA_RECORD_KIND

} // namespace orca
