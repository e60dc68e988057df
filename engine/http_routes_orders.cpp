// The HTTP API's routes for orders, events, journeys and the node.

#include "engine/http_call.hpp"
#include "engine/operations.hpp"
#include "engine/views_json.hpp"

namespace orca::http_detail {

namespace {

constexpr const char* ndjson = "application/x-ndjson";

/// The orders of a JSON Lines body: one a line, blank lines skipped.
std::vector<std::string> lines_of(std::string_view body) {
  std::vector<std::string> orders;
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
  return orders;
}

/// Records event `type` for the URL's order; 202 once it is durable.
void send_event(call& c, std::string type) {
  auto order_id = c.params[0];
  c.engine.events_async(
    {{order_id, type}},
    [order_id, type, done = std::move(c.done)](std::vector<caf::error> errs) {
      if (errs.front()) {
        done(error_response(errs.front()));
        return;
      }
      done(json_response(202,
                         "{\"order_id\":" + quote(order_id) + ",\"type\":"
                           + quote(type) + ",\"status\":\"accepted\"}"));
    });
}

/// The answer to submitted orders: one outcome per order, in order (JSON
/// Lines when `many`); 202 when all were taken, 400 (413 for one order
/// over a limit) when one was rejected, the refusal when none was taken.
std::function<void(std::vector<submit_result>)>
submissions_answer(bool many, std::function<void(http_response)> done) {
  return [many, done = std::move(done)](std::vector<submit_result> results) {
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
  };
}

} // namespace

void on_submit_orders(call& c) {
  bool many = c.req.content_type.rfind(ndjson, 0) == 0;
  std::vector<std::string> orders;
  if (many) {
    orders = lines_of(c.req.body);
    if (orders.empty()) {
      c.done(http_error(400,
                        "the body holds no order (JSON Lines: one "
                        "order per line)"));
      return;
    }
  } else {
    orders.push_back(std::move(c.req.body));
  }
  c.engine.submit_async(std::move(orders),
                        submissions_answer(many, std::move(c.done)));
}

void on_order_event(call& c) {
  json_document doc;
  auto depth = c.engine.config().limits.json_depth;
  auto parsed = parse_bounded(doc, c.req.body, depth);
  if (parsed.too_deep) {
    c.done(http_error(413, describe(too_deep("the body", depth))));
    return;
  }
  if (!parsed.ok() || !doc.IsObject() || !doc.HasMember("type")
      || !doc["type"].IsString()) {
    c.done(http_error(400,
                      "type: the body must be {\"type\": "
                      "\"EVENT_TYPE\"}"));
    return;
  }
  send_event(c, {doc["type"].GetString(), doc["type"].GetStringLength()});
}

void on_cancel_order(call& c) {
  send_event(c, event_types::cancel_order);
}

void on_intake(call& c) {
  const auto& sources = c.engine.config().sources;
  auto found = sources.find(c.params[0]);
  if (found == sources.end()) {
    c.done(http_error(404,
                      "no source " + quote(c.params[0])
                        + " in the node config's \"sources\""));
    return;
  }
  // The signature and the transform are work for the router's threads.
  c.pool.post([&engine = c.engine, &source = found->second,
               req = std::move(c.req), done = std::move(c.done)] {
    auto [payload, refusal] =
      map_payload(source, req.body, engine.config().limits, req.headers);
    if (!payload) {
      done(http_error(refusal.status, refusal.error));
      return;
    }
    if (payload->event.empty()) {
      engine.submit_async({std::move(payload->order_or_id)},
                          submissions_answer(false, done));
      return;
    }
    auto order_id = payload->order_or_id;
    auto event = payload->event;
    engine.events_async({{order_id, event}},
                        [order_id, event, done](std::vector<caf::error> errs) {
                          if (errs.front()) {
                            done(error_response(errs.front()));
                            return;
                          }
                          done(json_response(202,
                                             "{\"order_id\":" + quote(order_id)
                                               + ",\"event\":" + quote(event)
                                               + "}"));
                        });
  });
}

void on_list_hooks(call& c) {
  c.done(json_response(
    200, json_list("hooks", c.engine.hooks(), [](const hook_status& h) {
      return hook_json(h);
    })));
}

void on_order_journeys(call& c) {
  c.later([&e = c.engine, id = c.params[0], flow = c.param("flow")] {
    return answer(
      show_journeys(e, id, flow), [](const std::vector<journey_view>& views) {
        return json_list("journeys", views, [](const journey_view& v) {
          return journey_json(v.record, &v.timeline);
        });
      });
  });
}

void on_list_journeys(call& c) {
  journey_query query;
  if (auto f = c.param("flow"); !f.empty())
    query.flow = f;
  if (auto s = c.param("state"); !s.empty()) {
    auto state = journey_state_from(s);
    if (!state || *state != visible_state(*state)) {
      c.done(http_error(400,
                        "state: unknown journey state " + quote(s)
                          + " (running, waiting, paused, completed, "
                            "failed, cancelled, skipped)"));
      return;
    }
    query.state = *state;
  }
  auto limit = c.number("limit", 1, 1000, 100);
  if (!limit)
    return;
  query.limit = *limit;
  if (auto a = c.param("after"); !a.empty()) {
    auto id = journey_of_cursor(a);
    if (!id) {
      c.done(
        http_error(400, "after: not a cursor this node gave: " + quote(a)));
      return;
    }
    query.after = std::move(*id);
  }
  c.later([&e = c.engine, query] {
    return answer(
      e.list_journeys(query), [&query](const std::vector<journey_record>& rs) {
        std::string out = "{\"journeys\":[";
        for (std::size_t i = 0; i < rs.size(); ++i)
          out += (i > 0 ? "," : "") + journey_json(rs[i]);
        out += "],\"next\":";
        out += rs.size() == query.limit ? quote(cursor_of(rs.back()))
                                        : std::string{"null"};
        return out + "}";
      });
  });
}

void on_replay_journey(call& c) {
  auto against = c.number("against_version", 1, UINT32_MAX, 0);
  if (!against)
    return;
  c.later(
    [&e = c.engine, id = c.params[0], flow = c.params[1], against = *against] {
      return answer(replay_journey(e, id, flow, static_cast<uint32_t>(against)),
                    [](const replay_view& v) { return replay_json(v); });
    });
}

void on_redrive_journey(call& c) {
  c.later([&e = c.engine, id = c.params[0], flow = c.params[1]] {
    return answer(e.redrive(id, flow),
                  [](const journey_record& r) { return journey_json(r); });
  });
}

void on_list_providers(call& c) {
  c.later([source = c.opts.providers] {
    return answer(source(), [](const std::vector<provider_view>& ps) {
      return json_list("providers", ps,
                       [](const provider_view& p) { return provider_json(p); });
    });
  });
}

void on_node_status(call& c) {
  c.later([source = c.opts.status] {
    return answer(source(),
                  [](const node_status& s) { return status_json(s); });
  });
}

void on_metrics(call& c) {
  c.later([&e = c.engine] {
    http_response r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = e.metrics_text();
    return r;
  });
}

} // namespace orca::http_detail
