#pragma once

// Flows and their frozen versions in the store. Each lifecycle operation is
// one LMDB write transaction: read the record, apply the rule of
// flows/flow_lifecycle.hpp, write the record (and a frozen version) back.
// Thread-safe: LMDB serialises the write transactions.

#include <functional>
#include <string>
#include <vector>

#include "flows/flow_lifecycle.hpp"
#include "persistence/lmdb_store.hpp"

namespace orca {

class flow_store {
public:
  /// REQUIRES: `db` outlives this object. New and updated flows are
  /// checked against `lim`.
  explicit flow_store(store& db, limits lim = default_limits())
      : db_(db), limits_(lim) {
  }

  caf::expected<flow_record> create(std::string_view text,
                                    const std::string& origin, int64_t now);
  caf::expected<flow_record> update(std::string_view text,
                                    const std::string& origin, int64_t now);
  caf::expected<publish_outcome>
  publish(const std::string& name, const std::vector<std::string>& providers,
          int64_t now);
  caf::expected<flow_record> stop(const std::string& name, int64_t now,
                                  bool cancel_in_flight = false);
  caf::expected<flow_record> pause(const std::string& name, int64_t now);
  caf::expected<flow_record> resume(const std::string& name, int64_t now);

  caf::expected<flow_record> get(const std::string& name);
  caf::expected<std::vector<flow_record>> list();

  /// Every flow record, or the error that makes it unreadable, by name,
  /// while `f` returns true.
  caf::error scan(const std::function<bool(const std::string& name,
                                           caf::expected<flow_record>)>& f);
  caf::expected<flow_version_record> version(const std::string& name,
                                             uint32_t version);

  // -- the policy library (SPEC §2.2) -----------------------------------------

  /// Puts every policy of a library file (parse_policy_file) into the
  /// library, replacing those of the same names, in one transaction.
  /// Returns the policies put.
  caf::expected<policy_library>
  put_policies(std::string_view text, const std::string& origin, int64_t now);
  /// Every policy of the library, by name.
  caf::expected<policy_library> policies();
  caf::expected<library_policy> policy(const std::string& name);
  /// Deletes a policy; returns it as it was (only its name if its record
  /// was damaged: a damaged policy can be deleted too).
  caf::expected<library_policy> delete_policy(const std::string& name);

private:
  /// Runs `change` on the stored record named `name` and writes the result
  /// back in the same transaction.
  template <class Change>
  caf::expected<flow_record> modify(const std::string& name, Change change);

  store& db_;
  limits limits_;
};

} // namespace orca
