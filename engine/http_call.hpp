#pragma once

// Inside the HTTP API: what a route's handler is given, the helpers the
// handlers share, and the handlers themselves. The router (http_api.cpp)
// finds the route, checks the token and calls its handler; the handlers
// live by area in http_routes_flows.cpp and http_routes_orders.cpp.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "actors/blocking_pool.hpp"
#include "engine/http_api.hpp"
#include "flows/json.hpp"

namespace orca::http_detail {

/// One request on its way to its answer. `done` is called exactly once:
/// by the handler, or by the work it hands to later().
struct call {
  Engine& engine;
  const http_api::options& opts;
  blocking_pool& pool;
  blocking_pool& drawing; ///< for flow pictures (SVG), one at a time
  http_request req;
  std::vector<std::string> params; ///< the route's {parameters}, in order
  std::map<std::string, std::string> query;
  std::function<void(http_response)> done;
  bool ready = true; ///< false once the node is stopping
  http_caller caller;

  /// A query parameter, "" when absent.
  std::string param(const char* key) const;

  /// A whole number query parameter in [min, max], `fallback` when absent;
  /// when it is not one, answers 400 naming it and gives nothing.
  std::optional<uint64_t> number(const char* key, uint64_t min, uint64_t max,
                                 uint64_t fallback);

  /// A `true`/`false` query parameter, false when absent; when it is
  /// neither, answers 400 naming it and gives nothing.
  std::optional<bool> flag(const char* key);

  /// Runs `work` (returning an http_response) on the router's threads and
  /// answers with what it returns.
  template <class F>
  void later(F work) {
    later_on(pool, std::move(work));
  }

  /// later(), on `threads`.
  template <class F>
  void later_on(blocking_pool& threads, F work) {
    threads.post([work = std::move(work), done = std::move(done)]() mutable {
      done(work());
    });
  }
};

using handler = void (*)(call&);

// -- answers ------------------------------------------------------------------

http_response json_response(unsigned status, std::string body);

http_response error_response(const caf::error& err);

/// {"KEY": [render(item)...]}
template <class T, class F>
std::string json_list(const char* key, const std::vector<T>& items, F render) {
  std::string out = "{\"";
  out += key;
  out += "\":[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0)
      out += ',';
    out += render(items[i]);
  }
  return out + "]}";
}

/// The value rendered with `status`, or the error's answer.
template <class T, class F>
http_response answer(const caf::expected<T>& x, F render,
                     unsigned status = 200) {
  if (!x)
    return error_response(x.error());
  return json_response(status, render(*x));
}

/// A journey's place in the listing order as an opaque cursor, and back.
std::string cursor_of(const journey_record& r);
std::optional<journey_id> journey_of_cursor(std::string_view cursor);

// -- the console's files (web/, compiled in) ----------------------------------

/// A file the console's page loads from /console/{name}.
struct console_file {
  std::string_view name;
  const char* content_type;
  std::string_view text;
};

std::string_view console_page();
/// The file called `name`, or nothing.
const console_file* console_file_named(std::string_view name);

// -- the handlers, by route ---------------------------------------------------

void on_healthz(call& c);
void on_readyz(call& c);
void on_openapi(call& c);
void on_stream_without_accept(call& c);

void on_list_flows(call& c);
void on_create_flow(call& c);
void on_validate_flow(call& c);
void on_show_flow(call& c);
void on_update_flow(call& c);
void on_publish_flow(call& c);
void on_stop_flow(call& c);
void on_pause_flow(call& c);
void on_resume_flow(call& c);
void on_flow_diagram(call& c);
void on_list_policies(call& c);
void on_put_policies(call& c);
void on_show_policy(call& c);
void on_delete_policy(call& c);

void on_submit_orders(call& c);
void on_order_event(call& c);
void on_cancel_order(call& c);
void on_intake(call& c);
void on_list_hooks(call& c);
void on_order_journeys(call& c);
void on_list_journeys(call& c);
void on_replay_journey(call& c);
void on_redrive_journey(call& c);
void on_list_providers(call& c);
void on_node_status(call& c);
void on_metrics(call& c);
void on_token(call& c);
void on_console_page(call& c);
void on_console_file(call& c);

} // namespace orca::http_detail
