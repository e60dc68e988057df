#include "flows/policy_library.hpp"

#include <algorithm>
#include <set>

#include "flows/flow_parser_impl.hpp"

namespace orca {

namespace {

caf::error invalid(const diagnostics& problems, const std::string& origin) {
  return problems.to_error(errc::invalid_flow, origin);
}

/// Every name listed under "filter_policies" or "execution_policies"
/// anywhere in `value` (steps and their branches, at any depth).
void collect_references(const json_value& value, std::set<std::string>& out) {
  if (value.IsArray()) {
    for (const auto& item : value.GetArray())
      collect_references(item, out);
    return;
  }
  if (!value.IsObject())
    return;
  for (const auto& member : value.GetObject()) {
    auto key = view_of(member.name);
    if ((key == "filter_policies" || key == "execution_policies")
        && member.value.IsArray()) {
      for (const auto& name : member.value.GetArray())
        if (name.IsString())
          out.insert(std::string{view_of(name)});
    } else {
      collect_references(member.value, out);
    }
  }
}

} // namespace

caf::expected<policy_library> parse_policy_file(std::string_view text,
                                                const std::string& origin,
                                                const limits& lim) {
  if (text.size() > lim.flow_bytes)
    return too_large("a policy library file", text.size(), lim.flow_bytes);
  auto doc = parse_json(text, origin, lim.json_depth);
  if (!doc)
    return make_error(errc::invalid_flow, describe(doc.error()));
  // The policies are checked by the flow parser's own rules.
  flow scratch;
  diagnostics problems;
  flow_parsing::flow_parser parser{scratch, problems, lim};
  parser.parse_policies(*doc, "");
  if (!doc->IsObject())
    return invalid(problems, origin);
  policy_library result;
  std::set<std::string> names;
  auto take = [&](const char* list, bool execution) {
    auto found = doc->FindMember(list);
    if (found == doc->MemberEnd() || !found->value.IsArray())
      return;
    rapidjson::SizeType i = 0;
    for (const auto& p : found->value.GetArray()) {
      auto where = element_of(list, i++);
      if (!p.IsObject())
        continue;
      auto name = p.FindMember("name");
      if (name == p.MemberEnd() || !name->value.IsString())
        continue;
      library_policy entry;
      entry.name = std::string{view_of(name->value)};
      entry.execution = execution;
      entry.json = to_json_text(p);
      // The parser reports a name twice in one list; the library keeps
      // one policy per name, so a filter and an execution policy may not
      // share one either.
      if (execution && names.count(entry.name) > 0)
        problems.add(where,
                     "execution policy " + quote(entry.name)
                       + " has the name of a filter policy of this "
                         "file; the library keeps one policy per name");
      if (!execution)
        names.insert(entry.name);
      result.push_back(std::move(entry));
    }
  };
  take("filter", false);
  take("execution", true);
  if (!problems.empty())
    return invalid(problems, origin);
  return result;
}

caf::expected<std::string> with_library(std::string_view flow_text,
                                        const policy_library& library,
                                        const std::string& origin,
                                        const limits& lim) {
  auto parsed = parse_json(flow_text, origin, lim.json_depth);
  if (!parsed || !parsed->IsObject())
    return std::string{flow_text};
  auto& doc = *parsed;
  auto& alloc = doc.GetAllocator();
  auto find = [&](const std::string& name) -> const library_policy* {
    auto it =
      std::find_if(library.begin(), library.end(),
                   [&](const library_policy& p) { return p.name == name; });
    return it == library.end() ? nullptr : &*it;
  };
  // The flow's own policies, and any clash with the library's.
  std::set<std::string> own;
  diagnostics problems;
  auto policies = doc.FindMember("policies");
  if (policies != doc.MemberEnd() && policies->value.IsObject())
    for (const char* list : {"filter", "execution"}) {
      auto found = policies->value.FindMember(list);
      if (found == policies->value.MemberEnd() || !found->value.IsArray())
        continue;
      rapidjson::SizeType i = 0;
      for (const auto& p : found->value.GetArray()) {
        auto where = element_of(field_of("policies", list), i++);
        if (!p.IsObject())
          continue;
        auto name = p.FindMember("name");
        if (name == p.MemberEnd() || !name->value.IsString())
          continue;
        std::string n{view_of(name->value)};
        own.insert(n);
        if (find(n) != nullptr)
          problems.add(where,
                       "policy " + quote(n)
                         + " is defined both in this flow and in the "
                           "node's policy library; rename one of them");
      }
    }
  if (!problems.empty())
    return invalid(problems, origin);
  std::set<std::string> used;
  if (auto steps = doc.FindMember("steps"); steps != doc.MemberEnd())
    collect_references(steps->value, used);
  bool added = false;
  for (const auto& name : used) {
    const auto* p = find(name);
    if (p == nullptr || own.count(name) > 0)
      continue; // unknown names are the flow parser's to report
    if (!p->damaged.empty()) {
      problems.add("policies",
                   "policy " + quote(name)
                     + " of the node's policy library cannot be "
                       "read: "
                     + p->damaged);
      continue;
    }
    if (policies == doc.MemberEnd() || !policies->value.IsObject()) {
      if (policies != doc.MemberEnd())
        doc.RemoveMember(policies);
      doc.AddMember("policies", json_value{rapidjson::kObjectType}, alloc);
      policies = doc.FindMember("policies");
    }
    const char* list = p->execution ? "execution" : "filter";
    auto found = policies->value.FindMember(list);
    if (found == policies->value.MemberEnd()) {
      policies->value.AddMember(json_value{list, alloc},
                                json_value{rapidjson::kArrayType}, alloc);
      found = policies->value.FindMember(list);
    }
    if (!found->value.IsArray())
      continue; // the flow parser reports it
    json_document copy;
    copy.Parse<json_parse_flags>(p->json.data(), p->json.size());
    found->value.PushBack(json_value{copy, alloc}, alloc);
    added = true;
  }
  if (!problems.empty())
    return invalid(problems, origin);
  if (!added)
    return std::string{flow_text};
  return to_json_text(doc);
}

} // namespace orca
