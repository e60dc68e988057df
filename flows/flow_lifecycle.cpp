#include "flows/flow_lifecycle.hpp"

#include <algorithm>

namespace orca {

namespace {

/// Lifts a pause, adding the time it lasted to the flow's paused time.
void end_pause(flow_record& r, int64_t now) {
  r.pauses.resume(now);
  r.paused = false;
}

} // namespace

const char* to_string(flow_status status) {
  return status == flow_status::published ? "Published" : "Unpublished";
}

caf::expected<flow_ptr> parse_flow_or_error(std::string_view text,
                                            const std::string& origin,
                                            const limits& lim) {
  auto parsed = parse_flow(text, lim);
  if (!parsed.errors.empty())
    return parsed.errors.to_error(
      parsed.over_limit ? errc::limit_exceeded : errc::invalid_flow, origin);
  return parsed.model;
}

namespace {

/// A flow's text with the library policies it uses copied in, parsed.
struct resolved_flow {
  flow_ptr model;
  std::string text;
};

caf::expected<resolved_flow> resolve(std::string_view text,
                                     const std::string& origin,
                                     const limits& lim,
                                     const policy_library& library) {
  auto merged = with_library(text, library, origin, lim);
  if (!merged)
    return merged.error();
  auto parsed = parse_flow_or_error(*merged, origin, lim);
  if (!parsed)
    return parsed.error();
  return resolved_flow{std::move(*parsed), std::move(*merged)};
}

} // namespace

caf::expected<flow_record> lifecycle_create(std::string_view text,
                                            const std::string& origin,
                                            int64_t now, const limits& lim,
                                            const policy_library& library) {
  auto parsed = resolve(text, origin, lim, library);
  if (!parsed)
    return parsed.error();
  flow_record result;
  result.name = parsed->model->name;
  result.created_on = now;
  result.updated_on = now;
  result.draft = std::string{text};
  return result;
}

caf::expected<flow_record> lifecycle_update(const flow_record& current,
                                            std::string_view text,
                                            const std::string& origin,
                                            int64_t now, const limits& lim,
                                            const policy_library& library) {
  if (current.status == flow_status::published && !current.paused)
    return make_error(errc::flow_is_published,
                      "flow " + quote(current.name) + " is published (version "
                        + std::to_string(current.latest_version)
                        + ") and running: pause or stop it before updating it");
  auto parsed = resolve(text, origin, lim, library);
  if (!parsed)
    return parsed.error();
  if (parsed->model->name != current.name)
    return make_error(errc::invalid_flow,
                      origin + ": name: the update names flow "
                        + quote(parsed->model->name) + ", not "
                        + quote(current.name));
  flow_record result = current;
  result.draft = std::string{text};
  result.draft_version = current.latest_version + 1;
  result.updated_on = now;
  return result;
}

caf::expected<publish_outcome>
lifecycle_publish(const flow_record& current,
                  const std::vector<std::string>& registered, int64_t now,
                  const limits& lim, const policy_library& library,
                  std::string_view latest_definition) {
  publish_outcome result;
  result.flow = current;
  // A running flow has nothing to publish; a paused one may have.
  if (current.status == flow_status::published && !current.paused) {
    result.version = current.latest_version;
    return result;
  }
  auto origin = "flow " + quote(current.name);
  auto parsed = resolve(current.draft, origin, lim, library);
  if (!parsed)
    return parsed.error();
  // Changed: a new draft, or a library policy it uses that changed.
  bool changed = current.draft_is_new() || parsed->text != latest_definition;
  if (current.status == flow_status::published && !changed) {
    result.version = current.latest_version;
    return result;
  }
  auto unknown = check_providers(*parsed->model, registered);
  if (!unknown.empty())
    return unknown.to_error(errc::unknown_provider, origin);
  if (changed) {
    flow_version_record frozen;
    frozen.name = current.name;
    frozen.version = current.latest_version + 1;
    frozen.published_on = now;
    frozen.definition = std::move(parsed->text);
    result.flow.latest_version = frozen.version;
    result.flow.draft_version = frozen.version;
    result.frozen = std::move(frozen);
  }
  result.flow.status = flow_status::published;
  result.flow.updated_on = now;
  result.version = result.flow.latest_version;
  return result;
}

caf::expected<flow_record> lifecycle_stop(const flow_record& current,
                                          int64_t now, bool cancel_in_flight) {
  if (current.status != flow_status::published)
    return make_error(errc::flow_not_published,
                      "flow " + quote(current.name) + " is not published");
  auto result = current;
  result.status = flow_status::unpublished;
  // Stop clears a pause: a republished flow runs.
  end_pause(result, now);
  if (cancel_in_flight)
    ++result.cancel_epoch;
  result.updated_on = now;
  return result;
}

caf::expected<flow_record> lifecycle_pause(const flow_record& current,
                                           int64_t now) {
  if (current.status != flow_status::published)
    return make_error(errc::flow_not_published,
                      "flow " + quote(current.name)
                        + " is not published: only a published flow can be "
                          "paused");
  auto result = current;
  if (!result.paused)
    result.pauses.pause(now);
  result.paused = true;
  result.updated_on = now;
  return result;
}

caf::expected<flow_record> lifecycle_resume(const flow_record& current,
                                            int64_t now) {
  if (!current.paused)
    return make_error(errc::flow_not_paused,
                      "flow " + quote(current.name) + " is not paused");
  auto result = current;
  end_pause(result, now);
  result.updated_on = now;
  result.resumed_on = now;
  result.resumed_to = result.latest_version;
  return result;
}

} // namespace orca
