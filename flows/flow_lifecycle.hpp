#pragma once

// The lifecycle of a flow (SPEC §2.4) as pure rules on records: create,
// update, publish, stop, pause, resume. The store applies them inside one
// LMDB transaction each; the engine carries out what they mean for running
// journeys.

#include <cstdint>
#include <string>
#include <vector>

#include "flows/flow.hpp"
#include "flows/flow_pauses.hpp"
#include "flows/policy_library.hpp"

namespace orca {

enum class flow_status : uint8_t { unpublished = 0, published = 1 };

const char* to_string(flow_status status);

/// What the node knows about one flow, by name.
struct flow_record {
  std::string name;
  int64_t created_on = 0; ///< ms since the Unix epoch
  int64_t updated_on = 0;
  flow_status status = flow_status::unpublished;
  bool paused = false;
  uint32_t latest_version = 0; ///< newest frozen version; 0: never published
  uint32_t draft_version = 1;  ///< the number the draft gets when published
  std::string draft;           ///< JSON text of the draft
  /// The flow's pauses, which make its own time, in which waits run.
  flow_pauses pauses;
  /// How many times the flow was stopped with --cancel-in-flight. A journey
  /// records the value it had when it started; one that is smaller than
  /// the flow's was in flight at such a stop and is cancelled, even if the
  /// node died before the journey heard of it.
  uint32_t cancel_epoch = 0;
  /// The last resume: when, and the latest version then. Journeys that had
  /// started no step by then move to that version (SPEC §2.4); one that a
  /// crash kept from moving moves when the node restarts.
  int64_t resumed_on = 0;
  uint32_t resumed_to = 0;
  /// Not stored: set by flow_store::list on a flow whose record cannot be
  /// read, to why (the other fields are empty then but the name).
  std::string damaged;

  /// Whether the draft differs from the latest frozen version.
  bool draft_is_new() const {
    return draft_version > latest_version;
  }
};

/// One frozen, immutable version of a flow.
struct flow_version_record {
  std::string name;
  uint32_t version = 0;
  int64_t published_on = 0;
  std::string definition; ///< JSON text, exactly as published
};

/// Result of a publish: the new flow record and, when the draft was new, the
/// version it froze.
struct publish_outcome {
  flow_record flow;
  std::optional<flow_version_record> frozen;
  uint32_t version = 0; ///< the version new orders now go to
};

/// Parses `text` and turns every problem into one invalid_flow error whose
/// message has one line per problem, each prefixed with `origin`.
caf::expected<flow_ptr>
parse_flow_or_error(std::string_view text, const std::string& origin,
                    const limits& lim = default_limits());

/// A new Unpublished flow with `text` as its version 1 draft. The text may
/// refer to policies of `library` (policy_library.hpp).
caf::expected<flow_record>
lifecycle_create(std::string_view text, const std::string& origin, int64_t now,
                 const limits& lim = default_limits(),
                 const policy_library& library = {});

/// Replaces the draft of an Unpublished flow, or of a paused Published one.
caf::expected<flow_record>
lifecycle_update(const flow_record& current, std::string_view text,
                 const std::string& origin, int64_t now,
                 const limits& lim = default_limits(),
                 const policy_library& library = {});

/// Validates the draft with the library policies it uses copied in
/// (providers must be in `registered`) and freezes that as the next
/// version, or publishes the latest version (`latest_definition`) again if
/// nothing changed, neither the draft nor a library policy it uses.
/// Publishing a Published flow changes nothing unless it is paused and
/// changed: then the new version is frozen and the flow stays paused.
caf::expected<publish_outcome> lifecycle_publish(
  const flow_record& current, const std::vector<std::string>& registered,
  int64_t now, const limits& lim = default_limits(),
  const policy_library& library = {}, std::string_view latest_definition = {});

/// With `cancel_in_flight`, every journey the flow has at that moment is to
/// be cancelled: the flow's cancel_epoch goes up.
caf::expected<flow_record> lifecycle_stop(const flow_record& current,
                                          int64_t now,
                                          bool cancel_in_flight = false);
caf::expected<flow_record> lifecycle_pause(const flow_record& current,
                                           int64_t now);
caf::expected<flow_record> lifecycle_resume(const flow_record& current,
                                            int64_t now);

} // namespace orca
