#include "engine/http_api.hpp"

#include <atomic>
#include <map>
#include <variant>

#include "actors/blocking_pool.hpp"
#include "engine/operations.hpp"
#include "engine/views_json.hpp"
#include "flows/flow_diagram.hpp"
#include "flows/json.hpp"
#include "flows/policy_library.hpp"

namespace orca {

namespace {

constexpr const char* ndjson = "application/x-ndjson";

// -- requests -----------------------------------------------------------------

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/// Percent-decodes `text` ('+' is a space in a query); nothing if an
/// escape is broken.
std::optional<std::string> decoded(std::string_view text, bool query) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size())
        return std::nullopt;
      int hi = hex_value(text[i + 1]);
      int lo = hex_value(text[i + 2]);
      if (hi < 0 || lo < 0)
        return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && query) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

/// A request's path split at '/' and decoded, and its query parameters.
struct parsed_target {
  std::vector<std::string> segments;
  std::map<std::string, std::string> query;
};

std::optional<parsed_target> parse_target(std::string_view target) {
  parsed_target result;
  auto q = target.find('?');
  auto path = target.substr(0, q);
  if (path.empty() || path[0] != '/')
    return std::nullopt;
  std::size_t start = 1;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string_view::npos)
      end = path.size();
    auto segment = decoded(path.substr(start, end - start), false);
    if (!segment)
      return std::nullopt;
    result.segments.push_back(std::move(*segment));
    start = end + 1;
  }
  // "/v1/flows/" is "/v1/flows".
  while (!result.segments.empty() && result.segments.back().empty())
    result.segments.pop_back();
  if (q == std::string_view::npos)
    return result;
  auto query = target.substr(q + 1);
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    auto eq = pair.find('=');
    auto key = decoded(pair.substr(0, eq), true);
    auto value = decoded(eq == std::string_view::npos ? std::string_view{}
                                                      : pair.substr(eq + 1),
                         true);
    if (!key || !value)
      return std::nullopt;
    if (!key->empty())
      result.query[*key] = std::move(*value);
    if (amp == std::string_view::npos)
      break;
    query.remove_prefix(amp + 1);
  }
  return result;
}

/// The segments of a route's path; "{x}" matches any one segment.
std::vector<std::string> route_segments(std::string_view path) {
  std::vector<std::string> out;
  std::size_t start = 1;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string_view::npos)
      end = path.size();
    out.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  if (!out.empty() && out.back().empty())
    out.pop_back();
  return out;
}

bool matches(const std::vector<std::string>& route,
             const std::vector<std::string>& segments,
             std::vector<std::string>& params) {
  if (route.size() != segments.size())
    return false;
  params.clear();
  for (std::size_t i = 0; i < route.size(); ++i) {
    if (!route[i].empty() && route[i].front() == '{') {
      if (segments[i].empty())
        return false;
      params.push_back(segments[i]);
    } else if (route[i] != segments[i]) {
      return false;
    }
  }
  return true;
}

// -- responses ----------------------------------------------------------------

http_response json_response(unsigned status, std::string body) {
  http_response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

/// {"KEY": [items...]}
std::string json_list(const char* key, const std::vector<std::string>& items) {
  std::string out = "{\"";
  out += key;
  out += "\":[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0)
      out += ',';
    out += items[i];
  }
  out += "]}";
  return out;
}

http_response error_response(const caf::error& err) {
  return http_error(http_status_of(err), describe(err));
}

template <class T, class F>
http_response answer(const caf::expected<T>& x, F render,
                     unsigned status = 200) {
  if (!x)
    return error_response(x.error());
  return json_response(status, render(*x));
}

