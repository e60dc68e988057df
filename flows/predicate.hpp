#pragma once

// Predicates of filter policies and execution rules (SPEC §2.2): comparisons on
// dotted field paths, combined with all / any / not. Parsed once when a flow is
// loaded, evaluated many times against order headers and lines.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "flows/diagnostics.hpp"
#include "flows/json.hpp"

namespace re2 {
class RE2;
} // namespace re2

namespace orca {

enum class predicate_op : uint8_t {
  eq,
  ne,
  lt,
  le,
  gt,
  ge,
  in,
  not_in,
  exists,
  missing,
  matches,
  contains,
};

const char* to_string(predicate_op op);

/// A constant in a predicate: a number, a string or a boolean.
struct literal {
  enum class kind : uint8_t { number, string, boolean };
  kind type = kind::number;
  double number = 0;
  bool boolean = false;
  std::string text;

  std::string to_json() const;
};

/// One node of a predicate tree. Copies share the compiled regex.
struct predicate {
  enum class kind : uint8_t { compare, all, any, negate };

  kind type = kind::compare;

  // kind::compare
  predicate_op op = predicate_op::exists;
  field_path field;
  literal value; ///< for all ops but in / not_in / exists / missing
  std::vector<literal> values;             ///< for in / not_in
  std::shared_ptr<const re2::RE2> pattern; ///< for matches

  // kind::all, kind::any (any number), kind::negate (exactly one)
  std::vector<predicate> children;
};

/// Parses a predicate at `where`; reports every problem to `diags` and
/// returns nothing if there was one.
std::optional<predicate> parse_predicate(const json_value& json,
                                         const std::string& where,
                                         diagnostics& diags);

/// Evaluates `p` with paths starting at `scope` (an order or one of its lines).
///
/// Rules (SPEC §2.2): numbers compare as numbers and strings as strings; a
/// comparison between different types is false (for in / not_in: when no
/// element of the list has the field's type). A missing key, or a JSON null,
/// makes every op false except missing, ne and not_in, which are true.
bool evaluate(const predicate& p, const json_value& scope);

/// A short human-readable form, e.g. `channel ne "b2b"`, for trees and
/// diagrams.
std::string to_text(const predicate& p);

} // namespace orca
