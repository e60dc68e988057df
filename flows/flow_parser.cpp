// parse_flow: JSON text -> flow model, with every rule of SPEC §2.1 checked
// and every problem reported with the field or step path where it is.

#include <map>

#include "flows/flow.hpp"

namespace orca {

namespace {

constexpr std::size_t max_name_length = 128;

struct named_action {
  const char* name;
  action_kind kind;
};

constexpr named_action action_names[] = {
  {"validate_order_header", action_kind::validate_order_header},
  {"validate_order_line", action_kind::validate_order_line},
  {"send_to_dom", action_kind::send_to_dom},
  {"assign_fulfillment_source", action_kind::assign_fulfillment_source},
  {"send_to_fulfillment", action_kind::send_to_fulfillment},
  {"send_to_fulfillment_fno", action_kind::send_to_fulfillment_fno},
  {"send_to_invoice", action_kind::send_to_invoice},
  {"custom", action_kind::custom},
};

struct named_element {
  const char* name;
  element_kind kind;
};

constexpr named_element element_names[] = {
  {"condition", element_kind::condition},
  {"condition_merge", element_kind::condition_merge},
  {"splitter", element_kind::splitter},
  {"splitter_merge", element_kind::splitter_merge},
};

template <class Table>
std::string names_of(const Table& table) {
  std::string result;
  for (const auto& entry : table) {
    if (!result.empty())
      result += ", ";
    result += entry.name;
  }
  return result;
}

/// Whether `text` holds a control character (names end up in storage keys
/// and in terminal output, where those do harm).
bool has_control_character(std::string_view text) {
  for (unsigned char c : text)
    if (c < 0x20 || c == 0x7F)
      return true;
  return false;
}

/// Number of characters (UTF-8 code points) in `text`.
std::size_t character_count(std::string_view text) {
  std::size_t n = 0;
  for (unsigned char c : text)
    if ((c & 0xC0) != 0x80)
      ++n;
  return n;
}

class flow_parser {
public:
  flow_parser(flow& model, diagnostics& diags) : f_(model), diags_(diags) {
  }

