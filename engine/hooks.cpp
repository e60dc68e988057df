#include "engine/hooks.hpp"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "engine/intake_source.hpp"
#include "persistence/format.hpp"
#include "persistence/journey_record.hpp"
#include "persistence/keys.hpp"
#include "persistence/records.hpp"

namespace orca {

namespace {

using steady = std::chrono::steady_clock;

/// A receiver's answer counts by its status alone, whatever its body.
constexpr std::size_t status_only = 0;

/// Deliveries waiting with their body in memory, per hook; past that the
/// body is read from the outbox when its turn comes.
constexpr uint64_t bodies_kept = 4096;

/// Deliveries (of different journeys) a sender writes back to back on a
/// connection that allows it.
constexpr std::size_t deliveries_per_write = 128;

/// How long a sender waits for more deliveries while another one is at
/// work.
constexpr auto gather_time = std::chrono::milliseconds{4};

/// Outbox deletes a sender gathers into one write request.
constexpr std::size_t deletes_per_request = 64;

/// A sequence number is the node's start time in ms, shifted, plus a count:
/// unique across restarts without a counter written on every commit.
constexpr unsigned count_bits = 22;

/// "2026-12-06T21:41:51.123Z"
std::string iso_time(int64_t ms) {
  auto secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buffer[40];
  auto n = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buffer + n, sizeof buffer - n, ".%03dZ",
                static_cast<int>(((ms % 1000) + 1000) % 1000));
  return buffer;
}

std::string encode_delivery(const std::string& journey,
                            const std::string& body) {
  std::string payload;
  auto size = static_cast<uint32_t>(journey.size());
  for (int i = 0; i < 4; ++i)
    payload += static_cast<char>((size >> (8 * i)) & 0xff);
  payload += journey;
  payload += body;
  return detail::seal(format::record_tag::hook_delivery,
                      format::hook_delivery_version, payload);
}

/// The journey key and body of a stored delivery.
caf::expected<std::pair<std::string, std::string>>
decode_delivery(std::string_view bytes, const std::string& what) {
  auto unsealed = detail::unseal(bytes, format::record_tag::hook_delivery,
                                 format::hook_delivery_version, what);
  if (!unsealed)
    return unsealed.error();
  auto payload = unsealed->first;
  if (payload.size() < 4)
    return make_error(errc::corrupt_record, what + " is damaged: too short");
  uint32_t size = 0;
  for (int i = 0; i < 4; ++i)
    size |= uint32_t{static_cast<unsigned char>(payload[i])} << (8 * i);
  if (payload.size() - 4 < size)
    return make_error(errc::corrupt_record,
                      what + " is damaged: its journey key runs past its end");
  return std::make_pair(std::string{payload.substr(4, size)},
                        std::string{payload.substr(4 + size)});
}

uint64_t seq_of(std::string_view key) {
  uint64_t seq = 0;
  for (auto c : key.substr(key.size() - 8))
    seq = (seq << 8) | static_cast<unsigned char>(c);
  return seq;
}

/// The step of a step delivery, as §5 writes a step: name, action (or
/// element), path; for an ended step its outcome, attempts, error and
/// error code, for a started one the
/// attempt it starts (0 before the first). As the journal entry has them:
/// the record holds the step's latest run, which may be a later one.
std::string step_json(const journal_entry& e, const flow& model,
                      hook_kind kind) {
  std::string name;
  std::string path;
  std::string action;
  bool is_action = true;
  if (e.step != no_step && e.step < model.steps.size()) {
    const auto& s = model.steps[e.step];
    name = s.name;
    path = model.sequences[s.sequence].path;
    action = s.kind_name();
    is_action = s.is_action;
  }
  std::string out = "{\"name\":" + quote(name) + ",\""
    + (is_action ? "action" : "element") + "\":" + quote(action)
    + ",\"path\":" + quote(path);
  if (kind == hook_step_started)
    return out + ",\"attempt\":" + std::to_string(e.attempt) + "}";
  out += std::string{",\"outcome\":\""} + to_string(e.outcome)
    + "\",\"attempts\":" + std::to_string(e.attempt) + ",\"error\":"
    + (e.text.empty() ? "null" : quote(e.text)) + ",\"error_code\":"
    + (e.code == errc{} ? "null"
                        : "\"" + std::string{to_string(e.code)} + "\"");
  return out + "}";
}

/// What hooks may be told of a journal entry (hook_kind bits; 0: nothing).
uint8_t kinds_of(const journal_entry& e) {
  switch (e.kind) {
    case journal_kind::step_started: return hook_step_started;
    case journal_kind::step_ended: return hook_step_ended;
    case journal_kind::state_changed:
      return is_terminal(e.state) ? hook_journey_state | hook_journey_ended
                                  : hook_journey_state;
    case journal_kind::redriven: return hook_journey_state;
    default: return 0;
  }
}

} // namespace

