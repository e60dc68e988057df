#pragma once

// Thin helpers around RapidJSON, the JSON library Orca uses for flows, orders,
// configs and records: parse with line/column errors, walk dotted paths, write
// compact text.

#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "flows/errc.hpp"
#include "flows/limits.hpp"

namespace orca {

using json_value = rapidjson::Value;
using json_document = rapidjson::Document;
using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

/// Parses `text` as one JSON value, refusing one nested deeper than
/// `max_depth` (see parse_bounded). On failure the error names `origin`
/// (usually a file name) and the line and column of the problem.
caf::expected<json_document>
parse_json(std::string_view text, std::string_view origin,
           std::size_t max_depth = default_limits().json_depth);

/// The RapidJSON flags Orca parses with: no recursion (the depth is bounded
/// too, but the parser must not depend on it for its own safety). Numbers
/// are read with RapidJSON's default precision: its full-precision path has
/// undefined behaviour on long exponents (found by fuzzing), and orders and
/// flows go through the same parser, so their numbers compare alike.
constexpr unsigned json_parse_flags = rapidjson::kParseIterativeFlag;

/// Where a bounded parse stopped, if it did.
struct json_parse_result {
  rapidjson::ParseResult syntax; ///< an error where the text is not JSON
  bool too_deep = false;         ///< stopped at a value nested past the limit
  bool ok() const {
    return !too_deep && !syntax.IsError();
  }
};

/// Parses `text` into `doc` with json_parse_flags, stopping at the first
/// array or object nested deeper than `max_depth`: the depth is counted as
/// the parser goes, with no pass over the text before it. A NUL byte ends
/// the text for the parser: a caller that must refuse one looks for it
/// first (see parse_json). Only the result says whether the parse failed: the
/// document's own HasParseError() does not, and after a failed parse the
/// document holds what it held before (null, for a new one).
json_parse_result parse_bounded(json_document& doc, std::string_view text,
                                std::size_t max_depth);

/// The same for a NUL-terminated `text` that the document may keep its
/// strings in (RapidJSON's in-situ parsing): `text` must outlive `doc`.
json_parse_result parse_insitu_bounded(json_document& doc, char* text,
                                       std::size_t max_depth);

/// Why a text with a NUL byte is not JSON (RapidJSON would stop there).
constexpr const char* nul_byte_message =
  "a NUL byte, which JSON text cannot hold";

/// Line and column (both from 1) of a byte offset into `text`.
std::pair<std::size_t, std::size_t> line_and_column(std::string_view text,
                                                    std::size_t offset);

/// A dotted field path ("ship_to.country"), split once at parse time.
using field_path = std::vector<std::string>;

field_path split_path(std::string_view dotted);
std::string join_path(const field_path& path);

/// The value at `path` below `root`, or nullptr where a key is missing.
/// A segment made of digits indexes into an array.
const json_value* find_path(const json_value& root, const field_path& path);

/// "object", "array", "string", "number", "boolean" or "null".
const char* json_type_name(const json_value& value);

/// Compact JSON text of a value.
std::string to_json_text(const json_value& value);

/// `text` as a JSON string literal with quotes, for error messages.
std::string quote(std::string_view text);

/// Writes `s` as a JSON string (it may hold NUL bytes).
inline void write_string(json_writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

/// The string value of a RapidJSON string as a view.
inline std::string_view view_of(const json_value& value) {
  return {value.GetString(), value.GetStringLength()};
}

} // namespace orca
