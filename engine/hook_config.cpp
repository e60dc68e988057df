// The "hooks" object of the node config, and the names of the kinds of
// change a hook may be told of.

#include <algorithm>
#include <cstdlib>

#include "engine/config_entries.hpp"
#include "engine/hooks.hpp"

namespace orca {

namespace {

constexpr const char* kind_names[] = {"step_started", "step_ended",
                                      "journey_state", "journey_ended"};

} // namespace

const char* to_string(hook_kind kind) {
  for (std::size_t i = 0; i < std::size(all_hook_kinds); ++i)
    if (all_hook_kinds[i] == kind)
      return kind_names[i];
  return "?";
}

std::optional<hook_kind> hook_kind_from(std::string_view name) {
  for (std::size_t i = 0; i < std::size(all_hook_kinds); ++i)
    if (name == kind_names[i])
      return all_hook_kinds[i];
  return std::nullopt;
}

std::map<std::string, hook_config>
parse_hooks(const json_value& json, const limits& lim, diagnostics& diags,
            std::vector<std::string>& unset) {
  std::map<std::string, hook_config> hooks;
  for_each_entry(
    json, "hooks", "hook name", "hook", lim.name_bytes, diags,
    [&](const std::string& name, const std::string& where,
        const json_value& h) {
      if (!h.IsObject()) {
        diags.add(where, "a hook must be an object with \"url\" and \"on\"");
        return;
      }
      diags.reject_unknown_fields(
        h, where, {"url", "on", "flows", "secret_env", "ca_file"});
      hook_config hook;
      bool ok = true;
      auto url = h.FindMember("url");
      std::string ca_file;
      if (auto ca = h.FindMember("ca_file"); ca != h.MemberEnd()) {
        if (ca->value.IsString())
          ca_file = std::string{view_of(ca->value)};
        else
          diags.add(field_of(where, "ca_file"),
                    "must be the path of a PEM file of CA certificates");
      }
      if (url == h.MemberEnd() || !url->value.IsString()) {
        diags.add(field_of(where, "url"), "a hook needs a \"url\" string");
        ok = false;
      } else {
        hook.url = std::string{view_of(url->value)};
        auto endpoint = http_endpoint::make(hook.url, ca_file);
        if (!endpoint) {
          diags.add(field_of(where, "url"), describe(endpoint.error()));
          ok = false;
        } else {
          hook.endpoint = std::move(*endpoint);
        }
      }
      auto on = h.FindMember("on");
      if (on == h.MemberEnd() || !on->value.IsArray() || on->value.Empty()) {
        diags.add(field_of(where, "on"),
                  "must list what the hook is told of: step_started, "
                  "step_ended, journey_state, journey_ended");
        ok = false;
      } else {
        for (const auto& k : on->value.GetArray()) {
          auto text = k.IsString() ? view_of(k) : std::string_view{};
          auto found = hook_kind_from(text);
          if (!found) {
            diags.add(field_of(where, "on"),
                      "unknown kind " + (k.IsString() ? quote(text) : "")
                        + " (known: step_started, step_ended, journey_state, "
                          "journey_ended)");
            ok = false;
          } else {
            hook.kinds |= *found;
          }
        }
      }
      if (auto flows = h.FindMember("flows"); flows != h.MemberEnd()) {
        if (!flows->value.IsArray()) {
          diags.add(field_of(where, "flows"), "must be a list of flow names");
          ok = false;
        } else {
          for (const auto& f : flows->value.GetArray()) {
            if (!f.IsString()) {
              diags.add(field_of(where, "flows"),
                        "must be a list of flow names");
              ok = false;
              break;
            }
            hook.flows.emplace_back(view_of(f));
          }
        }
      }
      if (auto env = h.FindMember("secret_env"); env != h.MemberEnd()) {
        if (!env->value.IsString()) {
          diags.add(field_of(where, "secret_env"),
                    "must name an environment variable");
          ok = false;
        } else {
          std::string variable{view_of(env->value)};
          const char* secret = std::getenv(variable.c_str());
          if (secret == nullptr || *secret == '\0') {
            unset.push_back(field_of(where, "secret_env")
                            + ": the environment variable " + quote(variable)
                            + " is not set (or empty)");
            ok = false;
          } else {
            hook.secret = secret;
          }
        }
      }
      if (ok)
        hooks[name] = std::move(hook);
    });
  return hooks;
}

} // namespace orca