std::string outbox_key(const std::string& hook, uint64_t seq) {
  std::string key = hook;
  key += '\0';
  for (int shift = 56; shift >= 0; shift -= 8)
    key += static_cast<char>((seq >> shift) & 0xff);
  return key;
}

// -- the dispatcher -----------------------------------------------------------

/// One hook: its queues of deliveries by journey and its senders.
struct hook_dispatcher::lane {
  std::string name;
  hook_config config;

  mutable std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  /// A delivery not yet sent: its number and, while the backlog is short,
  /// its body (else it is read from the outbox when sent).
  struct pending {
    uint64_t seq;
    std::string body;
  };
  /// Journey -> its deliveries not yet sent, in order. A journey with a
  /// queue is in exactly one of: ready, later, or sending.
  std::map<std::string, std::deque<pending>> queues;
  std::deque<std::string> ready;
  std::multimap<steady::time_point, std::string> later;
  std::map<std::string, uint32_t> backoff_ms;
  uint64_t backlog = 0;
  std::size_t attempts_under_way = 0; ///< senders between taking and done
  uint64_t delivered = 0;
  uint64_t failed_attempts = 0;
  std::string last_error;
  std::vector<std::thread> senders;

  /// REQUIRES: mutex held.
  void add(const std::string& journey, uint64_t seq, std::string body = {}) {
    auto [it, fresh] = queues.try_emplace(journey);
    if (backlog >= bodies_kept)
      body.clear();
    it->second.push_back({seq, std::move(body)});
    ++backlog;
    if (fresh) {
      ready.push_back(journey);
      // A sender is woken for the first ready journey, and for a whole
      // write's worth (one may be gathering them, see send_loop); whoever
      // takes journeys wakes another if some are left.
      if (ready.size() == 1 || ready.size() == deliveries_per_write)
        wake.notify_one();
    }
  }

  bool wants(uint8_t kind, const std::string& flow) const {
    return (config.kinds & kind) != 0
      && (config.flows.empty()
          || std::find(config.flows.begin(), config.flows.end(), flow)
            != config.flows.end());
  }
};

hook_dispatcher::hook_dispatcher(store& db, group_committer& writer,
                                 std::map<std::string, hook_config> hooks,
                                 options opts)
    : db_(db), writer_(writer), opts_(std::move(opts)) {
  for (auto& [name, config] : hooks) {
    auto l = std::make_unique<lane>();
    l->name = name;
    l->config = std::move(config);
    lanes_.push_back(std::move(l));
  }
}

hook_dispatcher::~hook_dispatcher() {
  stop();
}

caf::error hook_dispatcher::start() {
  if (lanes_.empty())
    return caf::none;
  auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
  uint64_t next = static_cast<uint64_t>(now_ms) << count_bits;
  {
    auto txn = db_.begin_read();
    if (!txn)
      return txn.error();
    // Every stored delivery, hooks no longer configured included: their
    // numbers are never given again.
    auto scanned = txn->scan(
      db_.hook_outbox, "", [&](std::string_view key, std::string_view value) {
        auto zero = key.find('\0');
        if (zero == std::string_view::npos || key.size() != zero + 9)
          return true;
        auto seq = seq_of(key);
        next = std::max(next, seq + 1);
        std::string hook{key.substr(0, zero)};
        for (auto& l : lanes_) {
          if (l->name != hook)
            continue;
          auto what =
            "record hook_outbox/" + quote(hook) + "/" + std::to_string(seq);
          auto decoded = decode_delivery(value, what);
          if (!decoded) {
            if (opts_.warn)
              opts_.warn(describe(decoded.error())
                         + "; the delivery is dropped");
            write_request req;
            req.ops.push_back(
              write_op::erase(db_.hook_outbox, std::string{key}));
            writer_.submit(std::move(req));
            break;
          }
          std::lock_guard<std::mutex> guard{l->mutex};
          l->add(decoded->first, seq);
        }
        return true;
      });
    if (scanned)
      return scanned;
  }
  next_seq_ = next;
  for (auto& l : lanes_)
    for (std::size_t i = 0; i < std::max<std::size_t>(1, opts_.senders); ++i)
      l->senders.emplace_back([this, lp = l.get()] { send_loop(*lp); });
  return caf::none;
}

void hook_dispatcher::stop() {
  for (auto& l : lanes_) {
    {
      std::lock_guard<std::mutex> guard{l->mutex};
      l->stopping = true;
    }
    l->wake.notify_all();
  }
  for (auto& l : lanes_) {
    for (auto& t : l->senders)
      if (t.joinable())
        t.join();
    l->senders.clear();
  }
}

