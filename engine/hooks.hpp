#pragma once

// Step hooks (SPEC §9): other systems told, by HTTP POST, when a step of a
// journey starts or ends and when a journey changes state or ends.
//
//   {"hooks": {"ops": {"url": "http://127.0.0.1:9000/orca",
//                      "on": ["step_ended", "journey_ended"],
//                      "flows": ["Order to invoice"],
//                      "secret_env": "HOOK_SECRET"}}}
//
// A delivery is written to the store's outbox in the same commit as the
// journey change it reports, so a change is never stored without its
// deliveries nor a delivery without its change. Then each hook's senders
// POST them, at least once: a delivery leaves the outbox only after a 2xx
// answer. On a kept connection a sender writes the next deliveries of
// several journeys back to back (HTTP/1.1 pipelining), never two of the
// same journey. Deliveries of one journey go out in order, one at a time;
// one that fails waits (back-off from 100 ms, doubling up to 30 s) and holds
// back the later ones of that journey and hook only. After a restart the
// outbox is read again and sending goes on, each delivery with its
// delivery_id.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "actors/http_client.hpp"
#include "engine/node_protocol.hpp"
#include "flows/diagnostics.hpp"
#include "flows/flow.hpp"
#include "flows/json.hpp"
#include "flows/limits.hpp"
#include "persistence/group_commit.hpp"
#include "persistence/journal.hpp"
#include "persistence/journey_snapshot.hpp"

namespace orca {

/// What a hook may be told of (a set of these).
enum hook_kind : uint8_t {
  hook_step_started = 1,
  hook_step_ended = 2,
  hook_journey_state = 4,
  hook_journey_ended = 8,
};

/// Every kind, in the order of their names in SPEC §9.
constexpr hook_kind all_hook_kinds[] = {hook_step_started, hook_step_ended,
                                        hook_journey_state, hook_journey_ended};

/// "step_started", "step_ended", "journey_state" or "journey_ended".
const char* to_string(hook_kind kind);

/// The kind called `name`, if there is one.
std::optional<hook_kind> hook_kind_from(std::string_view name);

struct hook_config {
  std::string url;
  std::shared_ptr<const http_endpoint> endpoint;
  uint8_t kinds = 0;              ///< hook_kind bits
  std::vector<std::string> flows; ///< empty: every flow
  std::string secret;             ///< empty: deliveries are not signed
};

/// Reads the node config's "hooks" object. A `secret_env` naming a variable
/// that is not set goes to `unset` (orcad refuses to start, exit 2); every
/// other problem to `diags`, naming the field.
std::map<std::string, hook_config> parse_hooks(const json_value& json,
                                               const limits& lim,
                                               diagnostics& diags,
                                               std::vector<std::string>& unset);

/// One delivery on its way into the outbox.
struct hook_delivery {
  std::string hook;
  uint64_t seq = 0;
  std::string journey; ///< the journey's key: its deliveries go in order
  std::string body;
};

/// The outbox key of delivery `seq` of `hook`: HOOK 0x00 SEQ (u64 BE).
std::string outbox_key(const std::string& hook, uint64_t seq);

class hook_dispatcher {
public:
  struct options {
    uint32_t timeout_ms = 10000;
    uint32_t first_backoff_ms = 100;
    uint32_t max_backoff_ms = 30000;
    /// Deliveries of one hook sent at the same time (of different
    /// journeys).
    std::size_t senders = 4;
    std::function<void(const std::string&)> warn;
    /// After each attempt: (hook, delivered or not). May be empty.
    std::function<void(const std::string&, bool)> attempted;
  };

  /// REQUIRES: `db` and `writer` outlive this object.
  hook_dispatcher(store& db, group_committer& writer,
                  std::map<std::string, hook_config> hooks, options opts);
  ~hook_dispatcher();
  hook_dispatcher(const hook_dispatcher&) = delete;
  hook_dispatcher& operator=(const hook_dispatcher&) = delete;

  bool empty() const noexcept {
    return lanes_.empty();
  }

  /// Whether some hook wants steps or state changes of `flow`, each with
  /// the journey as it was then.
  bool wants_changes(const std::string& flow) const;

  /// Whether some hook wants a change of `chunk` on `flow` (cheap: no
  /// delivery is made).
  bool wants(const std::string& flow,
             const std::vector<journal_entry>& chunk) const;

  /// The deliveries a journey's save brings: one per matching hook for each
  /// step started or ended, state change and end in `chunk`, each carrying
  /// the journey as `snapshot` has it. Thread-safe.
  std::vector<hook_delivery> deliveries(const journey_snapshot& snapshot,
                                        const std::vector<journal_entry>& chunk,
                                        const flow& model);

  /// The outbox writes of `deliveries`, for the journey's write request.
  std::vector<write_op>
  outbox_ops(const std::vector<hook_delivery>& deliveries) const;

  /// They are committed: send them. Thread-safe.
  void committed(std::vector<hook_delivery> deliveries);

  /// Reads the outbox and starts the senders.
  caf::error start();

  /// Stops the senders; an attempt under way finishes first (at most
  /// timeout_ms). What was not delivered stays in the outbox.
  void stop();

  std::vector<hook_status> status() const;

private:
  struct lane;
  struct attempt;
  void send_loop(lane& l);
  /// One attempt of each delivery of `batch` (of different journeys), on
  /// `connection`: each comes out delivered, dropped, failed (with its
  /// error) or not reached.
  void send(lane& l, http_endpoint::connection& connection,
            std::vector<attempt>& batch);
  store& db_;
  group_committer& writer_;
  options opts_;
  std::vector<std::unique_ptr<lane>> lanes_;
  std::atomic<uint64_t> next_seq_{0};
};

} // namespace orca
