#include "flows/predicate.hpp"

#include <cstring>

#include <re2/re2.h>

namespace orca {

namespace {

/// Memory one compiled pattern may use (RE2's budget for its automata).
constexpr int64_t max_pattern_memory = int64_t{8} << 20;

struct op_name {
  const char* name;
  predicate_op op;
};

constexpr op_name op_names[] = {
  {"eq", predicate_op::eq},           {"ne", predicate_op::ne},
  {"lt", predicate_op::lt},           {"le", predicate_op::le},
  {"gt", predicate_op::gt},           {"ge", predicate_op::ge},
  {"in", predicate_op::in},           {"not_in", predicate_op::not_in},
  {"exists", predicate_op::exists},   {"missing", predicate_op::missing},
  {"matches", predicate_op::matches}, {"contains", predicate_op::contains},
};

std::string op_list() {
  std::string result;
  for (const auto& entry : op_names) {
    if (!result.empty())
      result += ", ";
    result += entry.name;
  }
  return result;
}

std::optional<literal> parse_literal(const json_value& json,
                                     const std::string& where,
                                     diagnostics& diags) {
  literal result;
  if (json.IsNumber()) {
    result.type = literal::kind::number;
    result.number = json.GetDouble();
  } else if (json.IsString()) {
    result.type = literal::kind::string;
    result.text.assign(json.GetString(), json.GetStringLength());
  } else if (json.IsBool()) {
    result.type = literal::kind::boolean;
    result.boolean = json.GetBool();
  } else {
    diags.add(where,
              std::string{"must be a number, a string or a boolean, not "}
                + json_type_name(json));
    return std::nullopt;
  }
  return result;
}

bool needs_value(predicate_op op) {
  return op != predicate_op::exists && op != predicate_op::missing;
}

std::optional<predicate> parse_comparison(const json_value& json,
                                          const std::string& where,
                                          diagnostics& diags) {
  auto errors_before = diags.size();
  diags.reject_unknown_fields(json, where, {"field", "op", "value"});
  predicate result;
  result.type = predicate::kind::compare;

  auto field = json.FindMember("field");
  if (field == json.MemberEnd())
    diags.add(where, "missing required field \"field\"");
  else if (!field->value.IsString() || field->value.GetStringLength() == 0)
    diags.add(field_of(where, "field"), "must be a non-empty string");
  else
    result.field = split_path(view_of(field->value));

  auto op = json.FindMember("op");
  bool op_known = false;
  if (op == json.MemberEnd()) {
    diags.add(where, "missing required field \"op\"");
  } else if (!op->value.IsString()) {
    diags.add(field_of(where, "op"), "must be a string");
  } else {
    auto name = view_of(op->value);
    for (const auto& entry : op_names)
      if (name == entry.name) {
        result.op = entry.op;
        op_known = true;
      }
    if (!op_known)
      diags.add(field_of(where, "op"),
                "unknown op " + quote(name) + " (expected one of: " + op_list()
                  + ")");
  }

  auto value = json.FindMember("value");
  if (op_known) {
    auto value_where = field_of(where, "value");
    if (!needs_value(result.op)) {
      if (value != json.MemberEnd())
        diags.add(value_where,
                  std::string{"op "} + to_string(result.op)
                    + " takes no value");
    } else if (value == json.MemberEnd()) {
      diags.add(where,
                std::string{"op "} + to_string(result.op)
                  + " needs a \"value\"");
    } else if (result.op == predicate_op::in
               || result.op == predicate_op::not_in) {
      if (!value->value.IsArray()) {
        diags.add(value_where,
                  std::string{"op "} + to_string(result.op)
                    + " needs a list, not " + json_type_name(value->value));
      } else {
        for (rapidjson::SizeType i = 0; i < value->value.Size(); ++i)
          if (auto lit = parse_literal(value->value[i],
                                       element_of(value_where, i), diags))
            result.values.push_back(std::move(*lit));
      }
    } else if (result.op == predicate_op::matches) {
      if (!value->value.IsString()) {
        diags.add(value_where, "op matches needs a regular expression string");
      } else {
        result.value.type = literal::kind::string;
        result.value.text = std::string{view_of(value->value)};
        // RE2 matches in time linear in the input and in bounded memory;
        // a pattern that would need backtracking (backreferences,
        // look-around) is refused here, with RE2's reason.
        re2::RE2::Options options;
        options.set_log_errors(false);
        options.set_max_mem(max_pattern_memory);
        auto compiled =
          std::make_shared<const re2::RE2>(result.value.text, options);
        if (compiled->ok())
          result.pattern = std::move(compiled);
        else
          diags.add(value_where,
                    "invalid regular expression " + quote(result.value.text)
                      + ": " + compiled->error()
                      + " (a pattern must match in linear time: "
                        "no backreferences or look-around)");
      }
    } else if (auto lit = parse_literal(value->value, value_where, diags)) {
      result.value = std::move(*lit);
    }
  }
  if (diags.size() != errors_before)
    return std::nullopt;
  return result;
}

} // namespace

const char* to_string(predicate_op op) {
  for (const auto& entry : op_names)
    if (entry.op == op)
      return entry.name;
  return "?";
}

std::string literal::to_json() const {
  switch (type) {
    case kind::string: return quote(text);
    case kind::boolean: return boolean ? "true" : "false";
    case kind::number: {
      json_value v(number);
      if (number == static_cast<double>(static_cast<long long>(number)))
        return std::to_string(static_cast<long long>(number));
      return to_json_text(v);
    }
  }
  return "null";
}

std::optional<predicate> parse_predicate(const json_value& json,
                                         const std::string& where,
                                         diagnostics& diags) {
  if (!json.IsObject()) {
    diags.add(where,
              std::string{"a predicate must be an object, not "}
                + json_type_name(json));
    return std::nullopt;
  }
  auto combinator = [&](const char* key) { return json.HasMember(key); };
  if (combinator("all") || combinator("any")) {
    const char* key = combinator("all") ? "all" : "any";
    diags.reject_unknown_fields(json, where, {key});
    const auto& list = json[key];
    auto list_where = field_of(where, key);
    if (!list.IsArray()) {
      diags.add(list_where, "must be a list of predicates");
      return std::nullopt;
    }
    predicate result;
    result.type = std::strcmp(key, "all") == 0 ? predicate::kind::all
                                               : predicate::kind::any;
    bool ok = true;
    for (rapidjson::SizeType i = 0; i < list.Size(); ++i) {
      auto child = parse_predicate(list[i], element_of(list_where, i), diags);
      if (child)
        result.children.push_back(std::move(*child));
      else
        ok = false;
    }
    if (!ok)
      return std::nullopt;
    return result;
  }
  if (combinator("not")) {
    diags.reject_unknown_fields(json, where, {"not"});
    auto child = parse_predicate(json["not"], field_of(where, "not"), diags);
    if (!child)
      return std::nullopt;
    predicate result;
    result.type = predicate::kind::negate;
    result.children.push_back(std::move(*child));
    return result;
  }
  return parse_comparison(json, where, diags);
}

namespace {

enum class order_result { less, equal, greater, incomparable };

order_result compare(const json_value& field, const literal& value) {
  switch (value.type) {
    case literal::kind::number: {
      if (!field.IsNumber())
        return order_result::incomparable;
      double x = field.GetDouble();
      return x < value.number ? order_result::less
        : x > value.number    ? order_result::greater
                              : order_result::equal;
    }
    case literal::kind::string: {
      if (!field.IsString())
        return order_result::incomparable;
      int c = view_of(field).compare(value.text);
      return c < 0 ? order_result::less
        : c > 0    ? order_result::greater
                   : order_result::equal;
    }
    case literal::kind::boolean: {
      if (!field.IsBool())
        return order_result::incomparable;
      // Booleans are equal or not; they have no order.
      return field.GetBool() == value.boolean ? order_result::equal
                                              : order_result::incomparable;
    }
  }
  return order_result::incomparable;
}

bool same_type(const json_value& field, const literal& value) {
  switch (value.type) {
    case literal::kind::number: return field.IsNumber();
    case literal::kind::string: return field.IsString();
    case literal::kind::boolean: return field.IsBool();
  }
  return false;
}

bool equals(const json_value& field, const literal& value) {
  return compare(field, value) == order_result::equal;
}

bool evaluate_comparison(const predicate& p, const json_value& scope) {
  const json_value* field = find_path(scope, p.field);
  bool absent = field == nullptr || field->IsNull();
  if (absent)
    return p.op == predicate_op::missing || p.op == predicate_op::ne
      || p.op == predicate_op::not_in;
  switch (p.op) {
    case predicate_op::exists: return true;
    case predicate_op::missing: return false;
    case predicate_op::eq: return equals(*field, p.value);
    case predicate_op::ne:
      return same_type(*field, p.value) && !equals(*field, p.value);
    case predicate_op::lt:
      return compare(*field, p.value) == order_result::less;
    case predicate_op::le: {
      auto r = compare(*field, p.value);
      return r == order_result::less || r == order_result::equal;
    }
    case predicate_op::gt:
      return compare(*field, p.value) == order_result::greater;
    case predicate_op::ge: {
      auto r = compare(*field, p.value);
      return r == order_result::greater || r == order_result::equal;
    }
    case predicate_op::in:
      for (const auto& v : p.values)
        if (equals(*field, v))
          return true;
      return false;
    case predicate_op::not_in: {
      bool comparable = false;
      for (const auto& v : p.values) {
        if (!same_type(*field, v))
          continue;
        comparable = true;
        if (equals(*field, v))
          return false;
      }
      return comparable;
    }
    case predicate_op::matches:
      return field->IsString() && p.pattern
        && re2::RE2::FullMatch(
               re2::StringPiece{field->GetString(), field->GetStringLength()},
               *p.pattern);
    case predicate_op::contains:
      if (field->IsString())
        return p.value.type == literal::kind::string
          && view_of(*field).find(p.value.text) != std::string_view::npos;
      if (field->IsArray()) {
        for (const auto& element : field->GetArray())
          if (equals(element, p.value))
            return true;
      }
      return false;
  }
  return false;
}

} // namespace

bool evaluate(const predicate& p, const json_value& scope) {
  switch (p.type) {
    case predicate::kind::compare: return evaluate_comparison(p, scope);
    case predicate::kind::all:
      for (const auto& child : p.children)
        if (!evaluate(child, scope))
          return false;
      return true;
    case predicate::kind::any:
      for (const auto& child : p.children)
        if (evaluate(child, scope))
          return true;
      return false;
    case predicate::kind::negate: return !evaluate(p.children.front(), scope);
  }
  return false;
}

std::string to_text(const predicate& p) {
  switch (p.type) {
    case predicate::kind::compare: {
      std::string result = join_path(p.field) + " " + to_string(p.op);
      if (p.op == predicate_op::in || p.op == predicate_op::not_in) {
        result += " [";
        for (std::size_t i = 0; i < p.values.size(); ++i) {
          if (i > 0)
            result += ", ";
          result += p.values[i].to_json();
        }
        result += "]";
      } else if (needs_value(p.op)) {
        result += " " + p.value.to_json();
      }
      return result;
    }
    case predicate::kind::all:
    case predicate::kind::any: {
      const char* glue = p.type == predicate::kind::all ? " and " : " or ";
      std::string result = "(";
      for (std::size_t i = 0; i < p.children.size(); ++i) {
        if (i > 0)
          result += glue;
        result += to_text(p.children[i]);
      }
      return result + ")";
    }
    case predicate::kind::negate: return "not " + to_text(p.children.front());
  }
  return "?";
}

} // namespace orca
