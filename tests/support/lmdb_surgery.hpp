#pragma once

// Direct edits of a closed store's LMDB file, for damage tests: what a bad
// disk or a stray write could leave behind.

#include <functional>
#include <string>

#include <lmdb.h>

#include "persistence/format.hpp"

namespace orca::test {

/// Replaces the value of every entry of database `db` whose key starts with
/// `prefix` by `change(value)`. Returns how many it changed.
inline int
damage_records(const std::string& dir, const char* db,
               const std::string& prefix,
               const std::function<std::string(std::string)>& change) {
  MDB_env* env = nullptr;
  mdb_env_create(&env);
  mdb_env_set_maxdbs(env, format::max_databases);
  mdb_env_set_mapsize(env, std::size_t{64} << 30);
  if (mdb_env_open(env, dir.c_str(), 0, 0644) != MDB_SUCCESS) {
    mdb_env_close(env);
    return -1;
  }
  MDB_txn* txn = nullptr;
  mdb_txn_begin(env, nullptr, 0, &txn);
  MDB_dbi dbi;
  mdb_dbi_open(txn, db, 0, &dbi);
  MDB_cursor* cursor = nullptr;
  mdb_cursor_open(txn, dbi, &cursor);
  MDB_val key{prefix.size(), const_cast<char*>(prefix.data())};
  MDB_val value;
  int changed = 0;
  std::vector<std::pair<std::string, std::string>> edits;
  int rc = mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE);
  while (rc == MDB_SUCCESS) {
    std::string k{static_cast<char*>(key.mv_data), key.mv_size};
    if (k.compare(0, prefix.size(), prefix) != 0)
      break;
    edits.emplace_back(
      k, change(std::string{static_cast<char*>(value.mv_data), value.mv_size}));
    rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT);
  }
  mdb_cursor_close(cursor);
  for (auto& [k, v] : edits) {
    MDB_val kk{k.size(), k.data()};
    MDB_val vv{v.size(), v.data()};
    if (mdb_put(txn, dbi, &kk, &vv, 0) == MDB_SUCCESS)
      ++changed;
  }
  mdb_txn_commit(txn);
  mdb_env_close(env);
  return changed;
}

inline std::string flip_byte(std::string bytes, std::size_t at) {
  bytes[at % bytes.size()] = static_cast<char>(bytes[at % bytes.size()] ^ 0x5A);
  return bytes;
}

inline std::string truncate(std::string bytes, std::size_t keep) {
  bytes.resize(std::min(bytes.size(), keep));
  return bytes;
}

} // namespace orca::test
