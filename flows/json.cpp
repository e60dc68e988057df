#include "flows/json.hpp"

#include <rapidjson/error/en.h>

namespace orca {

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
  if (nests_deeper_than(text, max_depth)) {
    std::string what{origin};
    return make_error(
      errc::limit_exceeded,
      describe(too_deep(what.empty() ? "the document" : what + ": the document",
                        max_depth)));
  }
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
  doc.Parse<json_parse_flags>(text.data(), text.size());
  if (doc.HasParseError()) {
    auto [line, column] = line_and_column(text, doc.GetErrorOffset());
    std::string msg{origin};
    if (!msg.empty())
      msg += ": ";
    msg += "line " + std::to_string(line) + ", column " + std::to_string(column)
      + ": " + rapidjson::GetParseError_En(doc.GetParseError());
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
