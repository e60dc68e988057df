#pragma once

// The typed model of an orchestration flow (SPEC §2). A parsed flow is
// immutable and shared by every journey that runs on its version.
//
// Steps are stored flat: `steps` holds every step of the flow in document
// order (depth first) and `sequences` every list of steps, the top-level one
// first. A branch of a splitter or condition names the sequence that is its
// body, so a running path is just (sequence, position).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "flows/predicate.hpp"

namespace orca {

using step_id = uint16_t;
using sequence_id = uint16_t;

constexpr step_id no_step = 0xFFFF;
constexpr sequence_id top_sequence = 0;

enum class action_kind : uint8_t {
  validate_order_header,
  validate_order_line,
  send_to_dom,
  assign_fulfillment_source,
  send_to_fulfillment,
  send_to_fulfillment_fno,
  send_to_invoice,
  custom,
};

enum class element_kind : uint8_t {
  condition,
  condition_merge,
  splitter,
  splitter_merge,
};

enum class policy_scope : uint8_t { header, line };

enum class execution_kind : uint8_t {
  header_validation,
  line_validation,
  fulfillment_source,
};

const char* to_string(action_kind kind);
const char* to_string(element_kind kind);
const char* to_string(policy_scope scope);
const char* to_string(execution_kind kind);

/// The provider role an action uses ("dom", "fulfillment", ...), or "" for
/// built-in actions and `custom`.
const char* provider_role(action_kind kind);

/// Whether an action is carried out by a provider (as opposed to built in).
bool uses_provider(action_kind kind);

bool is_merge(element_kind kind);
bool is_condition(element_kind kind);

struct filter_policy {
  std::string name;
  policy_scope scope = policy_scope::header;
  predicate when;
};

struct validation_rule {
  predicate when;
  std::string message;
};

struct source_rule {
  predicate when;
  std::string source;
};

struct execution_policy {
  std::string name;
  execution_kind kind = execution_kind::header_validation;
  std::vector<validation_rule> rules; ///< validation kinds
  std::vector<source_rule> sources;   ///< fulfillment_source
  std::optional<std::string> default_source;
};

struct retry_policy {
  uint32_t max_attempts = 3;
  uint32_t backoff_ms = 100;
  uint32_t max_backoff_ms = 10000;

  /// Delay before attempt `next_attempt` (2, 3, ...): backoff doubling from
  /// `backoff_ms`, capped at `max_backoff_ms`.
  uint32_t delay_before(uint32_t next_attempt) const;
};

struct branch {
  std::string name; ///< "yes" / "no" for conditions
  sequence_id body = 0;
};

struct step {
  std::string name;
  step_id id = 0;
  sequence_id sequence = 0; ///< the sequence this step belongs to
  uint16_t position = 0;    ///< index within that sequence

  bool is_action = true;
  action_kind action = action_kind::custom;       ///< if is_action
  element_kind element = element_kind::condition; ///< if !is_action

  // Actions.
  std::vector<std::string> input_events;
  std::vector<uint16_t> filters;     ///< indices into flow::filters
  std::vector<uint16_t> executions;  ///< indices into flow::executions
  std::string provider;              ///< provider id, "" for built-ins
  std::optional<retry_policy> retry; ///< none: one attempt
  uint32_t timeout_ms = 0;           ///< per attempt; 0: none
  uint32_t wait_timeout_ms = 0;      ///< for input_events; 0: none

  // Elements: a splitter's branches, or a condition's {yes, no}.
  std::vector<branch> branches;

  /// "validate_order_header", "splitter_merge", ...
  const char* kind_name() const;

  uint32_t max_attempts() const {
    return retry ? retry->max_attempts : 1;
  }
};

struct sequence {
  std::string path; ///< "" at top level, "Split/Branch" below
  std::vector<step_id> steps;
  step_id owner = no_step; ///< element whose branch this is
};

struct flow {
  std::string name;
  std::string type;
  std::string description;
  std::vector<filter_policy> filters;
  std::vector<execution_policy> executions;
  std::vector<step> steps;
  std::vector<sequence> sequences;

  const sequence& top() const {
    return sequences[top_sequence];
  }

  /// The sequence of the element whose branch `body` is: where a branch
  /// that ends reports.
  sequence_id parent_of(sequence_id body) const {
    return steps[sequences[body].owner].sequence;
  }

  /// The step after `id` in its sequence, or no_step if it is the last.
  step_id next_in_sequence(step_id id) const;

  /// The step named `name`, or nullptr.
  const step* find_step(std::string_view name) const;

  /// Provider ids the flow's actions use, each once.
  std::vector<std::string> provider_ids() const;
};

using flow_ptr = std::shared_ptr<const flow>;

struct parsed_flow {
  flow_ptr model; ///< set only when `errors` is empty
  diagnostics errors;
  std::string name; ///< the flow's name if it could be read
  /// The text as a whole is over a limit of SPEC §8 (its size, depth or
  /// number of steps), not only wrong.
  bool over_limit = false;
};

/// Parses and validates a flow definition (every rule of SPEC §2.1 except
/// that providers are registered, which `check_providers` does at publish
/// time) and the limits of `lim` (SPEC §8). Reports all problems of the
/// text in one pass.
parsed_flow parse_flow(std::string_view text,
                       const limits& lim = default_limits());

/// Reports every action whose provider is not in `registered`.
diagnostics check_providers(const flow& f,
                            const std::vector<std::string>& registered);

} // namespace orca
