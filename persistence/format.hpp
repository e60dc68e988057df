#pragma once

// Everything Orca writes to disk is named here. WRITTEN TO DISK: never change
// or reuse a value below. Retire a value by commenting it out and leaving it
// in place, so that nobody reuses it. The layout is described in FORMAT.md.

#include <cstdint>

namespace orca::format {

/// Version of the store as a whole, kept under `meta_store_format_key` in
/// the meta database. A store whose version is newer than this is refused.
/// History: 1 = first format; 2 = the policies database; 3 = the
/// journey_states index; 4 = the hook_outbox database. An older store is
/// brought to the current format when opened: new databases are created,
/// and the index is built from the journeys the store holds.
constexpr uint32_t store_format_version = 4;

// LMDB named databases.
constexpr const char* db_meta = "meta";
constexpr const char* db_flows = "flows";
constexpr const char* db_flow_versions = "flow_versions";
constexpr const char* db_orders = "orders";
constexpr const char* db_journeys = "journeys";
constexpr const char* db_journal = "journal";
constexpr const char* db_provider_calls = "provider_calls";
constexpr const char* db_journal_expiry = "journal_expiry";
constexpr const char* db_policies = "policies";
constexpr const char* db_journey_states = "journey_states";
constexpr const char* db_hook_outbox = "hook_outbox";

constexpr unsigned max_databases = 16;

// Keys of the meta database.
constexpr const char* meta_store_format_key = "store_format";

/// Separates the parts of a composite key. Names and ids never contain
/// control characters, so a 0 byte cannot occur inside a part.
constexpr char key_separator = '\0';

/// The first byte of every record value: what kind of record it is.
enum class record_tag : uint8_t {
  flow = 1,
  flow_version = 2,
  order = 3,
  journey = 4,
  journal_entry = 5, ///< a chunk of journal entries
  provider_call = 6,
  policy = 7,        ///< a policy of the node's library
  hook_delivery = 8, ///< a hook delivery waiting in the outbox
};

/// Version of each record kind's payload, written after its tag. Readers
/// refuse versions newer than these.
/// 2 added paused_on, paused_ms, cancel_epoch; 3 resumed_on, resumed_to.
constexpr uint16_t flow_record_version = 3;
constexpr uint16_t flow_version_record_version = 1;
constexpr uint16_t order_record_version = 1;
/// 2 added cut_by_cancel, cancel_epoch; 3 the error code of each step
/// result and path.
constexpr uint16_t journey_record_version = 3;
/// 2 added the error code of each entry.
constexpr uint16_t journal_entry_version = 2;
constexpr uint16_t provider_call_version = 1;
constexpr uint16_t policy_record_version = 1;
constexpr uint16_t hook_delivery_version = 1;

/// Bytes before the payload: tag (1), version (2, little endian), CRC-32 of
/// the payload (4, little endian), payload length (4, little endian).
constexpr std::size_t record_header_size = 11;

} // namespace orca::format
