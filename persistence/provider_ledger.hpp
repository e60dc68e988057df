#pragma once

// The ledger of simulated providers: which idempotency keys a provider has
// carried out, so that a request sent again (after a time-out or a restart)
// is answered without being carried out twice, the way a real provider that
// honours idempotency keys would. Kept in the store, so it survives the
// node. Thread-safe.

#include <functional>
#include <map>
#include <string>

#include "persistence/group_commit.hpp"
#include "persistence/lmdb_store.hpp"

namespace orca {

struct ledger_entry {
  uint32_t performed = 0; ///< times carried out (1 if keys are honoured)
  uint32_t repeats = 0;   ///< requests answered from the ledger instead
};

class provider_ledger {
public:
  /// REQUIRES: both outlive this object.
  provider_ledger(store& db, group_committer& writer)
      : db_(db), writer_(writer) {
  }

  /// Records that `provider` carries out `key`, unless it already did;
  /// `done(first)` runs once that is durable, or gets the error that kept
  /// it from being written.
  void perform(const std::string& provider, const std::string& key,
               std::function<void(caf::expected<bool> first)> done);

  /// Every entry of `provider`, by idempotency key.
  caf::expected<std::map<std::string, ledger_entry>>
  entries(const std::string& provider);

private:
  store& db_;
  group_committer& writer_;
};

} // namespace orca
