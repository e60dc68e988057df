// The steps of a flow: actions, elements and their branches, with the
// structural rules of SPEC §2.1.

#include "flows/flow_parser_impl.hpp"

namespace orca::flow_parsing {

void flow_parser::parse_sequence(const json_value& list,
                                 const std::string& where, sequence_id seq,
                                 const std::string& prefix) {
  auto count = list.Size();
  for (rapidjson::SizeType i = 0; i < count; ++i) {
    const auto& json = list[i];
    std::string step_where = prefix + element_of(where, i);
    if (json.IsObject()) {
      if (auto name = json.FindMember("name");
          name != json.MemberEnd() && name->value.IsString())
        step_where += " " + quote(view_of(name->value));
    }
    parse_step(json, step_where, seq, static_cast<uint16_t>(i), count);
  }
}

void flow_parser::parse_step(const json_value& json, const std::string& where,
                             sequence_id seq, uint16_t position,
                             std::size_t count) {
  if (!json.IsObject()) {
    diags_.add(where,
               std::string{"a step must be an object, not "}
                 + json_type_name(json));
    return;
  }
  auto id = static_cast<step_id>(f_.steps.size());
  f_.steps.emplace_back();
  f_.sequences[seq].steps.push_back(id);
  {
    auto& s = f_.steps[id];
    s.id = id;
    s.sequence = seq;
    s.position = position;
  }
  if (auto name = required_string(json, where, "name")) {
    auto problem = name_problem(*name, limits_.name_bytes);
    if (!problem.empty())
      diags_.add(field_of(where, "name"), problem);
    else
      remember_name(step_names_, *name, where, "step");
    f_.steps[id].name = *name;
  }
  bool has_action = json.HasMember("action");
  bool has_element = json.HasMember("element");
  if (has_action && has_element) {
    diags_.add(where,
               "a step is either an \"action\" or an \"element\", "
               "not both");
  } else if (has_action) {
    parse_action(json, where, id);
  } else if (has_element) {
    parse_element(json, where, id, position, count);
  } else {
    diags_.add(where, "a step needs an \"action\" or an \"element\"");
  }
}

void flow_parser::parse_action(const json_value& json, const std::string& where,
                               step_id id) {
  diags_.reject_unknown_fields(
    json, where,
    {"action", "name", "input_events", "filter_policies", "execution_policies",
     "provider", "retry", "timeout_ms", "wait_timeout_ms"});
  auto& s = f_.steps[id];
  s.is_action = true;
  const auto& kind = json["action"];
  bool known = false;
  if (kind.IsString()) {
    for (const auto& entry : action_names)
      if (view_of(kind) == entry.name) {
        s.action = entry.kind;
        known = true;
      }
  }
  if (!known) {
    diags_.add(field_of(where, "action"),
               "unknown action "
                 + (kind.IsString() ? quote(view_of(kind))
                                    : std::string{json_type_name(kind)})
                 + " (expected one of: " + names_of(action_names) + ")");
    return;
  }
  if (auto events = json.FindMember("input_events"); events != json.MemberEnd())
    for_each_element(events->value, field_of(where, "input_events"),
                     [&](const json_value& e, const std::string& w) {
                       if (e.IsString() && e.GetStringLength() > 0)
                         f_.steps[id].input_events.emplace_back(view_of(e));
                       else
                         diags_.add(w,
                                    "an event type must be a non-empty "
                                    "string");
                     });
  if (auto filters = json.FindMember("filter_policies");
      filters != json.MemberEnd())
    for_each_element(filters->value, field_of(where, "filter_policies"),
                     [&](const json_value& e, const std::string& w) {
                       resolve_filter(e, w, id);
                     });
  if (auto execs = json.FindMember("execution_policies");
      execs != json.MemberEnd())
    for_each_element(execs->value, field_of(where, "execution_policies"),
                     [&](const json_value& e, const std::string& w) {
                       resolve_execution(e, w, id);
                     });
  check_execution_kinds(where, id);
  parse_provider_fields(json, where, id);
  if (auto wait = json.FindMember("wait_timeout_ms");
      wait != json.MemberEnd()) {
    f_.steps[id].wait_timeout_ms =
      positive_integer(wait->value, field_of(where, "wait_timeout_ms"));
    if (f_.steps[id].input_events.empty())
      diags_.add(field_of(where, "wait_timeout_ms"),
                 "only an action with input_events waits");
  }
}

void flow_parser::parse_provider_fields(const json_value& json,
                                        const std::string& where, step_id id) {
  auto& s = f_.steps[id];
  bool external = uses_provider(s.action);
  if (auto provider = json.FindMember("provider");
      provider != json.MemberEnd()) {
    if (!external)
      diags_.add(field_of(where, "provider"),
                 std::string{"a built-in action ("} + to_string(s.action)
                   + ") uses no provider");
    else if (!provider->value.IsString())
      diags_.add(field_of(where, "provider"), "must be a non-empty string");
    else if (auto problem =
               name_problem(view_of(provider->value), limits_.name_bytes);
             !problem.empty())
      diags_.add(field_of(where, "provider"), problem);
    else
      s.provider = std::string{view_of(provider->value)};
  } else if (s.action == action_kind::custom) {
    diags_.add(where, "a custom action needs a \"provider\"");
  } else if (external) {
    s.provider = provider_role(s.action);
  }
  if (auto retry = json.FindMember("retry"); retry != json.MemberEnd()) {
    auto retry_where = field_of(where, "retry");
    if (!external)
      diags_.add(retry_where,
                 "retries apply to provider actions only; "
                 "validation failures are never retried");
    parse_retry(retry->value, retry_where, id);
  }
  if (auto timeout = json.FindMember("timeout_ms");
      timeout != json.MemberEnd()) {
    if (!external)
      diags_.add(field_of(where, "timeout_ms"),
                 "a time-out applies to provider actions only");
    f_.steps[id].timeout_ms =
      positive_integer(timeout->value, field_of(where, "timeout_ms"));
  }
}

void flow_parser::parse_retry(const json_value& json, const std::string& where,
                              step_id id) {
  if (!json.IsObject()) {
    diags_.add(where,
               "must be an object like {\"max_attempts\": 3, "
               "\"backoff_ms\": 100, \"max_backoff_ms\": 10000}");
    return;
  }
  diags_.reject_unknown_fields(
    json, where, {"max_attempts", "backoff_ms", "max_backoff_ms"});
  retry_policy policy;
  if (auto m = json.FindMember("max_attempts"); m != json.MemberEnd()) {
    policy.max_attempts =
      positive_integer(m->value, field_of(where, "max_attempts"));
    if (policy.max_attempts > limits_.max_attempts)
      diags_.add(field_of(where, "max_attempts"),
                 std::to_string(policy.max_attempts) + " is over the limit of "
                   + std::to_string(limits_.max_attempts) + " attempts");
  }
  if (auto b = json.FindMember("backoff_ms"); b != json.MemberEnd())
    policy.backoff_ms =
      positive_integer(b->value, field_of(where, "backoff_ms"));
  if (auto b = json.FindMember("max_backoff_ms"); b != json.MemberEnd())
    policy.max_backoff_ms =
      natural_number(b->value, field_of(where, "max_backoff_ms"));
  if (policy.max_backoff_ms < policy.backoff_ms) {
    if (json.HasMember("max_backoff_ms"))
      diags_.add(field_of(where, "max_backoff_ms"),
                 "must not be less than backoff_ms");
    else
      policy.max_backoff_ms = policy.backoff_ms;
  }
  f_.steps[id].retry = policy;
}

void flow_parser::resolve_filter(const json_value& json,
                                 const std::string& where, step_id id) {
  if (!json.IsString()) {
    diags_.add(where, "must be the name of a filter policy");
    return;
  }
  auto it = filter_index_.find(std::string{view_of(json)});
  if (it == filter_index_.end()) {
    if (filter_names_.count(std::string{view_of(json)}) == 0)
      diags_.add(where,
                 "no filter policy named " + quote(view_of(json))
                   + " in the flow or the policy library");
    return;
  }
  f_.steps[id].filters.push_back(it->second);
}

void flow_parser::resolve_execution(const json_value& json,
                                    const std::string& where, step_id id) {
  if (!json.IsString()) {
    diags_.add(where, "must be the name of an execution policy");
    return;
  }
  auto it = execution_index_.find(std::string{view_of(json)});
  if (it == execution_index_.end()) {
    if (execution_names_.count(std::string{view_of(json)}) == 0)
      diags_.add(where,
                 "no execution policy named " + quote(view_of(json))
                   + " in the flow or the policy library");
    return;
  }
  const auto& policy = f_.executions[it->second];
  auto& s = f_.steps[id];
  bool fits = false;
  switch (s.action) {
    case action_kind::validate_order_header:
      fits = policy.kind == execution_kind::header_validation;
      break;
    case action_kind::validate_order_line:
      fits = policy.kind == execution_kind::line_validation;
      break;
    case action_kind::assign_fulfillment_source:
      fits = policy.kind == execution_kind::fulfillment_source;
      break;
    default: break;
  }
  if (!fits) {
    diags_.add(where,
               "execution policy " + quote(policy.name) + " ("
                 + to_string(policy.kind) + ") does not fit action "
                 + to_string(s.action));
    return;
  }
  s.executions.push_back(it->second);
}

void flow_parser::check_execution_kinds(const std::string& where, step_id id) {
  const auto& s = f_.steps[id];
  if (s.action != action_kind::assign_fulfillment_source)
    return;
  if (s.executions.size() != 1)
    diags_.add(where,
               "assign_fulfillment_source needs exactly one "
               "fulfillment_source execution policy");
}

void flow_parser::parse_element(const json_value& json,
                                const std::string& where, step_id id,
                                uint16_t position, std::size_t count) {
  const auto& kind = json["element"];
  auto& s = f_.steps[id];
  s.is_action = false;
  bool known = false;
  if (kind.IsString())
    for (const auto& entry : element_names)
      if (view_of(kind) == entry.name) {
        s.element = entry.kind;
        known = true;
      }
  if (!known) {
    diags_.reject_unknown_fields(json, where,
                                 {"element", "name", "yes", "no", "branches"});
    diags_.add(field_of(where, "element"),
               "unknown element "
                 + (kind.IsString() ? quote(view_of(kind))
                                    : std::string{json_type_name(kind)})
                 + " (expected one of: " + names_of(element_names) + ")");
    return;
  }
  auto element = s.element;
  bool last = static_cast<std::size_t>(position) + 1 == count;
  if (!is_merge(element) && !last)
    diags_.add(where,
               std::string{"a "} + to_string(element)
                 + " that does not merge must be the last step of "
                   "its sequence (use "
                 + to_string(element) + "_merge to go on after it)");
  if (is_condition(element) && position == 0)
    diags_.add(where,
               std::string{"a "} + to_string(element)
                 + " decides on the outcome of the step before it, "
                   "so it cannot be the first step of a sequence");
  std::string path = child_path(id);
  if (is_condition(element)) {
    diags_.reject_unknown_fields(json, where, {"element", "name", "yes", "no"});
    for (const char* side : {"yes", "no"}) {
      auto body = new_sequence(path + "/" + side, id);
      f_.steps[id].branches.push_back({side, body});
      auto list = json.FindMember(side);
      if (list == json.MemberEnd())
        continue; // an absent side is an empty one
      if (!list->value.IsArray()) {
        diags_.add(field_of(where, side), "must be a list of steps");
        continue;
      }
      parse_sequence(list->value, side, body, where + ".");
    }
  } else {
    diags_.reject_unknown_fields(json, where, {"element", "name", "branches"});
    parse_branches(json, where, id, path);
  }
}

void flow_parser::parse_branches(const json_value& json,
                                 const std::string& where, step_id id,
                                 const std::string& path) {
  auto list = json.FindMember("branches");
  if (list == json.MemberEnd()) {
    diags_.add(where, "missing required field \"branches\"");
    return;
  }
  if (!list->value.IsArray()) {
    diags_.add(field_of(where, "branches"), "must be a list of branches");
    return;
  }
  if (list->value.Size() < 2)
    diags_.add(field_of(where, "branches"),
               "a splitter needs at least 2 branches");
  std::map<std::string, std::string> names;
  for (rapidjson::SizeType i = 0; i < list->value.Size(); ++i) {
    const auto& b = list->value[i];
    auto branch_where = where + "." + element_of("branches", i);
    if (!b.IsObject()) {
      diags_.add(branch_where,
                 "a branch must be an object with \"name\" "
                 "and \"steps\"");
      continue;
    }
    auto name = required_string(b, branch_where, "name");
    if (name)
      branch_where += " " + quote(*name);
    diags_.reject_unknown_fields(b, branch_where, {"name", "steps"});
    if (name && name->empty())
      diags_.add(field_of(branch_where, "name"), "must not be empty");
    else if (name)
      remember_name(names, *name, branch_where, "branch");
    auto body = new_sequence(path + "/" + name.value_or(""), id);
    f_.steps[id].branches.push_back({name.value_or(""), body});
    auto steps = b.FindMember("steps");
    if (steps == b.MemberEnd()) {
      diags_.add(branch_where, "missing required field \"steps\"");
    } else if (!steps->value.IsArray()) {
      diags_.add(field_of(branch_where, "steps"), "must be a list of steps");
    } else if (steps->value.Empty()) {
      diags_.add(field_of(branch_where, "steps"),
                 "a branch must start with an action (its filter policies "
                 "decide whether the branch is taken)");
    } else {
      const auto& first = steps->value[0];
      if (!first.IsObject() || !first.HasMember("action"))
        diags_.add(field_of(branch_where, "steps"),
                   "a branch must start with an action (its filter "
                   "policies decide whether the branch is taken)");
      parse_sequence(steps->value, "steps", body, branch_where + ".");
    }
  }
}

} // namespace orca::flow_parsing
