#include "engine/http_api.hpp"

#include <atomic>
#include <variant>

#include "engine/http_call.hpp"
#include "engine/operations.hpp"

namespace orca {

namespace {

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

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

/// A whole number query parameter `key` in [min, max] (`fallback` when
/// absent).
caf::expected<uint64_t> number_of(const char* key, const std::string& text,
                                  uint64_t min, uint64_t max,
                                  uint64_t fallback) {
  if (text.empty())
    return fallback;
  if (text.size() > 19
      || text.find_first_not_of("0123456789") != std::string::npos)
    return make_error(errc::invalid_argument,
                      std::string{key}
                        + ": not a whole number: " + quote(text));
  auto n = std::stoull(text);
  if (n < min || n > max)
    return make_error(errc::invalid_argument,
                      std::string{key} + ": " + text + " is not between "
                        + std::to_string(min) + " and " + std::to_string(max));
  return n;
}

/// A `true`/`false` query parameter `key` (false when absent).
caf::expected<bool> flag_of(const char* key, const std::string& text) {
  if (text.empty() || text == "false")
    return false;
  if (text == "true")
    return true;
  return make_error(errc::invalid_argument,
                    std::string{key} + ": true or false, not " + quote(text));
}

} // namespace

namespace http_detail {

// -- what handlers share ------------------------------------------------------

std::string call::param(const char* key) const {
  auto it = query.find(key);
  return it == query.end() ? std::string{} : it->second;
}

std::optional<uint64_t> call::number(const char* key, uint64_t min,
                                     uint64_t max, uint64_t fallback) {
  auto n = number_of(key, param(key), min, max, fallback);
  if (!n) {
    done(error_response(n.error()));
    return std::nullopt;
  }
  return *n;
}

std::optional<bool> call::flag(const char* key) {
  auto b = flag_of(key, param(key));
  if (!b) {
    done(error_response(b.error()));
    return std::nullopt;
  }
  return *b;
}

http_response json_response(unsigned status, std::string body) {
  http_response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

http_response error_response(const caf::error& err) {
  return http_error(http_status_of(err), describe(err));
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

// -- the routes that need no engine -------------------------------------------

void on_healthz(call& c) {
  c.done(json_response(200, "{\"status\":\"ok\"}"));
}

void on_readyz(call& c) {
  c.done(c.ready ? json_response(200, "{\"status\":\"ready\"}")
                 : http_error(503, "the node is stopping"));
}

void on_openapi(call& c) {
  c.done(json_response(200, std::string{openapi_document()}));
}

void on_token(call& c) {
  const auto& who = c.caller;
  c.done(json_response(
    200,
    std::string{"{\"role\":"}
      + (who.role ? quote(to_string(*who.role)) : "null")
      + ",\"name\":" + (who.role && who.tokens ? quote(who.name) : "null")
      + ",\"tokens\":" + (who.tokens ? "true" : "false") + "}"));
}

void on_stream_without_accept(call& c) {
  // The server serves GET /v1/stream itself; it comes here only through
  // the router alone (a test, the fuzz target).
  c.done(http_error(400,
                    "GET /v1/stream is a Server-Sent Events stream: "
                    "ask with 'Accept: text/event-stream'"));
}

} // namespace http_detail

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
  using namespace http_detail;
  static const std::vector<http_route> routes = {
    {"GET", "/healthz", std::nullopt, on_healthz},
    {"GET", "/readyz", std::nullopt, on_readyz},
    {"GET", "/v1/openapi.json", std::nullopt, on_openapi},
    {"GET", "/v1/flows", r::reader, on_list_flows},
    {"POST", "/v1/flows", r::admin, on_create_flow},
    {"POST", "/v1/flows:validate", r::reader, on_validate_flow},
    {"GET", "/v1/flows/{name}", r::reader, on_show_flow},
    {"PUT", "/v1/flows/{name}", r::admin, on_update_flow},
    {"POST", "/v1/flows/{name}/publish", r::admin, on_publish_flow},
    {"POST", "/v1/flows/{name}/stop", r::admin, on_stop_flow},
    {"POST", "/v1/flows/{name}/pause", r::operator_, on_pause_flow},
    {"POST", "/v1/flows/{name}/resume", r::operator_, on_resume_flow},
    {"GET", "/v1/flows/{name}/diagram", r::reader, on_flow_diagram},
    {"GET", "/v1/policies", r::reader, on_list_policies},
    {"PUT", "/v1/policies", r::admin, on_put_policies},
    {"GET", "/v1/policies/{name}", r::reader, on_show_policy},
    {"DELETE", "/v1/policies/{name}", r::admin, on_delete_policy},
    {"POST", "/v1/orders", r::submitter, on_submit_orders},
    {"POST", "/v1/orders/{id}/events", r::submitter, on_order_event},
    {"POST", "/v1/orders/{id}/cancel", r::submitter, on_cancel_order},
    {"POST", "/v1/intake/{source}", r::submitter, on_intake},
    {"GET", "/v1/orders/{id}/journeys", r::reader, on_order_journeys},
    {"GET", "/v1/journeys", r::reader, on_list_journeys},
    {"POST", "/v1/orders/{id}/journeys/{flow}/replay", r::operator_,
     on_replay_journey},
    {"POST", "/v1/orders/{id}/journeys/{flow}/redrive", r::operator_,
     on_redrive_journey},
    {"GET", "/v1/stream", r::reader, on_stream_without_accept},
    {"GET", "/v1/providers", r::reader, on_list_providers},
    {"GET", "/v1/node", r::reader, on_node_status},
    {"GET", "/v1/hooks", r::reader, on_list_hooks},
    {"GET", "/v1/token", std::nullopt, on_token},
    {"GET", "/metrics", r::reader, on_metrics},
    {"GET", "/", std::nullopt, on_console_page},
    {"GET", "/flows/{name}", std::nullopt, on_console_page},
    {"GET", "/orders/{id}", std::nullopt, on_console_page},
    {"GET", "/console/{file}", std::nullopt, on_console_file},
  };
  return routes;
}

http_response http_error(unsigned status, const std::string& text) {
  auto r =
    http_detail::json_response(status, "{\"error\":" + quote(text) + "}");
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
  /// Flow pictures: Graphviz draws one at a time, and a wide flow takes a
  /// second or more, so they wait here rather than hold the threads above.
  blocking_pool drawing{1};
  std::atomic<bool> stopped{false};
  std::vector<std::vector<std::string>> route_paths;

  /// The request's token (admin for everyone when the node has no
  /// tokens), or the response that refuses it.
  std::variant<http_caller, http_response>
  caller_of(const http_request& req) const {
    if (opts.tokens.empty())
      return http_caller{http_role::admin, "", false};
    constexpr std::string_view bearer = "Bearer ";
    if (req.authorization.size() <= bearer.size()
        || req.authorization.compare(0, bearer.size(), bearer) != 0)
      return http_error(401,
                        "this node needs a token: send "
                        "'Authorization: Bearer TOKEN'");
    auto given = std::string_view{req.authorization}.substr(bearer.size());
    const http_token* found = nullptr;
    for (const auto& t : opts.tokens)
      if (constant_time_equal(t.token, given))
        found = &t;
    if (found == nullptr)
      return http_error(401, "unknown token");
    return http_caller{found->role, found->name, true};
  }

  /// Who sends `req`, or why it may not use `route`. An open route admits
  /// everyone, as a reader when its token is missing or unknown.
  std::variant<http_caller, http_response>
  admitted(const http_request& req, const http_route& route) const {
    auto caller = caller_of(req);
    if (!route.role)
      return std::holds_alternative<http_caller>(caller)
        ? caller
        : http_caller{std::nullopt, "", true};
    if (auto* refusal = std::get_if<http_response>(&caller))
      return *refusal;
    auto have = *std::get<http_caller>(caller).role;
    if (have < *route.role)
      return http_error(403,
                        std::string{"a "} + to_string(have) + " token may not "
                          + route.method + " " + route.path + " (it needs "
                          + to_string(*route.role) + ")");
    return caller;
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
  const auto& routes = http_routes();
  const auto& stream =
    *std::find_if(routes.begin(), routes.end(), [](const http_route& r) {
      return r.handler == http_detail::on_stream_without_accept;
    });
  auto admitted = impl_->admitted(req, stream);
  if (auto* refusal = std::get_if<http_response>(&admitted))
    return {std::nullopt, *refusal};
  auto target = parse_target(req.target);
  if (!target)
    return {std::nullopt, http_error(400, "the request's URL does not decode")};
  auto& q = target->query;
  auto terminal = flag_of("terminal", q.count("terminal") ? q["terminal"] : "");
  if (!terminal)
    return {std::nullopt, http_detail::error_response(terminal.error())};
  stream_filter filter;
  if (auto flow = q.find("flow"); flow != q.end() && !flow->second.empty())
    filter.flow = flow->second;
  filter.terminal_only = *terminal;
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
  auto admitted = impl_->admitted(req, *route);
  if (auto* refusal = std::get_if<http_response>(&admitted)) {
    done(std::move(*refusal));
    return;
  }
  // Stopping, the node still says whether it is alive and ready.
  if (route->role && !ready()) {
    done(http_error(503, "the node is stopping"));
    return;
  }
  http_detail::call c{engine_,
                      impl_->opts,
                      impl_->pool,
                      impl_->drawing,
                      std::move(req),
                      std::move(params),
                      std::move(target->query),
                      std::move(done),
                      ready(),
                      std::get<http_caller>(admitted)};
  route->handler(c);
}

} // namespace orca
