#pragma once

// The journey record of SPEC §5: what users, scripts and subscribers see of a
// journey. Made from a snapshot and the flow version it runs on.

#include <optional>
#include <string>
#include <vector>

#include "persistence/journey_snapshot.hpp"

namespace orca {

struct step_entry {
  std::string name;
  std::string kind; ///< action or element kind, e.g. "send_to_dom"
  bool is_action = true;
  std::string path; ///< "" at top level, "Split/Branch" below
  step_outcome outcome = step_outcome::succeeded;
  uint32_t attempts = 0;
  std::optional<std::string> error;
  /// The name of the errc of a provider failure, e.g. "provider_timeout".
  std::optional<std::string> error_code;
  int64_t ended_on = 0;
};

struct journey_record {
  std::string order_id;
  std::string flow;
  uint32_t version = 0;
  journey_state state = journey_state::received;
  std::vector<step_entry> steps;
  std::vector<fulfillment_order> fulfillment_orders;
  std::optional<std::string> invoice_id;
  // Beyond §5:
  int64_t created_on = 0;
  int64_t updated_on = 0;
  std::optional<std::string> error; ///< why the journey failed, if no step says
  std::vector<std::string> waiting_for; ///< event types, when waiting
};

/// REQUIRES: `f` is the flow version the snapshot ran on.
journey_record make_record(const journey_snapshot& snapshot, const flow& f);

/// One compact JSON object: the §5 fields in §5 order, then `created_on`,
/// `updated_on`, and `error` / `waiting_for` when they apply.
std::string to_json(const journey_record& record);

/// One fulfillment order as a JSON object: id, source, lines and, if
/// `with_sent`, whether it was sent.
void write_fulfillment_order(json_writer& w, const fulfillment_order& fo,
                             bool with_sent);

/// The members of that object, for a writer inside StartObject/EndObject
/// (so that callers can add fields of their own, such as a timeline).
void write_members(json_writer& w, const journey_record& record);

} // namespace orca
