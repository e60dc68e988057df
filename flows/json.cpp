#include "flows/json.hpp"

#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/encodedstream.h>
#include <rapidjson/reader.h>

namespace orca {

namespace {

/// Hands the parser's events on to `to` (a document being built), and
/// stops the parse at an array or object nested deeper than `max`.
struct depth_bound {
  json_document& to;
  std::size_t max;
  std::size_t depth = 0;
  bool too_deep = false;

  using size_type = rapidjson::SizeType;
  bool Null() {
    return to.Null();
  }
  bool Bool(bool b) {
    return to.Bool(b);
  }
  bool Int(int i) {
    return to.Int(i);
  }
  bool Uint(unsigned u) {
    return to.Uint(u);
  }
  bool Int64(int64_t i) {
    return to.Int64(i);
  }
  bool Uint64(uint64_t u) {
    return to.Uint64(u);
  }
  bool Double(double d) {
    return to.Double(d);
  }
  bool RawNumber(const char* s, size_type n, bool copy) {
    return to.RawNumber(s, n, copy);
  }
  bool String(const char* s, size_type n, bool copy) {
    return to.String(s, n, copy);
  }
  bool Key(const char* s, size_type n, bool copy) {
    return to.Key(s, n, copy);
  }
  bool StartObject() {
    return deeper() && to.StartObject();
  }
  bool EndObject(size_type members) {
    --depth;
    return to.EndObject(members);
  }
  bool StartArray() {
    return deeper() && to.StartArray();
  }
  bool EndArray(size_type elements) {
    --depth;
    return to.EndArray(elements);
  }

private:
  bool deeper() {
    too_deep = ++depth > max;
    return !too_deep;
  }
};

template <unsigned Flags, class Stream>
json_parse_result parse_with_bound(json_document& doc, Stream& in,
                                   std::size_t max_depth) {
  json_parse_result result;
  // Populate lets the document take the events of a parser run here, as
  // its own Parse does with a parser of its own.
  auto generate = [&](json_document& handler) {
    rapidjson::Reader reader;
    depth_bound bound{handler, max_depth};
    result.syntax = reader.Parse<Flags>(in, bound);
    result.too_deep = bound.too_deep;
    return result.ok();
  };
  doc.Populate(generate);
  return result;
}

} // namespace

json_parse_result parse_bounded(json_document& doc, std::string_view text,
                                std::size_t max_depth) {
  rapidjson::MemoryStream bytes{text.data(), text.size()};
  rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> in{
    bytes};
  return parse_with_bound<json_parse_flags>(doc, in, max_depth);
}

json_parse_result parse_insitu_bounded(json_document& doc, char* text,
                                       std::size_t max_depth) {
  rapidjson::InsituStringStream in{text};
  return parse_with_bound<json_parse_flags | rapidjson::kParseInsituFlag>(
    doc, in, max_depth);
}

std::pair<std::size_t, std::size_t> line_and_column(std::string_view text,
                                                    std::size_t offset) {
  std::size_t line = 1;
  std::size_t column = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

caf::expected<json_document> parse_json(std::string_view text,
                                        std::string_view origin,
                                        std::size_t max_depth) {
  json_document doc;
  // RapidJSON takes a NUL byte for the end of the text, and would accept
  // what comes before it; JSON text never holds one.
  if (auto nul = text.find('\0'); nul != std::string_view::npos) {
    auto [line, column] = line_and_column(text, nul);
    std::string msg{origin};
    if (!msg.empty())
      msg += ": ";
    msg += "line " + std::to_string(line) + ", column " + std::to_string(column)
      + ": " + nul_byte_message;
    return make_error(errc::invalid_json, std::move(msg));
  }
  auto parsed = parse_bounded(doc, text, max_depth);
  if (parsed.too_deep) {
    std::string what{origin};
    return make_error(
      errc::limit_exceeded,
      describe(too_deep(what.empty() ? "the document" : what + ": the document",
                        max_depth)));
  }
  if (parsed.syntax.IsError()) {
    auto [line, column] = line_and_column(text, parsed.syntax.Offset());
    std::string msg{origin};
    if (!msg.empty())
      msg += ": ";
    msg += "line " + std::to_string(line) + ", column " + std::to_string(column)
      + ": " + rapidjson::GetParseError_En(parsed.syntax.Code());
    return make_error(errc::invalid_json, std::move(msg));
  }
  return doc;
}

field_path split_path(std::string_view dotted) {
  field_path result;
  std::size_t start = 0;
  while (true) {
    auto dot = dotted.find('.', start);
    result.emplace_back(dotted.substr(start, dot - start));
    if (dot == std::string_view::npos)
      break;
    start = dot + 1;
  }
  return result;
}

std::string join_path(const field_path& path) {
  std::string result;
  for (const auto& segment : path) {
    if (!result.empty())
      result += '.';
    result += segment;
  }
  return result;
}

namespace {

bool all_digits(const std::string& s) {
  if (s.empty() || s.size() > 9)
    return false;
  for (char c : s)
    if (c < '0' || c > '9')
      return false;
  return true;
}

} // namespace

const json_value* find_path(const json_value& root, const field_path& path) {
  const json_value* current = &root;
  for (const auto& segment : path) {
    if (current->IsObject()) {
      auto it = current->FindMember(
        json_value(rapidjson::StringRef(segment.data(), segment.size())));
      if (it == current->MemberEnd())
        return nullptr;
      current = &it->value;
    } else if (current->IsArray() && all_digits(segment)) {
      auto index = static_cast<rapidjson::SizeType>(std::stoul(segment));
      if (index >= current->Size())
        return nullptr;
      current = &(*current)[index];
    } else {
      return nullptr;
    }
  }
  return current;
}

const char* json_type_name(const json_value& value) {
  switch (value.GetType()) {
    case rapidjson::kNullType: return "null";
    case rapidjson::kFalseType:
    case rapidjson::kTrueType: return "boolean";
    case rapidjson::kObjectType: return "object";
    case rapidjson::kArrayType: return "array";
    case rapidjson::kStringType: return "string";
    case rapidjson::kNumberType: return "number";
  }
  return "unknown";
}

std::string to_json_text(const json_value& value) {
  rapidjson::StringBuffer buffer;
  json_writer writer{buffer};
  value.Accept(writer);
  return {buffer.GetString(), buffer.GetSize()};
}

std::string quote(std::string_view text) {
  rapidjson::StringBuffer buffer;
  json_writer writer{buffer};
  writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
  return {buffer.GetString(), buffer.GetSize()};
}

} // namespace orca
