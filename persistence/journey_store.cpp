#include "persistence/journey_store.hpp"

#include <algorithm>
#include <tuple>

#include "persistence/record_scan.hpp"

namespace orca {

namespace {

std::string what_journey(const journey_id& id) {
  return "journeys/" + quote(id.order_id) + "/" + quote(id.flow) + "/"
    + std::to_string(id.version);
}

std::string what_order(const std::string& order_id) {
  return "orders/" + quote(order_id);
}

/// decode, with the record's name (`name()`, for error messages) made only
/// when there is an error: a scan of millions of records names none.
template <class T, class Name>
caf::expected<T> decode_named(std::string_view bytes, const Name& name) {
  static const std::string unnamed;
  auto decoded = decode<T>(bytes, unnamed);
  if (!decoded)
    decoded = decode<T>(bytes, name());
  return decoded;
}

/// What a write request reports to `done`: no error once applied.
std::function<void(const write_result&)>
reporting(std::function<void(const caf::error&)> done) {
  if (!done)
    return {};
  return [done = std::move(done)](const write_result& r) {
    done(journey_store::save_error(r));
  };
}

} // namespace

missed_input missed_since(const journey_snapshot& snapshot,
                          const order_record& order) {
  missed_input result;
  for (const auto& type : order.events)
    if (type != event_types::cancel_order
        && std::find(snapshot.events.begin(), snapshot.events.end(), type)
          == snapshot.events.end()
        && std::find(result.events.begin(), result.events.end(), type)
          == result.events.end())
      result.events.push_back(type);
  result.cancel = order.cancelled && !snapshot.cancel_requested;
  return result;
}

std::vector<write_op>
journey_store::take_order(const order_record& order,
                          const std::vector<journey_snapshot>& firsts) const {
  std::vector<write_op> ops;
  ops.reserve(1 + firsts.size());
  ops.push_back(write_op::put_new(db_.orders, order.id, encode(order)));
  for (const auto& snap : firsts)
    ops.push_back(write_op::put(
      db_.journeys, journey_key(snap.order_id, snap.flow, snap.version),
      encode(snap)));
  return ops;
}

write_op journey_store::add_event(const std::string& order_id,
                                  const std::string& type) const {
  auto what = "orders/" + quote(order_id);
  return write_op::modify(
    db_.orders, order_id,
    [type, order_id, what](std::optional<std::string_view> current)
      -> caf::expected<std::optional<std::string>> {
      if (!current)
        return make_error(errc::no_such_order,
                          "no order " + quote(order_id) + " on this node");
      bool cancel = type == event_types::cancel_order;
      // Most records take the event in their bytes; any other (an older
      // version, or damaged) is decoded, and reported if it does not read.
      if (auto added = order_with_event(*current, type, cancel))
        return std::optional<std::string>{std::move(*added)};
      auto rec = decode<order_record>(*current, what);
      if (!rec)
        return rec.error();
      rec->events.push_back(type);
      if (cancel)
        rec->cancelled = true;
      return std::optional<std::string>{encode(*rec)};
    });
}

caf::error journey_store::save_error(const write_result& r) {
  if (r.applied)
    return caf::none;
  return r.error
    ? r.error
    : make_error(errc::storage_failure, "the snapshot was not written");
}

void journey_store::save(const journey_snapshot& snapshot,
                         const std::vector<journal_entry>& chunk,
                         std::function<void(const write_result&)> done,
                         std::vector<write_op> with) {
  write_request req;
  req.ops = std::move(with);
  req.ops.reserve(req.ops.size() + 3);
  auto key = journey_key(snapshot.order_id, snapshot.flow, snapshot.version);
  if (!chunk.empty())
    req.ops.push_back(write_op::put_joined(
      db_.journal, journal_key(key, snapshot.journal_chunks - 1), encode(chunk),
      join_journal_chunks));
  if (is_terminal(snapshot.state)) {
    // The journal of an ended journey is kept until its retention is over.
    req.ops.push_back(write_op::put(
      db_.journal_expiry, journal_expiry_key(snapshot.updated_on, key), ""));
  }
  // Saves of one journey queued together go into one write: its last
  // record, one chunk of every entry (under the first chunk's number; the
  // numbers of the others stay unused) and every outbox record.
  req.coalesce = key;
  req.ops.push_back(
    write_op::put(db_.journeys, std::move(key), encode(snapshot)));
  req.done = std::move(done);
  writer_.submit(std::move(req));
}

void journey_store::move(const journey_snapshot& from,
                         const journey_snapshot& to,
                         std::function<void(const caf::error&)> done) {
  write_request req;
  auto old_key = journey_key(from.order_id, from.flow, from.version);
  for (uint32_t chunk = 0; chunk < from.journal_chunks; ++chunk)
    req.ops.push_back(
      write_op::erase(db_.journal, journal_key(old_key, chunk)));
  req.ops.push_back(write_op::erase(db_.journeys, std::move(old_key)));
  req.ops.push_back(write_op::put(
    db_.journeys, journey_key(to.order_id, to.flow, to.version), encode(to)));
  req.done = reporting(std::move(done));
  writer_.submit(std::move(req));
}

void journey_store::mark_failed(
  const journey_id& id, std::string reason, int64_t now,
  std::function<void(std::optional<journey_snapshot>)> done) {
  auto result = std::make_shared<std::optional<journey_snapshot>>();
  write_request req;
  req.ops.push_back(write_op::modify(
    db_.journeys, id.key(),
    [id, reason, now, result](std::optional<std::string_view> current)
      -> caf::expected<std::optional<std::string>> {
      journey_snapshot snap;
      snap.created_on = now;
      if (current) {
        auto decoded = decode<journey_snapshot>(*current, what_journey(id));
        if (decoded) {
          if (is_terminal(decoded->state))
            return std::optional<std::string>{};
          snap = std::move(*decoded);
        }
      }
      snap.order_id = id.order_id;
      snap.flow = id.flow;
      snap.version = id.version;
      snap.state = journey_state::failed;
      snap.error = reason;
      snap.updated_on = now;
      *result = snap;
      return std::optional<std::string>{encode(snap)};
    }));
  req.done = [result, done = std::move(done)](const write_result& r) {
    if (done)
      done(r.applied ? *result : std::nullopt);
  };
  writer_.submit(std::move(req));
}

caf::expected<journey_snapshot>
journey_store::load_snapshot(const journey_id& id) {
  auto txn = db_.begin_read();
  if (!txn)
    return txn.error();
  auto bytes = txn->get(db_.journeys, id.key());
  if (!bytes)
    return bytes.error();
  if (!*bytes)
    return make_error(errc::no_such_journey,
                      "no journey of order " + quote(id.order_id) + " on flow "
                        + quote(id.flow) + " version "
                        + std::to_string(id.version));
  return decode<journey_snapshot>(**bytes, what_journey(id));
}

caf::expected<order_record>
journey_store::load_order(const std::string& order_id) {
  auto txn = db_.begin_read();
  if (!txn)
    return txn.error();
  return order_from(txn->get(db_.orders, order_id), order_id);
}

caf::expected<order_record>
journey_store::order_from(caf::expected<std::optional<std::string_view>> bytes,
                          const std::string& order_id) {
  if (!bytes)
    return bytes.error();
  if (!*bytes)
    return make_error(errc::no_such_order,
                      "no order " + quote(order_id) + " on this node");
  return decode_named<order_record>(**bytes,
                                    [&] { return what_order(order_id); });
}

caf::expected<restart_point>
journey_store::load_for_restart(const journey_id& id) {
  auto snap = load_snapshot(id);
  if (!snap)
    return snap.error();
  auto rec = load_order(id.order_id);
  if (!rec)
    return rec.error();
  auto parsed = order::parse(rec->text);
  if (!parsed)
    return make_error(errc::corrupt_record,
                      "record " + what_order(id.order_id)
                        + " holds an order that no longer parses: "
                        + describe(parsed.error()));
  restart_point result;
  auto missed = missed_since(*snap, *rec);
  result.missed_events = std::move(missed.events);
  result.missed_cancel = missed.cancel;
  result.the_order = std::make_shared<const order>(std::move(*parsed));
  result.snapshot = std::move(*snap);
  return result;
}

namespace {

/// A stored journey.
caf::expected<journey_snapshot>
decode_journey(std::string_view key, const std::optional<journey_id>& id,
               std::string_view value) {
  return decode_named<journey_snapshot>(
    value, [&] { return id ? what_journey(*id) : "journeys/" + quote(key); });
}

} // namespace

caf::error journey_store::scan(
  const std::string& prefix,
  const std::function<bool(const std::optional<journey_id>&,
                           caf::expected<journey_snapshot>)>& f,
  const std::string& from) {
  auto txn = db_.begin_read();
  if (!txn)
    return txn.error();
  return txn->scan_from(db_.journeys, prefix, from,
                        [&](std::string_view key, std::string_view value) {
                          auto id = journey_id::from_key(key);
                          return f(id, decode_journey(key, id, value));
                        });
}

caf::error journey_store::scan_with_orders(const scan_with_orders_fn& f) {
  auto txn = db_.begin_read();
  if (!txn)
    return txn.error();
  // The journeys come in order id order, so the orders are read in key
  // order too.
  auto orders = txn->ordered_reads(db_.orders);
  if (!orders)
    return orders.error();
  std::string order_id; // of the journey at hand
  const order_reader order = [&]() {
    return order_from(orders->get(order_id), order_id);
  };
  return txn->scan(
    db_.journeys, "", [&](std::string_view key, std::string_view value) {
      auto id = journey_id::from_key(key);
      auto snap = decode_journey(key, id, value);
      order_id = id ? id->order_id : snap ? snap->order_id : std::string{};
      return f(id, std::move(snap), order);
    });
}

caf::expected<std::vector<journey_id>> journey_store::indexed(
  const std::optional<std::string>& flow, std::optional<journey_state> state,
  const std::optional<journey_id>& after, std::size_t limit) {
  auto txn = db_.begin_read();
  if (!txn)
    return txn.error();
  // The first index key at or after `from` (nothing at the end).
  auto first_from =
    [&](const std::string& from) -> caf::expected<std::optional<std::string>> {
    std::optional<std::string> found;
    auto err = txn->scan_from(db_.journey_states, "", from,
                              [&](std::string_view key, std::string_view) {
                                found = std::string{key};
                                return false;
                              });
    if (err)
      return err;
    return found;
  };
  // Each flow and state the index holds (within the filters) is a run of
  // keys sorted by order id then version; the runs are merged below.
  std::vector<std::string> runs;
  std::string from = flow ? journey_state_prefix(*flow) : std::string{};
  for (;;) {
    auto key = first_from(from);
    if (!key)
      return key.error();
    if (!*key)
      break;
    auto e = journey_state_entry::from_key(**key);
    if (!e) {
      from = **key + '\0'; // not a key of the index's shape: past it
      continue;
    }
    if (flow && e->id.flow != *flow)
      break;
    if (!state || e->state == static_cast<uint8_t>(*state))
      runs.push_back(journey_state_prefix(e->id.flow, e->state));
    // On to the flow's next state, or to the next flow.
    auto past_flow = e->id.flow + '\x01';
    if (!state)
      from = e->state < 0xFF ? journey_state_prefix(e->id.flow, e->state + 1)
                             : past_flow;
    else if (e->state < static_cast<uint8_t>(*state))
      from = journey_state_prefix(e->id.flow, static_cast<uint8_t>(*state));
    else
      from = past_flow;
  }
  auto key_order = [](const journey_id& a, const journey_id& b) {
    return std::tie(a.order_id, a.flow, a.version)
      < std::tie(b.order_id, b.flow, b.version);
  };
  std::vector<journey_id> result;
  for (const auto& run : runs) {
    std::size_t taken = 0;
    auto start = after ? run + after->order_id : run;
    auto err = txn->scan_from(db_.journey_states, run, start,
                              [&](std::string_view key, std::string_view) {
                                auto e = journey_state_entry::from_key(key);
                                if (!e)
                                  return true;
                                if (after && !key_order(*after, e->id))
                                  return true;
                                result.push_back(std::move(e->id));
                                return limit == 0 || ++taken < limit;
                              });
    if (err)
      return err;
  }
  std::sort(result.begin(), result.end(), key_order);
  if (limit > 0 && result.size() > limit)
    result.resize(limit);
  return result;
}

void journey_store::expire_journals(
  int64_t cutoff, std::size_t limit,
  std::function<void(caf::expected<std::size_t>)> done) {
  std::vector<std::string> expired;
  std::vector<std::string> chunks;
  {
    auto txn = db_.begin_read();
    if (!txn) {
      done(txn.error());
      return;
    }
    auto err = txn->scan(
      db_.journal_expiry, "", [&](std::string_view key, std::string_view) {
        auto e = journal_expiry::from_key(key);
        if (!e || expired.size() >= limit || e->ended_on >= cutoff)
          return false;
        expired.emplace_back(key);
        return true;
      });
    if (err) {
      done(err);
      return;
    }
    for (const auto& e : expired) {
      // A journey redriven since it ended has a later expiry of its own.
      auto bytes = txn->get(db_.journeys, e.substr(8));
      if (bytes && *bytes) {
        auto snap = decode<journey_snapshot>(**bytes, "journeys");
        if (snap && (!is_terminal(snap->state) || snap->updated_on >= cutoff))
          continue;
      }
      err = txn->scan(db_.journal, journal_prefix(e.substr(8)),
                      [&](std::string_view key, std::string_view) {
                        chunks.emplace_back(key);
                        return true;
                      });
      if (err) {
        done(err);
        return;
      }
    }
  }
  if (expired.empty()) {
    done(std::size_t{0});
    return;
  }
  write_request req;
  for (auto& key : chunks)
    req.ops.push_back(write_op::erase(db_.journal, std::move(key)));
  auto n = expired.size();
  for (auto& key : expired)
    req.ops.push_back(write_op::erase(db_.journal_expiry, std::move(key)));
  req.done = [n, done = std::move(done)](const write_result& r) {
    if (r.applied)
      done(n);
    else
      done(caf::expected<std::size_t>{r.error});
  };
  writer_.submit(std::move(req));
}

caf::expected<std::vector<journal_entry>>
journey_store::journal(const journey_id& id) {
  auto txn = db_.begin_read();
  if (!txn)
    return txn.error();
  std::vector<journal_entry> result;
  auto err = scan_records<std::vector<journal_entry>>(
    *txn, db_.journal, journal_prefix(id.key()),
    [](std::string_view key) { return "journal/" + quote(key); },
    [&](std::string_view, std::vector<journal_entry> chunk) {
      for (auto& e : chunk)
        result.push_back(std::move(e));
      return true;
    });
  if (err)
    return err;
  return result;
}

} // namespace orca
