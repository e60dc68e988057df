#include "actors/http_provider.hpp"

#include <algorithm>
#include <string_view>
#include <utility>

#include <caf/event_based_actor.hpp>

#include "actors/blocking_pool.hpp"
#include "flows/errc.hpp"
#include "flows/json.hpp"

namespace orca {

namespace {

using header_list = std::vector<std::pair<std::string, std::string>>;

/// How much of a non-2xx answer's body goes into the error message.
constexpr std::size_t error_body_bytes = 200;

bool has_control_character(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

/// The first `limit` bytes of `body`, shortened further so that a UTF-8
/// sequence is never cut in half (the text ends up in JSON and logs).
std::string_view body_excerpt(std::string_view body, std::size_t limit) {
  if (body.size() <= limit)
    return body;
  auto end = limit;
  // Step back over continuation bytes (10xxxxxx) to the start of the
  // sequence that straddles the limit, and drop that whole sequence.
  while (end > 0 && (static_cast<unsigned char>(body[end]) & 0xC0) == 0x80)
    --end;
  return body.substr(0, end);
}

/// One provider call: the request as JSON with its idempotency key, the
/// answer as a reply.
provider_reply call_provider(const http_endpoint& endpoint,
                             const header_list& config_headers,
                             uint32_t timeout_ms, const limits& lim,
                             const provider_request& request) {
  const auto& url_text = endpoint.url();
  // The key comes from order ids, which are untrusted: a CR or LF in it
  // would let an order write its own HTTP headers.
  if (has_control_character(request.idempotency_key))
    return provider_reply::failure(
      url_text + ": the idempotency key " + quote(request.idempotency_key)
        + " contains control characters and cannot be sent as a header",
      errc::protocol_error);
  header_list headers{{"Idempotency-Key", request.idempotency_key}};
  headers.insert(headers.end(), config_headers.begin(), config_headers.end());
  auto outcome =
    endpoint.post(headers, to_json(request), timeout_ms, lim.answer_bytes);
  if (!outcome.answered)
    return provider_reply::failure(std::move(outcome.error), outcome.code);
  if (outcome.status < 200 || outcome.status > 299) {
    auto message =
      "HTTP " + std::to_string(outcome.status) + " from " + url_text;
    auto excerpt = body_excerpt(outcome.body, error_body_bytes);
    if (!excerpt.empty()) {
      message += ": ";
      message += excerpt;
    }
    return provider_reply::failure(std::move(message));
  }
  auto reply = reply_from_json(request.action, outcome.body, lim);
  if (!reply.ok)
    reply.error = url_text + ": " + reply.error;
  return reply;
}

/// The adapter for a URL that does not parse: the engine keeps running and
/// every call fails with the reason.
caf::behavior misconfigured_provider(caf::event_based_actor*, std::string why) {
  return {
    [why](const provider_request&) -> provider_reply {
      return provider_reply::failure(why, errc::node_unreachable);
    },
  };
}

} // namespace

caf::error check_http_provider(const http_provider_config& config) {
  if (auto endpoint = http_endpoint::make(config.url, config.ca_file);
      !endpoint)
    return endpoint.error();
  return caf::none;
}

caf::actor spawn_http_provider(caf::actor_system& system,
                               http_provider_config config, const limits& lim) {
  auto endpoint = http_endpoint::make(config.url, config.ca_file);
  if (!endpoint)
    return system.spawn(misconfigured_provider, describe(endpoint.error()));
  // A request goes to the first free thread, in order; each call has a
  // connection of its own.
  return spawn_blocking_provider(
    system,
    [endpoint = std::move(*endpoint), timeout_ms = config.timeout_ms, lim,
     headers = std::move(config.headers)](const provider_request& request) {
      return call_provider(*endpoint, headers, timeout_ms, lim, request);
    },
    std::max<std::size_t>(config.workers, 1), lim);
}

} // namespace orca
