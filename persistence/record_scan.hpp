#pragma once

// Reading every record under a key prefix, decoded: the one loop that the
// journal, the provider ledger and the like share.

#include <string>
#include <string_view>

#include "persistence/lmdb_store.hpp"
#include "persistence/records.hpp"

namespace orca {

/// Calls `f(key, record)` for each record of kind T under `prefix` in `db`,
/// in key order, while it returns true. `what(key)` names a record in
/// errors. Stops at the first record that does not decode and returns its
/// error: what follows a damaged record is not taken for the whole.
template <class T, class What, class F>
caf::error scan_records(lmdb_txn& txn, MDB_dbi db, std::string_view prefix,
                        What what, F f) {
  caf::error failure;
  auto err =
    txn.scan(db, prefix, [&](std::string_view key, std::string_view value) {
      auto record = decode<T>(value, what(key));
      if (!record) {
        failure = record.error();
        return false;
      }
      return f(key, std::move(*record));
    });
  return err ? err : failure;
}

} // namespace orca