  void parse(const json_value& root) {
    if (!root.IsObject()) {
      diags_.add("", std::string{"a flow must be a JSON object, not "}
                       + json_type_name(root));
      return;
    }
    diags_.reject_unknown_fields(
      root, "", {"name", "type", "description", "policies", "steps"});
    parse_header(root);
    if (auto policies = root.FindMember("policies");
        policies != root.MemberEnd())
      parse_policies(policies->value);
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

private:
  // -- header -----------------------------------------------------------------

  void parse_header(const json_value& root) {
    if (auto name = required_string(root, "", "name")) {
      auto n = character_count(*name);
      if (n == 0 || n > max_name_length)
        diags_.add("name", "must be 1 to 128 characters long");
      else if (has_control_character(*name))
        diags_.add("name", "must not contain control characters");
      f_.name = *name;
    }
    if (auto type = required_string(root, "", "type")) {
      if (*type != "order")
        diags_.add("type", "unsupported orchestration type " + quote(*type)
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

  // -- policies ---------------------------------------------------------------

  void parse_policies(const json_value& json) {
    if (!json.IsObject()) {
      diags_.add("policies", "must be an object with \"filter\" and/or "
                             "\"execution\" lists");
      return;
    }
    diags_.reject_unknown_fields(json, "policies", {"filter", "execution"});
    if (auto list = json.FindMember("filter"); list != json.MemberEnd())
      for_each_element(list->value, "policies.filter",
                       [&](const json_value& p, const std::string& where) {
                         parse_filter_policy(p, where);
                       });
    if (auto list = json.FindMember("execution"); list != json.MemberEnd())
      for_each_element(list->value, "policies.execution",
                       [&](const json_value& p, const std::string& where) {
                         parse_execution_policy(p, where);
                       });
  }

  void parse_filter_policy(const json_value& json, std::string where) {
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
        diags_.add(field_of(where, "scope"),
                   "must be \"header\" or \"line\"");
    }
    auto when = json.FindMember("when");
    if (when == json.MemberEnd())
      diags_.add(where, "missing required field \"when\"");
    else if (auto p = parse_predicate(when->value, field_of(where, "when"),
                                      diags_))
      policy.when = std::move(*p);
    if (!name)
      return;
    policy.name = *name;
    if (!remember_name(filter_names_, *name, where, "filter policy"))
      return;
    filter_index_[*name] = static_cast<uint16_t>(f_.filters.size());
    f_.filters.push_back(std::move(policy));
  }

  void parse_execution_policy(const json_value& json, std::string where) {
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

  void parse_rule(const json_value& json, const std::string& where,
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

  // -- steps ------------------------------------------------------------------

  void parse_sequence(const json_value& list, const std::string& where,
                      sequence_id seq, const std::string& prefix) {
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

  void parse_step(const json_value& json, const std::string& where,
                  sequence_id seq, uint16_t position, std::size_t count) {
    if (!json.IsObject()) {
      diags_.add(where, std::string{"a step must be an object, not "}
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
      auto n = character_count(*name);
      if (n == 0 || n > max_name_length)
        diags_.add(field_of(where, "name"), "must be 1 to 128 characters long");
      else if (has_control_character(*name))
        diags_.add(field_of(where, "name"), "must not contain control characters");
      else
        remember_name(step_names_, *name, where, "step");
      f_.steps[id].name = *name;
    }
    bool has_action = json.HasMember("action");
    bool has_element = json.HasMember("element");
    if (has_action && has_element) {
      diags_.add(where, "a step is either an \"action\" or an \"element\", "
                        "not both");
    } else if (has_action) {
      parse_action(json, where, id);
    } else if (has_element) {
      parse_element(json, where, id, position, count);
    } else {
      diags_.add(where, "a step needs an \"action\" or an \"element\"");
    }
  }

  void parse_action(const json_value& json, const std::string& where,
                    step_id id) {
    diags_.reject_unknown_fields(json, where,
                                 {"action", "name", "input_events",
                                  "filter_policies", "execution_policies",
                                  "provider", "retry", "timeout_ms",
                                  "wait_timeout_ms"});
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
    if (auto events = json.FindMember("input_events");
        events != json.MemberEnd())
      for_each_element(events->value, field_of(where, "input_events"),
                       [&](const json_value& e, const std::string& w) {
                         if (e.IsString() && e.GetStringLength() > 0)
                           f_.steps[id].input_events.emplace_back(view_of(e));
                         else
                           diags_.add(w, "an event type must be a non-empty "
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

  void parse_provider_fields(const json_value& json, const std::string& where,
                             step_id id) {
    auto& s = f_.steps[id];
    bool external = uses_provider(s.action);
    if (auto provider = json.FindMember("provider");
        provider != json.MemberEnd()) {
      if (!external)
        diags_.add(field_of(where, "provider"),
                   std::string{"a built-in action ("} + to_string(s.action)
                     + ") uses no provider");
      else if (!provider->value.IsString()
               || provider->value.GetStringLength() == 0)
        diags_.add(field_of(where, "provider"), "must be a non-empty string");
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
        diags_.add(retry_where, "retries apply to provider actions only; "
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

  void parse_retry(const json_value& json, const std::string& where,
                   step_id id) {
    if (!json.IsObject()) {
      diags_.add(where, "must be an object like {\"max_attempts\": 3, "
                        "\"backoff_ms\": 100, \"max_backoff_ms\": 10000}");
      return;
    }
    diags_.reject_unknown_fields(json, where,
                                 {"max_attempts", "backoff_ms",
                                  "max_backoff_ms"});
    retry_policy policy;
    if (auto m = json.FindMember("max_attempts"); m != json.MemberEnd())
      policy.max_attempts =
        positive_integer(m->value, field_of(where, "max_attempts"));
    if (auto b = json.FindMember("backoff_ms"); b != json.MemberEnd())
      policy.backoff_ms =
        natural_number(b->value, field_of(where, "backoff_ms"));
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

  void resolve_filter(const json_value& json, const std::string& where,
                      step_id id) {
    if (!json.IsString()) {
      diags_.add(where, "must be the name of a filter policy");
      return;
    }
    auto it = filter_index_.find(std::string{view_of(json)});
    if (it == filter_index_.end()) {
      if (filter_names_.count(std::string{view_of(json)}) == 0)
        diags_.add(where, "no filter policy named " + quote(view_of(json)));
      return;
    }
    f_.steps[id].filters.push_back(it->second);
  }

  void resolve_execution(const json_value& json, const std::string& where,
                         step_id id) {
    if (!json.IsString()) {
      diags_.add(where, "must be the name of an execution policy");
      return;
    }
    auto it = execution_index_.find(std::string{view_of(json)});
    if (it == execution_index_.end()) {
      if (execution_names_.count(std::string{view_of(json)}) == 0)
        diags_.add(where,
                   "no execution policy named " + quote(view_of(json)));
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
      diags_.add(where, "execution policy " + quote(policy.name) + " ("
                          + to_string(policy.kind) + ") does not fit action "
                          + to_string(s.action));
      return;
    }
    s.executions.push_back(it->second);
  }

  void check_execution_kinds(const std::string& where, step_id id) {
    const auto& s = f_.steps[id];
    if (s.action != action_kind::assign_fulfillment_source)
      return;
    if (s.executions.size() != 1)
      diags_.add(where, "assign_fulfillment_source needs exactly one "
                        "fulfillment_source execution policy");
  }

  void parse_element(const json_value& json, const std::string& where,
                     step_id id, uint16_t position, std::size_t count) {
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
                                   {"element", "name", "yes", "no",
                                    "branches"});
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
      diags_.add(where, std::string{"a "} + to_string(element)
                          + " that does not merge must be the last step of "
                            "its sequence (use "
                          + to_string(element) + "_merge to go on after it)");
    if (is_condition(element) && position == 0)
      diags_.add(where, std::string{"a "} + to_string(element)
                          + " decides on the outcome of the step before it, "
                            "so it cannot be the first step of a sequence");
    std::string path = child_path(id);
    if (is_condition(element)) {
      diags_.reject_unknown_fields(json, where,
                                   {"element", "name", "yes", "no"});
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
      diags_.reject_unknown_fields(json, where,
                                   {"element", "name", "branches"});
      parse_branches(json, where, id, path);
    }
  }

  void parse_branches(const json_value& json, const std::string& where,
                      step_id id, const std::string& path) {
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
        diags_.add(branch_where, "a branch must be an object with \"name\" "
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

  // -- helpers ----------------------------------------------------------------

  /// The path of branches below step `id`: "Split" at top level, else
  /// "Outer/Branch/Split".
  std::string child_path(step_id id) const {
    const auto& s = f_.steps[id];
    const auto& parent = f_.sequences[s.sequence].path;
    return parent.empty() ? s.name : parent + "/" + s.name;
  }

  sequence_id new_sequence(std::string path, step_id owner) {
    auto id = static_cast<sequence_id>(f_.sequences.size());
    sequence seq;
    seq.path = std::move(path);
    seq.owner = owner;
    f_.sequences.push_back(std::move(seq));
    return id;
  }

  std::optional<std::string> required_string(const json_value& json,
                                             const std::string& where,
                                             const char* key) {
    auto it = json.FindMember(key);
    if (it == json.MemberEnd()) {
      diags_.add(where, std::string{"missing required field "} + quote(key));
      return std::nullopt;
    }
    if (!it->value.IsString()) {
      diags_.add(field_of(where, key), std::string{"must be a string, not "}
                                         + json_type_name(it->value));
      return std::nullopt;
    }
    return std::string{view_of(it->value)};
  }

  template <class F>
  void for_each_element(const json_value& list, const std::string& where,
                        F&& f) {
    if (!list.IsArray()) {
      diags_.add(where, std::string{"must be a list, not "}
                          + json_type_name(list));
      return;
    }
    for (rapidjson::SizeType i = 0; i < list.Size(); ++i)
      f(list[i], element_of(where, i));
  }

  uint32_t natural_number(const json_value& json, const std::string& where) {
    if (json.IsUint())
      return json.GetUint();
    diags_.add(where, "must be a whole number from 0 to 4294967295");
    return 0;
  }

  uint32_t positive_integer(const json_value& json, const std::string& where) {
    if (json.IsUint() && json.GetUint() > 0)
      return json.GetUint();
    diags_.add(where, "must be a whole number from 1 to 4294967295");
    return 1;
  }

  /// Records a name; reports it and returns false if it was already used.
  bool remember_name(std::map<std::string, std::string>& names,
                     const std::string& name, const std::string& where,
                     const char* what) {
    auto [it, added] = names.emplace(name, where);
    if (!added)
      diags_.add(where, std::string{what} + " name " + quote(name)
                          + " is already used by " + it->second);
    return added;
  }

  flow& f_;
  diagnostics& diags_;
  std::map<std::string, std::string> filter_names_;
  std::map<std::string, std::string> execution_names_;
  std::map<std::string, std::string> step_names_;
  std::map<std::string, uint16_t> filter_index_;
  std::map<std::string, uint16_t> execution_index_;
};

} // namespace

parsed_flow parse_flow(std::string_view text) {
  parsed_flow result;
  auto doc = parse_json(text, "");
  if (!doc) {
    result.errors.add("", describe(doc.error()));
    return result;
  }
  auto model = std::make_shared<flow>();
  flow_parser parser{*model, result.errors};
  parser.parse(*doc);
  result.name = model->name;
  if (result.errors.empty())
    result.model = std::move(model);
  return result;
}

} // namespace orca
