// The HTTP API's routes for flows, their pictures and the policy library.

#include "engine/http_call.hpp"
#include "engine/operations.hpp"
#include "engine/views_json.hpp"
#include "flows/flow_diagram.hpp"
#include "flows/flow_svg.hpp"
#include "flows/policy_library.hpp"

namespace orca::http_detail {

namespace {

std::string flows_json(const std::vector<flow_record>& flows) {
  return json_list("flows", flows,
                   [](const flow_record& f) { return flow_json(f); });
}

std::string policies_json(const std::vector<library_policy>& policies) {
  return json_list("policies", policies,
                   [](const library_policy& p) { return policy_json(p); });
}

/// Runs a lifecycle operation on the URL's flow; answers with the flow as
/// it now is.
template <class F>
void lifecycle(call& c, F operation) {
  c.later([&e = c.engine, name = c.params[0], operation]() -> http_response {
    if (caf::error err = operation(e, name))
      return error_response(err);
    return answer(e.get_flow(name),
                  [](const flow_record& f) { return flow_json(f); });
  });
}

} // namespace

void on_list_flows(call& c) {
  c.later([&e = c.engine] { return answer(e.list_flows(), flows_json); });
}

void on_create_flow(call& c) {
  c.later([&e = c.engine, body = std::move(c.req.body)] {
    return answer(
      e.create_flow(body, "request body"),
      [](const flow_record& f) { return flow_json(f); }, 201);
  });
}

void on_validate_flow(call& c) {
  c.later([&e = c.engine, body = std::move(c.req.body)] {
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
}

void on_show_flow(call& c) {
  auto version = c.number("version", 1, UINT32_MAX, 0);
  if (!version)
    return;
  c.later([&e = c.engine, name = c.params[0], version = *version] {
    return answer(show_flow(e, name, static_cast<uint32_t>(version)),
                  [](const flow_detail& d) { return flow_detail_json(d); });
  });
}

void on_update_flow(call& c) {
  c.later([&e = c.engine, name = c.params[0], body = std::move(c.req.body)] {
    // The flow in the body must be the one the URL names. A body that
    // does not parse is left for update_flow to report.
    json_document doc;
    auto parsed = parse_bounded(doc, body, e.config().limits.json_depth).ok();
    if (parsed && doc.IsObject() && doc.HasMember("name")
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
}

void on_publish_flow(call& c) {
  lifecycle(c, [](Engine& e, const std::string& name) -> caf::error {
    auto v = e.publish_flow(name);
    return v ? caf::error{} : v.error();
  });
}

void on_stop_flow(call& c) {
  auto cancel = c.flag("cancel_in_flight");
  if (!cancel)
    return;
  lifecycle(c, [cancel = *cancel](Engine& e, const std::string& name) {
    return e.stop_flow(name, cancel);
  });
}

void on_pause_flow(call& c) {
  lifecycle(
    c, [](Engine& e, const std::string& name) { return e.pause_flow(name); });
}

void on_resume_flow(call& c) {
  lifecycle(
    c, [](Engine& e, const std::string& name) { return e.resume_flow(name); });
}

namespace {

/// The picture of version `version` of flow `name` (0: the draft if there
/// is one): `format`'s text, or SVG without a format.
http_response flow_picture(Engine& e, const std::string& name, uint32_t version,
                           std::optional<diagram_format> format) {
  auto detail = show_flow(e, name, version);
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
  if (!format) {
    auto picture = render_svg(*parsed.model);
    if (!picture)
      return http_error(
        500, "flow " + quote(name) + ": " + describe(picture.error()));
    r.content_type = "image/svg+xml";
    r.body = std::move(*picture);
    return r;
  }
  r.content_type = *format == diagram_format::dot
    ? "text/vnd.graphviz; charset=utf-8"
    : "text/plain; charset=utf-8";
  r.body = render_diagram(*parsed.model, *format);
  return r;
}

} // namespace

void on_flow_diagram(call& c) {
  auto format_name = c.param("format");
  if (format_name.empty())
    format_name = "dot";
  auto format = diagram_format_from(format_name);
  if (!format && format_name != "svg") {
    c.done(http_error(
      400, "format: dot, mermaid or svg, not " + quote(format_name)));
    return;
  }
  auto version = c.number("version", 1, UINT32_MAX, 0);
  if (!version)
    return;
  // Graphviz draws on a thread of its own; text pictures are cheap.
  c.later_on(format ? c.pool : c.drawing,
             [&e = c.engine, name = c.params[0], format,
              version = static_cast<uint32_t>(*version)] {
               return flow_picture(e, name, version, format);
             });
}

void on_list_policies(call& c) {
  c.later([&e = c.engine] { return answer(e.list_policies(), policies_json); });
}

void on_put_policies(call& c) {
  c.later([&e = c.engine, body = std::move(c.req.body)] {
    return answer(e.put_policies(body, "request body"), policies_json);
  });
}

void on_show_policy(call& c) {
  c.later([&e = c.engine, name = c.params[0]] {
    return answer(e.get_policy(name),
                  [](const library_policy& p) { return policy_json(p); });
  });
}

void on_delete_policy(call& c) {
  c.later([&e = c.engine, name = c.params[0]] {
    return answer(e.delete_policy(name),
                  [](const library_policy& p) { return policy_json(p); });
  });
}

} // namespace orca::http_detail
