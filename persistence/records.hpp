#pragma once

// Encoding of every record Orca stores, in the envelope of FORMAT.md: tag,
// payload version, CRC-32 and length, then the payload written with cereal's
// binary archive. Decoding checks all of them, so a truncated or damaged
// record is reported, never misread. cereal is used in records.cpp only.

#include <string>
#include <string_view>

#include "flows/flow_lifecycle.hpp"
#include "flows/policy_library.hpp"
#include "persistence/journal.hpp"
#include "persistence/journey_snapshot.hpp"
#include "persistence/provider_ledger.hpp"
#include "persistence/format.hpp"

namespace orca {

std::string encode(const flow_record& record);
std::string encode(const flow_version_record& record);
std::string encode(const library_policy& policy);
caf::expected<library_policy> decode_policy(std::string_view bytes,
                                            const std::string& what);

/// `what` names the record in error messages, e.g. `flows/"Order to invoice"`.
caf::expected<flow_record> decode_flow_record(std::string_view bytes,
                                              const std::string& what);
caf::expected<flow_version_record>
decode_flow_version_record(std::string_view bytes, const std::string& what);

std::string encode(const order_record& record);
std::string encode(const journey_snapshot& snapshot);

std::string encode(const std::vector<journal_entry>& chunk);
std::string encode(const ledger_entry& entry);
caf::expected<ledger_entry> decode_ledger_entry(std::string_view bytes,
                                                const std::string& what);
caf::expected<std::vector<journal_entry>>
decode_journal_chunk(std::string_view bytes, const std::string& what);

caf::expected<order_record> decode_order_record(std::string_view bytes,
                                                const std::string& what);
caf::expected<journey_snapshot>
decode_journey_snapshot(std::string_view bytes, const std::string& what);

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
