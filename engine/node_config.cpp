#include "engine/node_config.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "engine/config_entries.hpp"
#include "flows/diagnostics.hpp"

namespace orca {

const char* to_string(provider_kind kind) {
  switch (kind) {
    case provider_kind::simulated: return "simulated";
    case provider_kind::http: return "http";
    case provider_kind::embedded: return "embedded";
    case provider_kind::remote: return "remote";
  }
  return "?";
}

const std::vector<std::string>& default_provider_ids() {
  static const std::vector<std::string> ids{"dom", "fulfillment", "fno",
                                            "billing"};
  return ids;
}

namespace {

uint32_t read_count(const json_value& object, const char* key,
                    const std::string& where, uint32_t fallback,
                    diagnostics& diags) {
  auto it = object.FindMember(key);
  if (it == object.MemberEnd())
    return fallback;
  if (!it->value.IsUint()) {
    diags.add(field_of(where, key),
              "must be a whole number from 0 to 4294967295");
    return fallback;
  }
  return it->value.GetUint();
}

/// An http provider's `headers`: {"Name": "value" | {"env": "VARIABLE"}}.
/// A value from the environment is read now; names must be HTTP tokens
/// that Orca does not set itself, values free of control characters.
std::vector<std::pair<std::string, std::string>>
read_headers(const json_value& json, const std::string& where,
             diagnostics& diags) {
  std::vector<std::pair<std::string, std::string>> headers;
  if (!json.IsObject()) {
    diags.add(where, "must be an object of header names and values");
    return headers;
  }
  auto is_token_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0
      || std::string_view{"!#$%&'*+-.^_`|~"}.find(c) != std::string_view::npos;
  };
  for (const auto& m : json.GetObject()) {
    std::string name{view_of(m.name)};
    auto at = field_of(where, name);
    if (name.empty() || !std::all_of(name.begin(), name.end(), is_token_char)) {
      diags.add(at, "not a header name");
      continue;
    }
    std::string lower = name;
    for (auto& c : lower)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "host" || lower == "content-length"
        || lower == "transfer-encoding" || lower == "idempotency-key"
        || lower == "content-type") {
      diags.add(at, "Orca sets this header itself");
      continue;
    }
    std::string value;
    if (m.value.IsString()) {
      value = std::string{view_of(m.value)};
    } else if (m.value.IsObject() && m.value.MemberCount() == 1
               && m.value.HasMember("env") && m.value["env"].IsString()) {
      std::string variable{view_of(m.value["env"])};
      const char* found = std::getenv(variable.c_str());
      if (found == nullptr) {
        diags.add(
          at, "the environment variable " + quote(variable) + " is not set");
        continue;
      }
      value = found;
    } else {
      diags.add(at, "must be a string or {\"env\": \"VARIABLE\"}");
      continue;
    }
    if (std::any_of(value.begin(), value.end(), [](char c) {
          return (static_cast<unsigned char>(c) < 0x20 && c != '\t')
            || c == 0x7f;
        })) {
      diags.add(at, "the value holds control characters");
      continue;
    }
    headers.emplace_back(std::move(name), std::move(value));
  }
  return headers;
}

void parse_provider(const std::string& id, const json_value& json,
                    const std::string& where, node_config& config,
                    diagnostics& diags) {
  if (!json.IsObject()) {
    diags.add(where, "a provider must be an object with a \"kind\"");
    return;
  }
  auto kind = json.FindMember("kind");
  if (kind == json.MemberEnd() || !kind->value.IsString()) {
    diags.add(where, "missing required field \"kind\" (simulated or http)");
    return;
  }
  provider_config p;
  auto name = view_of(kind->value);
  if (name == "simulated") {
    diags.reject_unknown_fields(
      json, where,
      {"kind", "latency_ms", "fail_when", "fail_first_attempts", "ledger"});
    p.kind = provider_kind::simulated;
    p.simulated.latency_ms = read_count(json, "latency_ms", where, 0, diags);
    p.simulated.fail_first_attempts =
      read_count(json, "fail_first_attempts", where, 0, diags);
    if (auto ledger = json.FindMember("ledger"); ledger != json.MemberEnd()) {
      if (ledger->value.IsBool())
        p.simulated.ledger = ledger->value.GetBool();
      else
        diags.add(field_of(where, "ledger"), "must be true or false");
    }
    if (auto fail = json.FindMember("fail_when"); fail != json.MemberEnd())
      p.simulated.fail_when =
        parse_predicate(fail->value, field_of(where, "fail_when"), diags);
  } else if (name == "http") {
    diags.reject_unknown_fields(
      json, where,
      {"kind", "url", "ca_file", "timeout_ms", "workers", "headers"});
    p.kind = provider_kind::http;
    auto url = json.FindMember("url");
    auto ca_file = json.FindMember("ca_file");
    if (ca_file != json.MemberEnd()) {
      if (ca_file->value.IsString() && ca_file->value.GetStringLength() > 0)
        p.http.ca_file = std::string{view_of(ca_file->value)};
      else
        diags.add(field_of(where, "ca_file"),
                  "must be the path of a PEM file of CA certificates");
    }
    if (url == json.MemberEnd() || !url->value.IsString()) {
      diags.add(where, "an http provider needs a \"url\" string");
    } else {
      p.http.url = std::string{view_of(url->value)};
      if (auto parsed = parse_http_url(p.http.url); !parsed)
        diags.add(field_of(where, "url"), describe(parsed.error()));
      else if (auto err = check_http_provider(p.http))
        diags.add(field_of(where, "ca_file"), describe(err));
    }
    p.http.timeout_ms = read_count(json, "timeout_ms", where, 10000, diags);
    p.http.workers = read_count(json, "workers", where, 4, diags);
    if (auto h = json.FindMember("headers"); h != json.MemberEnd())
      p.http.headers =
        read_headers(h->value, field_of(where, "headers"), diags);
  } else if (name == "remote") {
    // Calls fail until a remote provider client registers under this id.
    diags.reject_unknown_fields(json, where, {"kind"});
    p.kind = provider_kind::remote;
  } else {
    diags.add(field_of(where, "kind"),
              "unknown provider kind " + quote(name)
                + " (a config file may name: simulated, http, remote)");
    return;
  }
  config.providers[id] = std::move(p);
}

