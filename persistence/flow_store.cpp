#include "persistence/flow_store.hpp"

#include "persistence/keys.hpp"
#include "persistence/records.hpp"

namespace orca {

namespace {

std::string what_flow(const std::string& name) {
  return "flows/" + quote(name);
}

caf::error no_such_flow(const std::string& name) {
  return make_error(errc::no_such_flow, "no flow named " + quote(name));
}

caf::expected<flow_record> read_flow(lmdb_txn& txn, store& db,
                                     const std::string& name) {
  auto bytes = txn.get(db.flows, name);
  if (!bytes)
    return bytes.error();
  if (!*bytes)
    return no_such_flow(name);
  return decode<flow_record>(**bytes, what_flow(name));
}

std::string what_policy(const std::string& name) {
  return "policies/" + quote(name);
}

/// Every record of `dbi`, in key order. One that cannot be read is listed
/// by its key with why (`damaged`): it holds up only what uses it.
template <class Record>
caf::expected<std::vector<Record>>
read_all(lmdb_txn& txn, MDB_dbi dbi, std::string (*what)(const std::string&)) {
  std::vector<Record> result;
  auto err =
    txn.scan(dbi, "", [&](std::string_view key, std::string_view value) {
      auto record = decode<Record>(value, what(std::string{key}));
      if (record) {
        result.push_back(std::move(*record));
      } else {
        Record damaged;
        damaged.name = std::string{key};
        damaged.damaged = describe(record.error());
        result.push_back(std::move(damaged));
      }
      return true;
    });
  if (err)
    return err;
  return result;
}

caf::expected<policy_library> read_library(lmdb_txn& txn, store& db) {
  return read_all<library_policy>(txn, db.policies, what_policy);
}

/// The definition of the flow's latest frozen version ("" if none).
caf::expected<std::string> latest_definition(lmdb_txn& txn, store& db,
                                             const flow_record& f) {
  if (f.latest_version == 0)
    return std::string{};
  auto key = flow_version_key(f.name, f.latest_version);
  auto bytes = txn.get(db.flow_versions, key);
  if (!bytes)
    return bytes.error();
  if (!*bytes)
    return std::string{};
  auto frozen = decode<flow_version_record>(
    **bytes,
    "flow_versions/" + quote(f.name) + "/" + std::to_string(f.latest_version));
  if (!frozen)
    return frozen.error();
  return std::move(frozen->definition);
}

} // namespace

template <class Change>
caf::expected<flow_record> flow_store::modify(const std::string& name,
                                              Change change) {
  return db_.write([&](lmdb_txn& txn) -> caf::expected<flow_record> {
    auto current = read_flow(txn, db_, name);
    if (!current)
      return current.error();
    caf::expected<flow_record> next = [&] {
      if constexpr (std::is_invocable_v<Change, lmdb_txn&, const flow_record&>)
        return change(txn, *current);
      else
        return change(*current);
    }();
    if (!next)
      return next.error();
    if (auto err = txn.put(db_.flows, name, encode(*next)))
      return err;
    return next;
  });
}

caf::expected<flow_record> flow_store::create(std::string_view text,
                                              const std::string& origin,
                                              int64_t now) {
  return db_.write([&](lmdb_txn& txn) -> caf::expected<flow_record> {
    auto library = read_library(txn, db_);
    if (!library)
      return library.error();
    auto record = lifecycle_create(text, origin, now, limits_, *library);
    if (!record)
      return record.error();
    auto added = txn.put_new(db_.flows, record->name, encode(*record));
    if (!added)
      return added.error();
    if (!*added)
      return make_error(errc::flow_exists,
                        origin + ": name: a flow named " + quote(record->name)
                          + " already exists (use flow update to change it)");
    return record;
  });
}

caf::expected<flow_record> flow_store::update(std::string_view text,
                                              const std::string& origin,
                                              int64_t now) {
  auto parsed = parse_flow(text, limits_);
  if (parsed.name.empty())
    return parse_flow_or_error(text, origin, limits_).error();
  return modify(parsed.name,
                [&](lmdb_txn& txn,
                    const flow_record& current) -> caf::expected<flow_record> {
                  auto library = read_library(txn, db_);
                  if (!library)
                    return library.error();
                  return lifecycle_update(current, text, origin, now, limits_,
                                          *library);
                });
}

caf::expected<publish_outcome>
flow_store::publish(const std::string& name,
                    const std::vector<std::string>& providers, int64_t now) {
  return db_.write([&](lmdb_txn& txn) -> caf::expected<publish_outcome> {
    auto current = read_flow(txn, db_, name);
    if (!current)
      return current.error();
    auto library = read_library(txn, db_);
    if (!library)
      return library.error();
    auto latest = latest_definition(txn, db_, *current);
    if (!latest)
      return latest.error();
    auto outcome =
      lifecycle_publish(*current, providers, now, limits_, *library, *latest);
    if (!outcome)
      return outcome.error();
    if (auto err = txn.put(db_.flows, name, encode(outcome->flow)))
      return err;
    if (outcome->frozen) {
      auto key = flow_version_key(name, outcome->frozen->version);
      auto added =
        txn.put_new(db_.flow_versions, key, encode(*outcome->frozen));
      if (!added)
        return added.error();
      // Versions are immutable: a version number is frozen only once.
      if (!*added)
        return make_error(errc::corrupt_record,
                          what_flow(name) + ": version "
                            + std::to_string(outcome->frozen->version)
                            + " is already frozen but the flow record says "
                              "it is a draft");
    }
    return outcome;
  });
}

caf::expected<flow_record>
flow_store::stop(const std::string& name, int64_t now, bool cancel_in_flight) {
  return modify(name, [&](const flow_record& current) {
    return lifecycle_stop(current, now, cancel_in_flight);
  });
}

caf::expected<flow_record> flow_store::pause(const std::string& name,
                                             int64_t now) {
  return modify(name, [&](const flow_record& current) {
    return lifecycle_pause(current, now);
  });
}

caf::expected<flow_record> flow_store::resume(const std::string& name,
                                              int64_t now) {
  return modify(name, [&](const flow_record& current) {
    return lifecycle_resume(current, now);
  });
}

caf::expected<flow_record> flow_store::get(const std::string& name) {
  auto txn = db_.begin_read();
  if (!txn)
    return txn.error();
  return read_flow(*txn, db_, name);
}

caf::expected<std::vector<flow_record>> flow_store::list() {
  auto txn = db_.begin_read();
  if (!txn)
    return txn.error();
  return read_all<flow_record>(*txn, db_.flows, what_flow);
}

caf::error flow_store::scan(
  const std::function<bool(const std::string&, caf::expected<flow_record>)>&
    f) {
  auto txn = db_.begin_read();
  if (!txn)
    return txn.error();
  return txn->scan(
    db_.flows, "", [&](std::string_view key, std::string_view value) {
      std::string name{key};
      return f(name, decode<flow_record>(value, what_flow(name)));
    });
}

caf::expected<flow_version_record> flow_store::version(const std::string& name,
                                                       uint32_t version) {
  auto txn = db_.begin_read();
  if (!txn)
    return txn.error();
  auto bytes = txn->get(db_.flow_versions, flow_version_key(name, version));
  if (!bytes)
    return bytes.error();
  if (!*bytes) {
    auto flow = read_flow(*txn, db_, name);
    if (!flow)
      return flow.error();
    return make_error(errc::no_such_version,
                      "flow " + quote(name) + " has no version "
                        + std::to_string(version) + " (latest: "
                        + std::to_string(flow->latest_version) + ")");
  }
  return decode<flow_version_record>(
    **bytes, what_flow(name) + " version " + std::to_string(version));
}

caf::expected<policy_library>
flow_store::put_policies(std::string_view text, const std::string& origin,
                         int64_t now) {
  auto parsed = parse_policy_file(text, origin, limits_);
  if (!parsed)
    return parsed.error();
  return db_.write([&](lmdb_txn& txn) -> caf::expected<policy_library> {
    for (auto& p : *parsed) {
      p.updated_on = now;
      if (auto err = txn.put(db_.policies, p.name, encode(p)))
        return err;
    }
    return *parsed;
  });
}

caf::expected<policy_library> flow_store::policies() {
  auto txn = db_.begin_read();
  if (!txn)
    return txn.error();
  return read_library(*txn, db_);
}

caf::expected<library_policy> flow_store::policy(const std::string& name) {
  auto txn = db_.begin_read();
  if (!txn)
    return txn.error();
  auto bytes = txn->get(db_.policies, name);
  if (!bytes)
    return bytes.error();
  if (!*bytes)
    return make_error(errc::no_such_policy,
                      "no policy named " + quote(name) + " in the library");
  return decode<library_policy>(**bytes, what_policy(name));
}

caf::expected<library_policy>
flow_store::delete_policy(const std::string& name) {
  library_policy gone;
  auto done = db_.write([&](lmdb_txn& txn) -> caf::expected<bool> {
    auto bytes = txn.get(db_.policies, name);
    if (!bytes)
      return bytes.error();
    if (!*bytes)
      return make_error(errc::no_such_policy,
                        "no policy named " + quote(name) + " in the library");
    auto was = decode<library_policy>(**bytes, what_policy(name));
    if (was)
      gone = std::move(*was);
    else
      gone.name = name;
    if (auto err = txn.del(db_.policies, name))
      return err;
    return true;
  });
  if (!done)
    return done.error();
  return gone;
}

} // namespace orca
