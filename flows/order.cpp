#include "flows/order.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <unordered_set>

#include <rapidjson/error/en.h>

namespace orca {

namespace {

/// Line indices are 16 bits wide (line_index), whatever the config says.
constexpr std::size_t max_lines = 65535;

} // namespace

caf::expected<order> order::parse(std::string_view text, const limits& lim) {
  if (text.size() > lim.order_bytes)
    return too_large("an order", text.size(), lim.order_bytes);
  order result;
  result.text_ = std::string{text};
  result.pool_ =
    std::make_unique<rapidjson::MemoryPoolAllocator<>>(2 * text.size() + 256);
  result.doc_ = json_document{result.pool_.get()};
  auto& doc = result.doc_;
  if (auto nul = text.find('\0'); nul != std::string_view::npos) {
    auto [line, column] = line_and_column(text, nul);
    return make_error(errc::invalid_json,
                      "order is not valid JSON: line " + std::to_string(line)
                        + ", column " + std::to_string(column) + ": "
                        + nul_byte_message);
  }
  auto* insitu = static_cast<char*>(result.pool_->Malloc(text.size() + 1));
  std::memcpy(insitu, text.data(), text.size());
  insitu[text.size()] = '\0';
  auto parsed = parse_insitu_bounded(doc, insitu, lim.json_depth);
  if (parsed.too_deep)
    return too_deep("the order", lim.json_depth);
  if (parsed.syntax.IsError()) {
    auto [line, column] = line_and_column(text, parsed.syntax.Offset());
    return make_error(errc::invalid_json,
                      "order is not valid JSON: line " + std::to_string(line)
                        + ", column " + std::to_string(column) + ": "
                        + rapidjson::GetParseError_En(parsed.syntax.Code()));
  }
  if (!doc.IsObject())
    return make_error(errc::invalid_order,
                      std::string{"an order must be a JSON object, not "}
                        + json_type_name(doc));
  auto id = doc.FindMember("id");
  if (id == doc.MemberEnd())
    return make_error(errc::invalid_order, "id: missing required field");
  if (!id->value.IsString() || id->value.GetStringLength() == 0)
    return make_error(errc::invalid_order, "id: must be a non-empty string");
  result.id_ = std::string{view_of(id->value)};
  if (auto err = check_name(result.id_, "id", lim.name_bytes))
    return make_error(err.code() == static_cast<uint8_t>(errc::limit_exceeded)
                        ? errc::limit_exceeded
                        : errc::invalid_order,
                      describe(err));
  // What an error names; built only for an error.
  auto where = [&] { return "order " + quote(result.id_) + ": "; };
  auto lines = doc.FindMember("lines");
  if (lines == doc.MemberEnd())
    return make_error(errc::invalid_order,
                      where() + "lines: missing required field");
  if (!lines->value.IsArray())
    return make_error(errc::invalid_order, where() + "lines: must be a list");
  auto line_limit = std::min(lim.order_lines, max_lines);
  auto count = lines->value.Size();
  if (count > line_limit)
    return make_error(errc::limit_exceeded,
                      where() + "lines: " + std::to_string(count)
                        + " lines is over the limit of "
                        + std::to_string(line_limit) + " lines");
  // Line ids seen so far: looked through in a list while it is short, in a
  // hash set beyond.
  constexpr rapidjson::SizeType few_lines = 16;
  std::vector<std::string_view> ids;
  std::unordered_set<std::string_view> many;
  if (count > few_lines)
    many.reserve(count);
  else
    ids.reserve(count);
  for (rapidjson::SizeType i = 0; i < count; ++i) {
    const auto& line = lines->value[i];
    auto line_where = [&] {
      return where() + "lines[" + std::to_string(i) + "]";
    };
    if (!line.IsObject())
      return make_error(errc::invalid_order,
                        line_where() + ": a line must be an object");
    auto line_id = line.FindMember("id");
    if (line_id == line.MemberEnd())
      return make_error(errc::invalid_order,
                        line_where() + ".id: missing required field");
    if (!line_id->value.IsString() || line_id->value.GetStringLength() == 0)
      return make_error(errc::invalid_order,
                        line_where() + ".id: must be a non-empty string");
    auto line_id_text = view_of(line_id->value);
    bool repeated = count > few_lines
      ? !many.insert(line_id_text).second
      : std::find(ids.begin(), ids.end(), line_id_text) != ids.end();
    if (repeated)
      return make_error(errc::invalid_order,
                        line_where() + ".id: duplicate line id "
                          + quote(line_id_text));
    if (count <= few_lines)
      ids.push_back(line_id_text);
  }
  return result;
}

std::string order_id_of(std::string_view text, std::size_t max_bytes) {
  json_document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsObject())
    return {};
  auto id = doc.FindMember("id");
  if (id == doc.MemberEnd() || !id->value.IsString()
      || check_name(view_of(id->value), "id", max_bytes))
    return {};
  return std::string{view_of(id->value)};
}

line_set all_lines(const order& o) {
  line_set result(o.line_count());
  for (std::size_t i = 0; i < result.size(); ++i)
    result[i] = static_cast<line_index>(i);
  return result;
}

order_ptr with_lines(const order_ptr& o, const line_set& lines) {
  if (lines.size() == o->line_count())
    return o;
  rapidjson::StringBuffer buffer;
  json_writer w{buffer};
  w.StartObject();
  for (const auto& member : o->header().GetObject()) {
    w.Key(member.name.GetString(), member.name.GetStringLength());
    if (view_of(member.name) != "lines") {
      member.value.Accept(w);
      continue;
    }
    w.StartArray();
    for (auto index : lines)
      o->line(index).Accept(w);
    w.EndArray();
  }
  w.EndObject();
  // The document is a copy of the order's own values, not a parse of the
  // text: they passed the node's limits and the order's checks at intake.
  // Its strings stay where the whole order's are, which it keeps.
  order scoped;
  scoped.whole_ = o->whole_ ? o->whole_ : o;
  scoped.id_ = o->id_;
  scoped.text_.assign(buffer.GetString(), buffer.GetSize());
  scoped.pool_ = std::make_unique<rapidjson::MemoryPoolAllocator<>>(
    scoped.text_.size() + scoped.text_.size() / 2 + 256);
  scoped.doc_ = json_document{scoped.pool_.get()};
  auto& doc = scoped.doc_;
  auto& memory = doc.GetAllocator();
  doc.SetObject();
  for (const auto& member : o->header().GetObject()) {
    json_value name{member.name, memory};
    if (view_of(member.name) != "lines") {
      doc.AddMember(name, json_value{member.value, memory}, memory);
      continue;
    }
    json_value picked{rapidjson::kArrayType};
    picked.Reserve(static_cast<rapidjson::SizeType>(lines.size()), memory);
    for (auto index : lines)
      picked.PushBack(json_value{o->line(index), memory}, memory);
    doc.AddMember(name, picked, memory);
  }
  return std::make_shared<const order>(std::move(scoped));
}

} // namespace orca