void parse_defaults(const json_value& json, node_config& config,
                    diagnostics& diags) {
  if (!json.IsObject()) {
    diags.add("defaults", "must be an object (known: timeout_ms)");
    return;
  }
  diags.reject_unknown_fields(json, "defaults", {"timeout_ms"});
  if (auto t = json.FindMember("timeout_ms"); t != json.MemberEnd()) {
    if (!t->value.IsUint() || t->value.GetUint() == 0)
      diags.add("defaults.timeout_ms",
                "must be a whole number of milliseconds "
                "from 1 to 4294967295");
    else
      config.default_timeout_ms = t->value.GetUint();
  }
}

void parse_limits(const json_value& json, limits& lim, diagnostics& diags) {
  if (!json.IsObject()) {
    diags.add("limits", "must be an object of limit name -> number");
    return;
  }
  struct named_limit {
    const char* name;
    std::size_t* size;
    uint32_t* count;
  };
  const named_limit known[] = {
    {"name_bytes", &lim.name_bytes, nullptr},
    {"order_bytes", &lim.order_bytes, nullptr},
    {"order_lines", &lim.order_lines, nullptr},
    {"flow_bytes", &lim.flow_bytes, nullptr},
    {"flow_steps", &lim.flow_steps, nullptr},
    {"json_depth", &lim.json_depth, nullptr},
    {"max_attempts", nullptr, &lim.max_attempts},
    {"answer_bytes", &lim.answer_bytes, nullptr},
    {"orders_in_flight", &lim.orders_in_flight, nullptr},
    {"batch_orders", &lim.batch_orders, nullptr},
    {"wire_bytes", &lim.wire_bytes, nullptr},
  };
  for (auto it = json.MemberBegin(); it != json.MemberEnd(); ++it) {
    auto name = view_of(it->name);
    auto where = field_of("limits", std::string{name});
    const named_limit* match = nullptr;
    for (const auto& k : known)
      if (name == k.name)
        match = &k;
    if (match == nullptr) {
      std::string names;
      for (const auto& k : known)
        names += (names.empty() ? "" : ", ") + std::string{k.name};
      diags.add(where, "unknown limit (known: " + names + ")");
    } else if (!it->value.IsUint() || it->value.GetUint() == 0) {
      diags.add(where, "must be a whole number from 1 to 4294967295");
    } else if (match->size != nullptr) {
      *match->size = it->value.GetUint();
    } else {
      *match->count = it->value.GetUint();
    }
  }
}

} // namespace

caf::expected<node_config> node_config::parse(std::string_view text,
                                              const std::string& origin) {
  // A config is no larger than a flow; its limits are not known yet.
  if (text.size() > default_limits().flow_bytes)
    return make_error(errc::invalid_config,
                      origin + ": "
                        + describe(too_large("a node config", text.size(),
                                             default_limits().flow_bytes)));
  auto doc = parse_json(text, origin);
  if (!doc)
    return make_error(errc::invalid_config, describe(doc.error()));
  diagnostics diags;
  node_config config;
  std::vector<std::string> unset; // hooks' secrets not in the environment
  if (!doc->IsObject()) {
    diags.add("", "a node config must be a JSON object");
  } else {
    diags.reject_unknown_fields(
      *doc, "", {"providers", "limits", "defaults", "sources", "hooks"});
    if (auto lim = doc->FindMember("limits"); lim != doc->MemberEnd())
      parse_limits(lim->value, config.limits, diags);
    if (auto sources = doc->FindMember("sources");
        sources != doc->MemberEnd()) {
      auto slash = origin.rfind('/');
      auto dir =
        slash == std::string::npos ? std::string{} : origin.substr(0, slash);
      if (slash == 0)
        dir = "/";
      config.sources = parse_sources(sources->value, dir, config.limits, diags);
    }
    if (auto hooks = doc->FindMember("hooks"); hooks != doc->MemberEnd())
      config.hooks = parse_hooks(hooks->value, config.limits, diags, unset);
    if (auto defaults = doc->FindMember("defaults");
        defaults != doc->MemberEnd())
      parse_defaults(defaults->value, config, diags);
    if (auto providers = doc->FindMember("providers");
        providers != doc->MemberEnd()) {
      for_each_entry(providers->value, "providers", "provider id", "provider",
                     config.limits.name_bytes, diags,
                     [&](const std::string& id, const std::string& where,
                         const json_value& value) {
                       parse_provider(id, value, where, config, diags);
                     });
    }
  }
  if (!unset.empty()) {
    diagnostics missing;
    for (const auto& line : unset)
      missing.add("", line);
    return missing.to_error(errc::invalid_argument, origin);
  }
  if (!diags.empty())
    return diags.to_error(errc::invalid_config, origin);
  return config;
}

} // namespace orca
