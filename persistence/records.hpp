#pragma once

// Encoding of every record Orca stores, in the envelope of FORMAT.md: tag,
// payload version, CRC-32 and length, then the payload written with cereal's
// binary archive. Decoding checks all of them, so a truncated or damaged
// record is reported, never misread. cereal is used in records.cpp only.

#include <optional>
#include <string>
#include <string_view>

#include "flows/flow_lifecycle.hpp"
#include "flows/policy_library.hpp"
#include "persistence/journal.hpp"
#include "persistence/journey_snapshot.hpp"
#include "persistence/provider_ledger.hpp"
#include "persistence/format.hpp"

namespace orca {

/// A record of any kind Orca stores (flow_record, flow_version_record,
/// order_record, journey_snapshot, a journal chunk std::vector<journal_entry>,
/// ledger_entry, library_policy), sealed in its envelope.
template <class T>
std::string encode(const T& record);

/// Reads a record of kind T; an older payload version is read as the
/// current one with the fields added since zero. `what` names the record
/// in error messages, e.g. `flows/"Order to invoice"`.
template <class T>
caf::expected<T> decode(std::string_view bytes, const std::string& what);

/// The state a journey record holds, read from its first fields only (the
/// envelope is checked in full); nothing if it does not read.
std::optional<journey_state> journey_state_in(std::string_view bytes);

/// Appends the entries of journal chunk `later` to journal chunk `into`
/// (both records as encode() makes them, of the current version): `into`
/// becomes one chunk of both, in order. REQUIRES: both read as chunks.
void join_journal_chunks(std::string& into, std::string_view later);

/// The order record `bytes` with event type `type` added to its events (and
/// cancelled, if `type` is a cancel when `cancel` says so), as encode() of
/// the decoded record with the event pushed would write it; written from
/// the bytes without decoding them. Nothing if `bytes` is not an order
/// record of the current version that reads in full: decode it instead.
std::optional<std::string> order_with_event(std::string_view bytes,
                                            std::string_view type, bool cancel);

namespace detail {

/// Wraps a payload in the record envelope.
std::string seal(format::record_tag tag, uint16_t version,
                 std::string_view payload);

/// Checks the envelope and returns the payload and its version.
caf::expected<std::pair<std::string_view, uint16_t>>
unseal(std::string_view bytes, format::record_tag tag, uint16_t max_version,
       const std::string& what);

} // namespace detail

} // namespace orca