bool hook_dispatcher::wants_changes(const std::string& flow) const {
  return std::any_of(lanes_.begin(), lanes_.end(), [&](const auto& l) {
    return l->wants(hook_step_started | hook_step_ended | hook_journey_state,
                    flow);
  });
}

bool hook_dispatcher::wants(const std::string& flow,
                            const std::vector<journal_entry>& chunk) const {
  for (const auto& e : chunk)
    if (auto kinds = kinds_of(e); kinds != 0)
      for (const auto& l : lanes_)
        if (l->wants(kinds, flow))
          return true;
  return false;
}

std::vector<hook_delivery>
hook_dispatcher::deliveries(const journey_snapshot& snapshot,
                            const std::vector<journal_entry>& chunk,
                            const flow& model) {
  std::vector<hook_delivery> out;
  if (lanes_.empty())
    return out;
  std::string journey_json; // made once, if some hook wants this change
  std::string key;
  for (const auto& e : chunk) {
    auto kinds = kinds_of(e);
    if (kinds == 0)
      continue;
    for (auto kind : all_hook_kinds) {
      if ((kinds & kind) == 0)
        continue;
      for (auto& l : lanes_) {
        if (!l->wants(kind, snapshot.flow))
          continue;
        if (journey_json.empty()) {
          journey_json = to_json(make_record(snapshot, model));
          key = journey_key(snapshot.order_id, snapshot.flow, snapshot.version);
        }
        hook_delivery d;
        d.hook = l->name;
        d.seq = next_seq_.fetch_add(1);
        d.journey = key;
        std::string id = l->name + "-" + std::to_string(d.seq);
        d.body = "{\"delivery_id\":" + quote(id) + ",\"hook\":" + quote(l->name)
          + ",\"kind\":\"" + to_string(kind) + "\",\"at\":\"" + iso_time(e.at)
          + "\",\"journey\":" + journey_json;
        if (kind == hook_step_started || kind == hook_step_ended)
          d.body += ",\"step\":" + step_json(e, model, kind);
        d.body += "}";
        out.push_back(std::move(d));
      }
    }
  }
  return out;
}

std::vector<write_op> hook_dispatcher::outbox_ops(
  const std::vector<hook_delivery>& deliveries) const {
  std::vector<write_op> ops;
  ops.reserve(deliveries.size());
  for (const auto& d : deliveries)
    ops.push_back(write_op::put(db_.hook_outbox, outbox_key(d.hook, d.seq),
                                encode_delivery(d.journey, d.body)));
  return ops;
}

void hook_dispatcher::committed(std::vector<hook_delivery> deliveries) {
  for (auto& d : deliveries)
    for (auto& l : lanes_)
      if (l->name == d.hook) {
        std::lock_guard<std::mutex> guard{l->mutex};
        l->add(d.journey, d.seq, std::move(d.body));
      }
}

std::vector<hook_status> hook_dispatcher::status() const {
  std::vector<hook_status> out;
  for (const auto& l : lanes_) {
    std::lock_guard<std::mutex> guard{l->mutex};
    out.push_back({l->name, l->config.url, l->backlog, l->delivered,
                   l->failed_attempts, l->last_error});
  }
  return out;
}

/// The first delivery of a ready journey, taken for one attempt.
struct hook_dispatcher::attempt {
  std::string journey;
  uint64_t seq = 0;
  std::string body; ///< empty: to be read from the outbox
  std::string error;
  bool dropped = false; ///< not in the outbox (any more), or damaged
  bool delivered = false;
  /// Not answered through no fault of its own (behind a failure or a
  /// close): it goes again at once.
  bool not_reached = false;
};

void hook_dispatcher::send(lane& l, http_endpoint::connection& connection,
                           std::vector<attempt>& batch) {
  std::optional<lmdb_txn> txn; // for the bodies not kept in memory
  std::vector<http_post> posts;
  std::vector<attempt*> posted;
  for (auto& a : batch) {
    if (a.body.empty()) {
      auto key = outbox_key(l.name, a.seq);
      if (!txn) {
        auto begun = db_.begin_read();
        if (!begun) {
          a.error = "reading the outbox: " + describe(begun.error());
          continue;
        }
        txn.emplace(std::move(*begun));
      }
      auto value = txn->get(db_.hook_outbox, key);
      if (!value) {
        a.error = "reading the outbox: " + describe(value.error());
        continue;
      }
      if (!*value) {
        a.dropped = true; // gone (a delivery of an earlier run, sent twice)
        continue;
      }
      auto what =
        "record hook_outbox/" + quote(l.name) + "/" + std::to_string(a.seq);
      auto decoded = decode_delivery(**value, what);
      if (!decoded) {
        if (opts_.warn)
          opts_.warn(describe(decoded.error()) + "; the delivery is dropped");
        a.dropped = true;
        continue;
      }
      a.body = std::move(decoded->second);
    }
    http_post post;
    if (!l.config.secret.empty())
      post.headers.emplace_back(
        "X-Orca-Signature",
        "sha256="
          + sign_payload({"", l.config.secret, signature_encoding::hex},
                         a.body));
    post.body = std::move(a.body);
    posts.push_back(std::move(post));
    posted.push_back(&a);
  }
  txn.reset();
  auto outcomes = l.config.endpoint->post_batch(connection, posts,
                                                opts_.timeout_ms, status_only);
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    auto& a = *posted[i];
    const auto& outcome = outcomes[i];
    if (outcome.not_reached) {
      a.not_reached = true;
      continue;
    }
    if (!outcome.answered)
      a.error = outcome.error;
    else if (outcome.status < 200 || outcome.status > 299)
      a.error =
        "HTTP " + std::to_string(outcome.status) + " from " + l.config.url;
    else
      a.delivered = true;
    if (opts_.attempted)
      opts_.attempted(l.name, a.delivered);
  }
}