/// A journey's place in the listing order, as an opaque cursor: the hex
/// of its key.
std::string cursor_of(const journey_record& r) {
  static const char* digits = "0123456789abcdef";
  auto key = journey_key(r.order_id, r.flow, r.version);
  std::string out;
  for (unsigned char c : key) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

std::optional<journey_id> journey_of_cursor(std::string_view cursor) {
  if (cursor.size() % 2 != 0)
    return std::nullopt;
  std::string key;
  for (std::size_t i = 0; i < cursor.size(); i += 2) {
    int hi = hex_value(cursor[i]);
    int lo = hex_value(cursor[i + 1]);
    if (hi < 0 || lo < 0)
      return std::nullopt;
    key.push_back(static_cast<char>(hi * 16 + lo));
  }
  return journey_id::from_key(key);
}

/// A whole number parameter in [min, max]; `what` names it in errors.
caf::expected<uint64_t> number_param(const std::string& text, const char* what,
                                     uint64_t min, uint64_t max) {
  if (text.empty() || text.size() > 19
      || text.find_first_not_of("0123456789") != std::string::npos)
    return make_error(errc::invalid_argument,
                      std::string{what}
                        + ": not a whole number: " + quote(text));
  auto n = std::stoull(text);
  if (n < min || n > max)
    return make_error(errc::invalid_argument,
                      std::string{what} + ": " + text + " is not between "
                        + std::to_string(min) + " and " + std::to_string(max));
  return n;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

} // namespace

// -- roles and tokens ---------------------------------------------------------

const char* to_string(http_role role) {
  switch (role) {
    case http_role::reader: return "reader";
    case http_role::submitter: return "submitter";
    case http_role::operator_: return "operator";
    case http_role::admin: return "admin";
  }
  return "unknown";
}

caf::expected<std::vector<http_token>> parse_tokens(std::string_view json,
                                                    const std::string& origin) {
  auto doc = parse_json(json, origin);
  if (!doc)
    return doc.error();
  auto invalid = [&](const std::string& why) {
    return make_error(errc::invalid_config, origin + ": " + why);
  };
  if (!doc->IsObject() || !doc->HasMember("tokens")
      || !(*doc)["tokens"].IsArray())
    return invalid("expected {\"tokens\": [...]}");
  std::vector<http_token> tokens;
  const auto& list = (*doc)["tokens"];
  for (rapidjson::SizeType i = 0; i < list.Size(); ++i) {
    auto at = "tokens[" + std::to_string(i) + "]";
    const auto& t = list[i];
    if (!t.IsObject())
      return invalid(at + ": expected an object");
    auto text = [&](const char* key) -> std::optional<std::string> {
      auto it = t.FindMember(key);
      if (it == t.MemberEnd() || !it->value.IsString())
        return std::nullopt;
      return std::string{it->value.GetString(), it->value.GetStringLength()};
    };
    http_token token;
    auto value = text("token");
    if (!value || value->size() < 16)
      return invalid(at + ".token: a string of at least 16 characters");
    token.token = std::move(*value);
    auto role = text("role");
    if (!role)
      return invalid(at + ".role: one of admin, operator, submitter, reader");
    if (*role == "admin")
      token.role = http_role::admin;
    else if (*role == "operator")
      token.role = http_role::operator_;
    else if (*role == "submitter")
      token.role = http_role::submitter;
    else if (*role == "reader")
      token.role = http_role::reader;
    else
      return invalid(at + ".role: " + quote(*role)
                     + " is not one of admin, operator, submitter, reader");
    token.name = text("name").value_or("");
    for (const auto& other : tokens)
      if (other.token == token.token)
        return invalid(at + ".token: the same token is listed twice");
    tokens.push_back(std::move(token));
  }
  return tokens;
}

// -- routes -------------------------------------------------------------------

const std::vector<http_route>& http_routes() {
  using r = http_role;
  static const std::vector<http_route> routes = {
    {"GET", "/healthz", std::nullopt},
    {"GET", "/readyz", std::nullopt},
    {"GET", "/v1/openapi.json", std::nullopt},
    {"GET", "/v1/flows", r::reader},
    {"POST", "/v1/flows", r::admin},
    {"POST", "/v1/flows:validate", r::reader},
    {"GET", "/v1/flows/{name}", r::reader},
    {"PUT", "/v1/flows/{name}", r::admin},
    {"POST", "/v1/flows/{name}/publish", r::admin},
    {"POST", "/v1/flows/{name}/stop", r::admin},
    {"POST", "/v1/flows/{name}/pause", r::operator_},
    {"POST", "/v1/flows/{name}/resume", r::operator_},
    {"GET", "/v1/flows/{name}/diagram", r::reader},
    {"GET", "/v1/policies", r::reader},
    {"PUT", "/v1/policies", r::admin},
    {"GET", "/v1/policies/{name}", r::reader},
    {"DELETE", "/v1/policies/{name}", r::admin},
    {"POST", "/v1/orders", r::submitter},
    {"POST", "/v1/orders/{id}/events", r::submitter},
    {"POST", "/v1/orders/{id}/cancel", r::submitter},
    {"GET", "/v1/orders/{id}/journeys", r::reader},
    {"GET", "/v1/journeys", r::reader},
    {"POST", "/v1/orders/{id}/journeys/{flow}/replay", r::operator_},
    {"POST", "/v1/orders/{id}/journeys/{flow}/redrive", r::operator_},
    {"GET", "/v1/stream", r::reader},
    {"GET", "/v1/providers", r::reader},
    {"GET", "/v1/node", r::reader},
    {"GET", "/metrics", r::reader},
  };
  return routes;
}

http_response http_error(unsigned status, const std::string& text) {
  auto r = json_response(status, "{\"error\":" + quote(text) + "}");
  if (status == 503)
    r.headers.emplace_back("Retry-After", "1");
  if (status == 401)
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

unsigned http_status_of(const caf::error& err) {
  switch (static_cast<errc>(orca_code(err))) {
    case errc::invalid_json:
    case errc::invalid_flow:
    case errc::invalid_order:
    case errc::invalid_config:
    case errc::invalid_argument:
    case errc::unknown_provider: return 400;
    case errc::limit_exceeded: return 413;
    case errc::no_such_flow:
    case errc::no_such_version:
    case errc::no_such_policy:
    case errc::no_such_journey:
    case errc::no_such_order: return 404;
    case errc::flow_exists:
    case errc::flow_is_published:
    case errc::flow_not_published:
    case errc::flow_not_paused:
    case errc::journey_not_failed:
    case errc::duplicate_order:
    case errc::provider_taken: return 409;
    case errc::busy:
    case errc::engine_stopped:
    case errc::storage_full: return 503;
    default: return 500;
  }
}

// -- the router ---------------------------------------------------------------

struct http_api::impl {
  options opts;
  /// Engine calls that wait for the store or for actors run here.
  blocking_pool pool{2};
  std::atomic<bool> stopped{false};
  std::vector<std::vector<std::string>> route_paths;

  /// The role of the request's token, or the response that refuses it.
  std::variant<http_role, http_response>
  role_of(const http_request& req) const {
    if (opts.tokens.empty())
      return http_role::admin;
    constexpr std::string_view bearer = "Bearer ";
    if (req.authorization.size() <= bearer.size()
        || req.authorization.compare(0, bearer.size(), bearer) != 0)
      return http_error(401,
                        "this node needs a token: send "
                        "'Authorization: Bearer TOKEN'");
    auto given = std::string_view{req.authorization}.substr(bearer.size());
    std::optional<http_role> found;
    for (const auto& t : opts.tokens)
      if (constant_time_equal(t.token, given))
        found = t.role;
    if (!found)
      return http_error(401, "unknown token");
    return *found;
  }

  /// Why `req` may not use `route`, if it may not.
  std::optional<http_response> refused(const http_request& req,
                                       const http_route& route) const {
    if (!route.role)
      return std::nullopt;
    auto role = role_of(req);
    if (auto* refusal = std::get_if<http_response>(&role))
      return *refusal;
    auto have = std::get<http_role>(role);
    if (have < *route.role)
      return http_error(403,
                        std::string{"a "} + to_string(have) + " token may not "
                          + route.method + " " + route.path + " (it needs "
                          + to_string(*route.role) + ")");
    return std::nullopt;
  }
};

http_api::http_api(Engine& engine, options opts)
    : engine_(engine), impl_(std::make_unique<impl>()) {
  impl_->opts = std::move(opts);
  // Without the node's own answers: what the engine knows.
  if (!impl_->opts.providers)
    impl_->opts.providers =
      [&engine]() -> caf::expected<std::vector<provider_view>> {
      std::vector<provider_view> out;
      for (const auto& p : engine.providers())
        out.push_back({p.id, p.kind, p.kind != "remote"});
      return out;
    };
  if (!impl_->opts.status)
    impl_->opts.status = [&engine]() {
      return fill_status(engine, node_status{});
    };
  for (const auto& r : http_routes())
    impl_->route_paths.push_back(route_segments(r.path));
}

http_api::~http_api() = default;

bool http_api::ready() const {
  return !impl_->stopped.load();
}

void http_api::stop() {
  impl_->stopped = true;
}

std::pair<std::optional<stream_filter>, http_response>
http_api::open_stream(const http_request& req) const {
  static const http_route stream = {"GET", "/v1/stream", http_role::reader};
  if (auto refusal = impl_->refused(req, stream))
    return {std::nullopt, *refusal};
  auto target = parse_target(req.target);
  if (!target)
    return {std::nullopt, http_error(400, "the request's URL does not decode")};
  stream_filter filter;
  if (auto it = target->query.find("flow"); it != target->query.end())
    filter.flow = it->second;
  if (auto it = target->query.find("terminal"); it != target->query.end()) {
    if (it->second != "true" && it->second != "false")
      return {
        std::nullopt,
        http_error(400, "terminal: true or false, not " + quote(it->second))};
    filter.terminal_only = it->second == "true";
  }
  return {filter, {}};
}

void http_api::handle(http_request req,
                      std::function<void(http_response)> done) {
  auto target = parse_target(req.target);
  if (!target) {
    done(http_error(400, "the request's URL does not decode"));
    return;
  }
  // The route, and which other methods the path has (405).
  const http_route* route = nullptr;
  std::vector<std::string> params;
  std::string allowed;
  const auto& routes = http_routes();
  for (std::size_t i = 0; i < routes.size(); ++i) {
    std::vector<std::string> p;
    if (!matches(impl_->route_paths[i], target->segments, p))
      continue;
    if (req.method == routes[i].method) {
      route = &routes[i];
      params = std::move(p);
      break;
    }
    allowed += allowed.empty() ? "" : ", ";
    allowed += routes[i].method;
  }
  if (route == nullptr) {
    if (!allowed.empty()) {
      auto r = http_error(
        405, req.method + " is not allowed here (allowed: " + allowed + ")");
      r.headers.emplace_back("Allow", allowed);
      done(std::move(r));
      return;
    }
    done(http_error(
      404, "no such path: " + req.target.substr(0, req.target.find('?'))));
    return;
  }
  if (auto refusal = impl_->refused(req, *route)) {
    done(std::move(*refusal));
    return;
  }
  std::string path = route->path;
  auto& e = engine_;
  auto& q = target->query;
  auto param = [&q](const char* key) {
    auto it = q.find(key);
    return it == q.end() ? std::string{} : it->second;
  };
  // Runs `work` (returning an http_response) on the pool.
  auto later = [this, &done](auto work) {
    impl_->pool.post([work = std::move(work),
                      done = std::move(done)]() mutable { done(work()); });
  };

  if (path == "/healthz") {
    done(json_response(200, "{\"status\":\"ok\"}"));
    return;
  }
  if (path == "/readyz") {
    done(ready() ? json_response(200, "{\"status\":\"ready\"}")
                 : http_error(503, "the node is stopping"));
    return;
  }
  if (path == "/v1/openapi.json") {
    done(json_response(200, std::string{openapi_document()}));
    return;
  }
  if (!ready()) {
    done(http_error(503, "the node is stopping"));
    return;
  }
  if (path == "/v1/stream") {
    done(http_error(400,
                    "GET /v1/stream is a Server-Sent Events stream: "
                    "ask with 'Accept: text/event-stream'"));
    return;
  }

  // -- flows ------------------------------------------------------------------
  if (path == "/v1/flows" && req.method == "GET") {
    later([&e] {
      return answer(e.list_flows(), [](const std::vector<flow_record>& fs) {
        std::vector<std::string> items;
        for (const auto& f : fs)
          items.push_back(flow_json(f));
        return json_list("flows", items);
      });
    });
    return;
  }
  if (path == "/v1/flows" && req.method == "POST") {
    later([&e, body = std::move(req.body)] {
      return answer(
        e.create_flow(body, "request body"),
        [](const flow_record& f) { return flow_json(f); }, 201);
    });
    return;
  }
  if (path == "/v1/flows:validate") {
    later([&e, body = std::move(req.body)] {
      auto library = e.list_policies();
      if (!library)
        return error_response(library.error());
      auto text = with_library(body, *library, "request body");
      if (!text)
        return error_response(text.error());
      auto parsed = parse_flow(*text);
      auto lines = parsed.errors.lines("request body");
      std::string out = "{\"valid\":";
      out += parsed.errors.empty() ? "true" : "false";
      if (parsed.model)
        out += ",\"name\":" + quote(parsed.model->name)
          + ",\"steps\":" + std::to_string(parsed.model->steps.size());
      if (!lines.empty())
        out += ",\"error\":" + quote(lines.front());
      out += ",\"errors\":[";
      for (std::size_t i = 0; i < lines.size(); ++i)
        out += (i > 0 ? "," : "") + quote(lines[i]);
      out += "]}";
      return json_response(parsed.errors.empty() ? 200 : 400, out);
    });
    return;
  }
  if (path == "/v1/flows/{name}" && req.method == "GET") {
    uint64_t version = 0;
    if (auto v = param("version"); !v.empty()) {
      auto n = number_param(v, "version", 1, UINT32_MAX);
      if (!n) {
        done(error_response(n.error()));
        return;
      }
      version = *n;
    }
    later([&e, name = params[0], version] {
      return answer(show_flow(e, name, static_cast<uint32_t>(version)),
                    [](const flow_detail& d) { return flow_detail_json(d); });
    });
    return;
  }
  if (path == "/v1/flows/{name}" && req.method == "PUT") {
    later([&e, name = params[0], body = std::move(req.body)] {
      // The flow in the body must be the one the URL names.
      json_document doc;
      doc.Parse(body.c_str(), body.size());
      if (!doc.HasParseError() && doc.IsObject() && doc.HasMember("name")
          && doc["name"].IsString()
          && std::string_view{doc["name"].GetString(),
                              doc["name"].GetStringLength()}
            != name)
        return http_error(400,
                          "name: the body defines flow "
                            + quote(doc["name"].GetString())
                            + ", not the flow of the URL, " + quote(name));
      return answer(e.update_flow(body, "request body"),
                    [](const flow_record& f) { return flow_json(f); });
    });
    return;
  }
  if (path == "/v1/flows/{name}/publish" || path == "/v1/flows/{name}/stop"
      || path == "/v1/flows/{name}/pause"
      || path == "/v1/flows/{name}/resume") {
    bool cancel = false;
    if (auto c = param("cancel_in_flight"); !c.empty()) {
      if (c != "true" && c != "false") {
        done(
          http_error(400, "cancel_in_flight: true or false, not " + quote(c)));
        return;
      }
      cancel = c == "true";
    }
    later([&e, name = params[0], path, cancel]() -> http_response {
      caf::error err;
      if (path == "/v1/flows/{name}/publish") {
        auto v = e.publish_flow(name);
        if (!v)
          err = v.error();
      } else if (path == "/v1/flows/{name}/stop") {
        err = e.stop_flow(name, cancel);
      } else if (path == "/v1/flows/{name}/pause") {
        err = e.pause_flow(name);
      } else {
        err = e.resume_flow(name);
      }
      if (err)
        return error_response(err);
      return answer(e.get_flow(name),
                    [](const flow_record& f) { return flow_json(f); });
    });
    return;
  }
  if (path == "/v1/flows/{name}/diagram") {
    auto format_name = param("format");
    if (format_name.empty())
      format_name = "dot";
    auto format = diagram_format_from(format_name);
    if (!format) {
      done(
        http_error(400, "format: dot or mermaid, not " + quote(format_name)));
      return;
    }
    later([&e, name = params[0], format = *format]() -> http_response {
      auto detail = show_flow(e, name, 0);
      if (!detail)
        return error_response(detail.error());
      const auto& text =
        detail->resolved.empty() ? detail->definition : detail->resolved;
      auto parsed = parse_flow(text);
      if (!parsed.model)
        return http_error(409,
                          "flow " + quote(name)
                            + " does not parse, so it has no picture: "
                            + parsed.errors.lines(name).front());
      http_response r;
      r.content_type = format == diagram_format::dot
        ? "text/vnd.graphviz; charset=utf-8"
        : "text/plain; charset=utf-8";
      r.body = render_diagram(*parsed.model, format);
      return r;
    });
    return;
  }

  // -- the policy library -----------------------------------------------------
  auto policies_json = [](const std::vector<library_policy>& ps) {
    std::vector<std::string> items;
    for (const auto& p : ps)
      items.push_back(policy_json(p));
    return json_list("policies", items);
  };
  if (path == "/v1/policies" && req.method == "GET") {
    later(
      [&e, policies_json] { return answer(e.list_policies(), policies_json); });
    return;
  }
  if (path == "/v1/policies" && req.method == "PUT") {
    later([&e, policies_json, body = std::move(req.body)] {
      return answer(e.put_policies(body, "request body"), policies_json);
    });
    return;
  }
  if (path == "/v1/policies/{name}") {
    later([&e, name = params[0], del = req.method == "DELETE"] {
      return answer(del ? e.delete_policy(name) : e.get_policy(name),
                    [](const library_policy& p) { return policy_json(p); });
    });
    return;
  }

  // -- orders -----------------------------------------------------------------
  if (path == "/v1/orders") {
    bool many = req.content_type.rfind(ndjson, 0) == 0;
    std::vector<std::string> orders;
    if (many) {
      std::string_view body = req.body;
      while (!body.empty()) {
        auto nl = body.find('\n');
        auto line = body.substr(0, nl);
        if (!line.empty() && line.back() == '\r')
          line.remove_suffix(1);
        if (line.find_first_not_of(" \t") != std::string_view::npos)
          orders.emplace_back(line);
        if (nl == std::string_view::npos)
          break;
        body.remove_prefix(nl + 1);
      }
      if (orders.empty()) {
        done(http_error(400,
                        "the body holds no order (JSON Lines: one "
                        "order per line)"));
        return;
      }
    } else {
      orders.push_back(std::move(req.body));
    }
    e.submit_async(
      std::move(orders),
      [many, done = std::move(done)](std::vector<submit_result> results) {
        bool none_taken = !results.empty();
        for (const auto& r : results)
          if (!r.refusal)
            none_taken = false;
        if (none_taken) {
          done(error_response(results.front().refusal));
          return;
        }
        bool rejected = false;
        bool over_limit = false;
        std::string body;
        for (const auto& r : results) {
          if (r.status == submit_status::rejected) {
            rejected = true;
            over_limit = over_limit || r.reason == errc::limit_exceeded;
          }
          body += submit_json(to_outcome(r));
          if (many)
            body += '\n';
        }
        http_response out;
        out.status = !rejected ? 202 : (!many && over_limit) ? 413 : 400;
        out.content_type = many ? ndjson : "application/json";
        out.body = std::move(body);
        done(std::move(out));
      });
    return;
  }
  if (path == "/v1/orders/{id}/events" || path == "/v1/orders/{id}/cancel") {
    std::string type = event_types::cancel_order;
    if (path == "/v1/orders/{id}/events") {
      json_document doc;
      doc.Parse(req.body.c_str(), req.body.size());
      if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("type")
          || !doc["type"].IsString()) {
        done(http_error(400,
                        "type: the body must be {\"type\": "
                        "\"EVENT_TYPE\"}"));
        return;
      }
      type.assign(doc["type"].GetString(), doc["type"].GetStringLength());
    }
    auto order_id = params[0];
    e.events_async(
      {{order_id, type}},
      [order_id, type, done = std::move(done)](std::vector<caf::error> errs) {
        if (errs.front()) {
          done(error_response(errs.front()));
          return;
        }
        done(json_response(202,
                           "{\"order_id\":" + quote(order_id) + ",\"type\":"
                             + quote(type) + ",\"status\":\"accepted\"}"));
      });
    return;
  }

  // -- journeys ---------------------------------------------------------------
  if (path == "/v1/orders/{id}/journeys") {
    later([&e, id = params[0], flow = param("flow")] {
      return answer(show_journeys(e, id, flow),
                    [](const std::vector<journey_view>& views) {
                      std::vector<std::string> items;
                      for (const auto& v : views)
                        items.push_back(journey_json(v.record, &v.timeline));
                      return json_list("journeys", items);
                    });
    });
    return;
  }
  if (path == "/v1/journeys") {
    journey_query query;
    query.limit = 100;
    if (auto f = param("flow"); !f.empty())
      query.flow = f;
    if (auto s = param("state"); !s.empty()) {
      auto state = journey_state_from(s);
      if (!state || *state != visible_state(*state)) {
        done(http_error(400,
                        "state: unknown journey state " + quote(s)
                          + " (running, waiting, paused, completed, "
                            "failed, cancelled, skipped)"));
        return;
      }
      query.state = *state;
    }
    if (auto l = param("limit"); !l.empty()) {
      auto n = number_param(l, "limit", 1, 1000);
      if (!n) {
        done(error_response(n.error()));
        return;
      }
      query.limit = *n;
    }
    if (auto a = param("after"); !a.empty()) {
      auto id = journey_of_cursor(a);
      if (!id) {
        done(
          http_error(400, "after: not a cursor this node gave: " + quote(a)));
        return;
      }
      query.after = std::move(*id);
    }
    later([&e, query] {
      return answer(e.list_journeys(query),
                    [&query](const std::vector<journey_record>& rs) {
                      std::string out = "{\"journeys\":[";
                      for (std::size_t i = 0; i < rs.size(); ++i)
                        out += (i > 0 ? "," : "") + journey_json(rs[i]);
                      out += "],\"next\":";
                      out += rs.size() == query.limit
                        ? quote(cursor_of(rs.back()))
                        : std::string{"null"};
                      return out + "}";
                    });
    });
    return;
  }
  if (path == "/v1/orders/{id}/journeys/{flow}/replay") {
    uint64_t against = 0;
    if (auto v = param("against_version"); !v.empty()) {
      auto n = number_param(v, "against_version", 1, UINT32_MAX);
      if (!n) {
        done(error_response(n.error()));
        return;
      }
      against = *n;
    }
    later([&e, id = params[0], flow = params[1], against] {
      return answer(replay_journey(e, id, flow, static_cast<uint32_t>(against)),
                    [](const replay_view& v) { return replay_json(v); });
    });
    return;
  }
  if (path == "/v1/orders/{id}/journeys/{flow}/redrive") {
    later([&e, id = params[0], flow = params[1]] {
      return answer(e.redrive(id, flow),
                    [](const journey_record& r) { return journey_json(r); });
    });
    return;
  }

  // -- the node ---------------------------------------------------------------
  if (path == "/v1/providers") {
    later([source = impl_->opts.providers] {
      return answer(source(), [](const std::vector<provider_view>& ps) {
        std::vector<std::string> items;
        for (const auto& p : ps)
          items.push_back(provider_json(p));
        return json_list("providers", items);
      });
    });
    return;
  }
  if (path == "/metrics") {
    later([&e] {
      http_response r;
      r.content_type = "text/plain; version=0.0.4; charset=utf-8";
      r.body = e.metrics_text();
      return r;
    });
    return;
  }
  if (path == "/v1/node") {
    later([source = impl_->opts.status] {
      return answer(source(),
                    [](const node_status& s) { return status_json(s); });
    });
    return;
  }
  done(http_error(404, "no such path"));
}

} // namespace orca
