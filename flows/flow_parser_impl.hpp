#pragma once

// The flow parser's insides, shared by flow_parser.cpp (the header, the
// policies and the helpers) and flow_parser_steps.cpp (steps, branches and
// the structural rules of SPEC §2.1). Private to flows/.

#include <map>
#include <optional>
#include <string>

#include "flows/flow.hpp"

namespace orca::flow_parsing {

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

/// Fills a flow model from its JSON, adding every problem to `diags`.
class flow_parser {
public:
  flow_parser(flow& model, diagnostics& diags, const limits& lim)
      : f_(model), diags_(diags), limits_(lim) {
  }

  void parse(const json_value& root);

  /// The policies section `json` (SPEC §2.2); problems are reported under
  /// `where` ("policies" in a flow, "" for a policy library file).
  void parse_policies(const json_value& json, const std::string& where);

private:
  // -- header -----------------------------------------------------------------

  void parse_header(const json_value& root);

  // -- policies ---------------------------------------------------------------

  void parse_filter_policy(const json_value& json, std::string where);

  void parse_execution_policy(const json_value& json, std::string where);

  void parse_rule(const json_value& json, const std::string& where,
                  execution_policy& policy);

  // -- steps ------------------------------------------------------------------

  void parse_sequence(const json_value& list, const std::string& where,
                      sequence_id seq, const std::string& prefix);

  void parse_step(const json_value& json, const std::string& where,
                  sequence_id seq, uint16_t position, std::size_t count);

  void parse_action(const json_value& json, const std::string& where,
                    step_id id);

  void parse_provider_fields(const json_value& json, const std::string& where,
                             step_id id);

  void parse_retry(const json_value& json, const std::string& where,
                   step_id id);

  void resolve_filter(const json_value& json, const std::string& where,
                      step_id id);

  void resolve_execution(const json_value& json, const std::string& where,
                         step_id id);

  void check_execution_kinds(const std::string& where, step_id id);

  void parse_element(const json_value& json, const std::string& where,
                     step_id id, uint16_t position, std::size_t count);

  void parse_branches(const json_value& json, const std::string& where,
                      step_id id, const std::string& path);

  // -- helpers ----------------------------------------------------------------

  /// The path of branches below step `id`: "Split" at top level, else
  /// "Outer/Branch/Split".
  std::string child_path(step_id id) const;

  sequence_id new_sequence(std::string path, step_id owner);

  std::optional<std::string> required_string(const json_value& json,
                                             const std::string& where,
                                             const char* key);

  template <class F>
  void for_each_element(const json_value& list, const std::string& where,
                        F&& f) {
    if (!list.IsArray()) {
      diags_.add(where,
                 std::string{"must be a list, not "} + json_type_name(list));
      return;
    }
    for (rapidjson::SizeType i = 0; i < list.Size(); ++i)
      f(list[i], element_of(where, i));
  }

  uint32_t natural_number(const json_value& json, const std::string& where);

  uint32_t positive_integer(const json_value& json, const std::string& where);

  /// Records a name; reports it and returns false if it was already used.
  bool remember_name(std::map<std::string, std::string>& names,
                     const std::string& name, const std::string& where,
                     const char* what);

  /// Reports a name longer than the limit or holding control characters.
  void check_name_field(const std::string& name, const std::string& where);

  flow& f_;
  diagnostics& diags_;
  const limits& limits_;
  std::map<std::string, std::string> filter_names_;
  std::map<std::string, std::string> execution_names_;
  std::map<std::string, std::string> step_names_;
  std::map<std::string, uint16_t> filter_index_;
  std::map<std::string, uint16_t> execution_index_;
};

} // namespace orca::flow_parsing
