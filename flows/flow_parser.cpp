// parse_flow: JSON text -> flow model, with every rule of SPEC §2.1 checked
// and every problem reported with the field or step path where it is. This
// file reads the flow's header and policies; flow_parser_steps.cpp its steps.

#include "flows/flow_parser_impl.hpp"

namespace orca {

namespace flow_parsing {

void flow_parser::parse(const json_value& root) {
  if (!root.IsObject()) {
    diags_.add("",
               std::string{"a flow must be a JSON object, not "}
                 + json_type_name(root));
    return;
  }
  diags_.reject_unknown_fields(
    root, "", {"name", "type", "description", "policies", "steps"});
  parse_header(root);
  if (auto policies = root.FindMember("policies"); policies != root.MemberEnd())
    parse_policies(policies->value, "policies");
  f_.sequences.push_back(sequence{});
  auto steps = root.FindMember("steps");
  if (steps == root.MemberEnd()) {
    diags_.add("", "missing required field \"steps\"");
  } else if (!steps->value.IsArray()) {
    diags_.add("steps", "must be a list of steps");
  } else if (steps->value.Empty()) {
    diags_.add("steps", "a flow needs at least one step");
  } else {
    parse_sequence(steps->value, "steps", top_sequence, "");
  }
}

void flow_parser::parse_header(const json_value& root) {
  if (auto name = required_string(root, "", "name")) {
    check_name_field(*name, "name");
    f_.name = *name;
  }
  if (auto type = required_string(root, "", "type")) {
    if (*type != "order")
      diags_.add("type",
                 "unsupported orchestration type " + quote(*type)
                   + " (supported: \"order\")");
    f_.type = *type;
  }
  if (auto description = root.FindMember("description");
      description != root.MemberEnd()) {
    if (description->value.IsString())
      f_.description = std::string{view_of(description->value)};
    else
      diags_.add("description", "must be a string");
  }
}

void flow_parser::parse_policies(const json_value& json,
                                 const std::string& where) {
  if (!json.IsObject()) {
    diags_.add(where,
               "must be an object with \"filter\" and/or "
               "\"execution\" lists");
    return;
  }
  diags_.reject_unknown_fields(json, where, {"filter", "execution"});
  if (auto list = json.FindMember("filter"); list != json.MemberEnd())
    for_each_element(list->value, field_of(where, "filter"),
                     [&](const json_value& p, const std::string& at) {
                       parse_filter_policy(p, at);
                     });
  if (auto list = json.FindMember("execution"); list != json.MemberEnd())
    for_each_element(list->value, field_of(where, "execution"),
                     [&](const json_value& p, const std::string& at) {
                       parse_execution_policy(p, at);
                     });
}

void flow_parser::parse_filter_policy(const json_value& json,
                                      std::string where) {
  if (!json.IsObject()) {
    diags_.add(where, "a filter policy must be an object");
    return;
  }
  filter_policy policy;
  auto name = required_string(json, where, "name");
  if (name)
    where += " " + quote(*name);
  diags_.reject_unknown_fields(json, where, {"name", "scope", "when"});
  if (auto scope = json.FindMember("scope"); scope != json.MemberEnd()) {
    if (scope->value.IsString() && view_of(scope->value) == "header")
      policy.scope = policy_scope::header;
    else if (scope->value.IsString() && view_of(scope->value) == "line")
      policy.scope = policy_scope::line;
    else
      diags_.add(field_of(where, "scope"), "must be \"header\" or \"line\"");
  }
  auto when = json.FindMember("when");
  if (when == json.MemberEnd())
    diags_.add(where, "missing required field \"when\"");
  else if (auto p =
             parse_predicate(when->value, field_of(where, "when"), diags_))
    policy.when = std::move(*p);
  if (!name)
    return;
  policy.name = *name;
  check_name_field(*name, field_of(where, "name"));
  if (!remember_name(filter_names_, *name, where, "filter policy"))
    return;
  filter_index_[*name] = static_cast<uint16_t>(f_.filters.size());
  f_.filters.push_back(std::move(policy));
}

void flow_parser::parse_execution_policy(const json_value& json,
                                         std::string where) {
  if (!json.IsObject()) {
    diags_.add(where, "an execution policy must be an object");
    return;
  }
  execution_policy policy;
  auto name = required_string(json, where, "name");
  if (name)
    where += " " + quote(*name);
  auto kind = required_string(json, where, "kind");
  bool kind_ok = false;
  if (kind) {
    if (*kind == "header_validation") {
      policy.kind = execution_kind::header_validation;
      kind_ok = true;
    } else if (*kind == "line_validation") {
      policy.kind = execution_kind::line_validation;
      kind_ok = true;
    } else if (*kind == "fulfillment_source") {
      policy.kind = execution_kind::fulfillment_source;
      kind_ok = true;
    } else {
      diags_.add(field_of(where, "kind"),
                 "unknown execution policy kind " + quote(*kind)
                   + " (expected one of: header_validation, "
                     "line_validation, fulfillment_source)");
    }
  }
  if (kind_ok && policy.kind == execution_kind::fulfillment_source)
    diags_.reject_unknown_fields(json, where,
                                 {"name", "kind", "rules", "default_source"});
  else
    diags_.reject_unknown_fields(json, where, {"name", "kind", "rules"});
  auto rules = json.FindMember("rules");
  if (rules == json.MemberEnd()) {
    diags_.add(where, "missing required field \"rules\"");
  } else if (kind_ok) {
    for_each_element(
      rules->value, field_of(where, "rules"),
      [&](const json_value& rule, const std::string& rule_where) {
        parse_rule(rule, rule_where, policy);
      });
  }
  if (kind_ok && policy.kind == execution_kind::fulfillment_source) {
    if (auto d = json.FindMember("default_source"); d != json.MemberEnd()) {
      if (d->value.IsString() && d->value.GetStringLength() > 0)
        policy.default_source = std::string{view_of(d->value)};
      else
        diags_.add(field_of(where, "default_source"),
                   "must be a non-empty string");
    }
  }
  if (!name)
    return;
  policy.name = *name;
  if (!remember_name(execution_names_, *name, where, "execution policy"))
    return;
  execution_index_[*name] = static_cast<uint16_t>(f_.executions.size());
  f_.executions.push_back(std::move(policy));
}

void flow_parser::parse_rule(const json_value& json, const std::string& where,
                             execution_policy& policy) {
  if (!json.IsObject()) {
    diags_.add(where, "a rule must be an object");
    return;
  }
  bool sourcing = policy.kind == execution_kind::fulfillment_source;
  if (sourcing)
    diags_.reject_unknown_fields(json, where, {"when", "source"});
  else
    diags_.reject_unknown_fields(json, where, {"when", "message"});
  std::optional<predicate> when;
  if (auto w = json.FindMember("when"); w == json.MemberEnd())
    diags_.add(where, "missing required field \"when\"");
  else
    when = parse_predicate(w->value, field_of(where, "when"), diags_);
  auto text = required_string(json, where, sourcing ? "source" : "message");
  if (text && text->empty())
    diags_.add(field_of(where, sourcing ? "source" : "message"),
               "must not be empty");
  if (!when || !text)
    return;
  if (sourcing)
    policy.sources.push_back({std::move(*when), std::move(*text)});
  else
    policy.rules.push_back({std::move(*when), std::move(*text)});
}

std::string flow_parser::child_path(step_id id) const {
  const auto& s = f_.steps[id];
  const auto& parent = f_.sequences[s.sequence].path;
  return parent.empty() ? s.name : parent + "/" + s.name;
}

sequence_id flow_parser::new_sequence(std::string path, step_id owner) {
  auto id = static_cast<sequence_id>(f_.sequences.size());
  sequence seq;
  seq.path = std::move(path);
  seq.owner = owner;
  f_.sequences.push_back(std::move(seq));
  return id;
}

std::optional<std::string>
flow_parser::required_string(const json_value& json, const std::string& where,
                             const char* key) {
  auto it = json.FindMember(key);
  if (it == json.MemberEnd()) {
    diags_.add(where, std::string{"missing required field "} + quote(key));
    return std::nullopt;
  }
  if (!it->value.IsString()) {
    diags_.add(field_of(where, key),
               std::string{"must be a string, not "}
                 + json_type_name(it->value));
    return std::nullopt;
  }
  return std::string{view_of(it->value)};
}

uint32_t flow_parser::natural_number(const json_value& json,
                                     const std::string& where) {
  if (json.IsUint())
    return json.GetUint();
  diags_.add(where, "must be a whole number from 0 to 4294967295");
  return 0;
}

uint32_t flow_parser::positive_integer(const json_value& json,
                                       const std::string& where) {
  if (json.IsUint() && json.GetUint() > 0)
    return json.GetUint();
  diags_.add(where, "must be a whole number from 1 to 4294967295");
  return 1;
}

void flow_parser::check_name_field(const std::string& name,
                                   const std::string& where) {
  if (auto problem = name_problem(name, limits_.name_bytes); !problem.empty())
    diags_.add(where, problem);
}

bool flow_parser::remember_name(std::map<std::string, std::string>& names,
                                const std::string& name,
                                const std::string& where, const char* what) {
  auto [it, added] = names.emplace(name, where);
  if (!added)
    diags_.add(where,
               std::string{what} + " name " + quote(name)
                 + " is already used by " + it->second);
  return added;
}

} // namespace flow_parsing

parsed_flow parse_flow(std::string_view text, const limits& lim) {
  parsed_flow result;
  if (text.size() > lim.flow_bytes) {
    result.errors.add(
      "", describe(too_large("a flow", text.size(), lim.flow_bytes)));
    result.over_limit = true;
    return result;
  }
  auto doc = parse_json(text, "", lim.json_depth);
  if (!doc) {
    result.errors.add("", describe(doc.error()));
    result.over_limit =
      orca_code(doc.error()) == static_cast<uint8_t>(errc::limit_exceeded);
    return result;
  }
  auto model = std::make_shared<flow>();
  flow_parsing::flow_parser parser{*model, result.errors, lim};
  parser.parse(*doc);
  if (model->steps.size() > lim.flow_steps) {
    result.errors.add("steps",
                      std::to_string(model->steps.size())
                        + " steps is over the limit of "
                        + std::to_string(lim.flow_steps) + " steps");
    result.over_limit = true;
  }
  result.name = model->name;
  if (result.errors.empty())
    result.model = std::move(model);
  return result;
}

} // namespace orca