void hook_dispatcher::send_loop(lane& l) {
  pthread_setname_np(pthread_self(), "orca.hook");
  // Kept open between deliveries while the receiver allows.
  http_endpoint::connection connection;
  // Deliveries done whose outbox records are not deleted yet: deleted
  // together, when there are enough or nothing else is ready (a crash
  // before that sends them again, which at least once allows).
  std::vector<std::string> done;
  auto delete_done = [&] {
    if (done.empty())
      return;
    write_request req;
    for (auto& key : done)
      req.ops.push_back(write_op::erase(db_.hook_outbox, std::move(key)));
    done.clear();
    writer_.submit(std::move(req));
  };
  std::vector<attempt> batch;
  std::unique_lock<std::mutex> lock{l.mutex};
  while (!l.stopping) {
    auto now = steady::now();
    while (!l.later.empty() && l.later.begin()->first <= now) {
      l.ready.push_back(std::move(l.later.begin()->second));
      l.later.erase(l.later.begin());
    }
    if (l.ready.empty()) {
      if (!done.empty()) {
        lock.unlock();
        delete_done();
        lock.lock();
        continue;
      }
      if (l.later.empty())
        l.wake.wait(lock);
      else
        l.wake.wait_until(lock, l.later.begin()->first);
      continue;
    }
    if (l.attempts_under_way > 0 && connection.pipelines()
        && l.ready.size() < deliveries_per_write) {
      // Another sender is at work: the deliveries that come meanwhile go
      // together, when there is a write's worth or after a moment, or to
      // the other sender, whichever comes first.
      l.wake.wait_until(lock, now + gather_time, [&] {
        return l.stopping || l.ready.size() >= deliveries_per_write;
      });
      if (l.stopping || l.ready.empty())
        continue;
    }
    // Journeys ready at the same time go back to back on a connection
    // that takes that, one delivery of each: whatever becomes of one,
    // the others keep their order.
    batch.clear();
    auto most = connection.pipelines() ? deliveries_per_write : 1;
    while (!l.ready.empty() && batch.size() < most) {
      auto& next = l.queues[l.ready.front()].front();
      // A retry needs the body again: copied, not moved.
      auto& a = batch.emplace_back();
      a.journey = std::move(l.ready.front());
      a.seq = next.seq;
      a.body = next.body;
      l.ready.pop_front();
    }
    ++l.attempts_under_way;
    if (!l.ready.empty())
      l.wake.notify_one();
    lock.unlock();
    send(l, connection, batch);
    for (auto& a : batch)
      if (a.delivered || a.dropped) {
        done.push_back(outbox_key(l.name, a.seq));
        if (done.size() >= deletes_per_request)
          delete_done();
      }

    lock.lock();
    --l.attempts_under_way;
    for (auto& a : batch) {
      if (a.not_reached) {
        l.ready.push_back(std::move(a.journey));
      } else if (a.delivered || a.dropped) {
        auto& queue = l.queues[a.journey];
        queue.pop_front();
        --l.backlog;
        if (a.delivered)
          ++l.delivered;
        l.backoff_ms.erase(a.journey);
        if (queue.empty())
          l.queues.erase(a.journey);
        else
          l.ready.push_back(std::move(a.journey));
      } else {
        ++l.failed_attempts;
        l.last_error = a.error;
        auto& backoff = l.backoff_ms[a.journey];
        backoff = backoff == 0 ? opts_.first_backoff_ms
                               : std::min(opts_.max_backoff_ms, backoff * 2);
        l.later.emplace(steady::now() + std::chrono::milliseconds{backoff},
                        std::move(a.journey));
      }
    }
  }
  lock.unlock();
  delete_done();
}

} // namespace orca
