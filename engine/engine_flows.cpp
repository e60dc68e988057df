// Flows: drafts, publishing, pause, resume and stop, the policy library,
// and the versions the engine runs with their supervisors and clocks.

#include "engine/engine_impl.hpp"

#include "actors/supervisor.hpp"
#include "flows/policy_library.hpp"

namespace orca {

// -- flows --------------------------------------------------------------------

caf::expected<flow_record> Engine::create_flow(std::string_view json,
                                               const std::string& origin) {
  auto rec = impl_->flows->create(json, origin, impl_->now());
  if (rec) {
    std::lock_guard<std::mutex> guard{impl_->mutex};
    impl_->keep(*rec);
  }
  return rec;
}

caf::expected<flow_record> Engine::update_flow(std::string_view json,
                                               const std::string& origin) {
  auto rec = impl_->flows->update(json, origin, impl_->now());
  if (rec) {
    std::lock_guard<std::mutex> guard{impl_->mutex};
    impl_->keep(*rec);
  }
  return rec;
}

caf::expected<uint32_t> Engine::publish_flow(const std::string& name) {
  auto outcome =
    impl_->flows->publish(name, impl_->services->providers.ids(), impl_->now());
  if (!outcome)
    return outcome.error();
  std::lock_guard<std::mutex> guard{impl_->mutex};
  impl_->keep(outcome->flow);
  if (auto sup = impl_->supervisor_for(name, outcome->version); !sup)
    return sup.error();
  impl_->rebuild_targets();
  return outcome->version;
}

caf::error Engine::stop_flow(const std::string& name, bool cancel_in_flight) {
  // Durable before it is acknowledged: the flow's cancel_epoch goes up in
  // the same write, and a journey the messages below do not reach before a
  // crash is cancelled when the node restarts.
  auto rec = impl_->flows->stop(name, impl_->now(), cancel_in_flight);
  if (!rec)
    return rec.error();
  std::lock_guard<std::mutex> guard{impl_->mutex};
  auto known = impl_->records.find(name);
  bool was_paused = known != impl_->records.end() && known->second.paused;
  impl_->keep(*rec);
  impl_->rebuild_targets();
  // Stop clears a pause: held journeys go on to finish on their version,
  // or, cancelled first, to their cancel. (A resume re-arms every waiting
  // journey's timer: only a paused flow needs it.)
  for (const auto& sup : impl_->supervisors_of(name)) {
    if (cancel_in_flight)
      caf::anon_send(sup, stop_atom::value, rec->cancel_epoch);
    if (was_paused)
      caf::anon_send(sup, resume_atom::value);
  }
  return caf::none;
}

caf::error Engine::pause_flow(const std::string& name) {
  return impl_->adopt(name, impl_->flows->pause(name, impl_->now()),
                      pause_atom::value);
}

caf::error Engine::resume_flow(const std::string& name) {
  auto rec = impl_->flows->resume(name, impl_->now());
  if (!rec)
    return rec.error();
  std::lock_guard<std::mutex> guard{impl_->mutex};
  impl_->keep(*rec);
  // Journeys of older versions that had not started a step (orders that
  // came while the flow was paused and changed) go to the latest version.
  auto latest = impl_->supervisor_for(name, rec->latest_version);
  for (const auto& [key, sup] : impl_->supervisors) {
    if (key.first != name)
      continue;
    if (latest && key.second < rec->latest_version)
      caf::anon_send(sup, resume_atom::value, rec->latest_version, *latest);
    else
      caf::anon_send(sup, resume_atom::value);
  }
  return caf::none;
}

caf::expected<std::vector<flow_record>> Engine::list_flows() {
  return impl_->flows->list();
}

caf::expected<policy_library> Engine::put_policies(std::string_view json,
                                                   const std::string& origin) {
  return impl_->flows->put_policies(json, origin, impl_->now());
}

caf::expected<policy_library> Engine::list_policies() {
  return impl_->flows->policies();
}

caf::expected<library_policy> Engine::get_policy(const std::string& name) {
  return impl_->flows->policy(name);
}

caf::expected<library_policy> Engine::delete_policy(const std::string& name) {
  return impl_->flows->delete_policy(name);
}

caf::expected<std::string> Engine::resolved_draft(const std::string& name) {
  auto rec = impl_->flows->get(name);
  if (!rec)
    return rec.error();
  return resolved_draft(*rec);
}

caf::expected<std::string> Engine::resolved_draft(const flow_record& rec) {
  if (rec.latest_version > 0 && !rec.draft_is_new())
    return make_error(errc::invalid_argument,
                      "flow " + quote(rec.name) + " has no draft");
  auto library = impl_->flows->policies();
  if (!library)
    return library.error();
  return with_library(rec.draft, *library, rec.name,
                      impl_->options.config.limits);
}

caf::expected<flow_record> Engine::get_flow(const std::string& name) {
  return impl_->flows->get(name);
}

caf::expected<flow_version_record> Engine::flow_version(const std::string& name,
                                                        uint32_t version) {
  return impl_->flows->version(name, version);
}

// -- versions and their supervisors -------------------------------------------

caf::error Engine::impl::load_flows() {
  std::lock_guard<std::mutex> guard{mutex};
  auto err = flows->scan(
    [this](const std::string& name, caf::expected<flow_record> rec) {
      if (rec)
        keep(*rec);
      else
        warn("flow " + quote(name) + " is left out: " + describe(rec.error()));
      return true;
    });
  rebuild_targets();
  return err;
}

void Engine::impl::keep(const flow_record& rec) {
  records[rec.name] = rec;
  clock_of(rec.name)->set(rec.pauses);
}

flow_clock_ptr Engine::impl::clock_of(const std::string& name) {
  auto& clock = clocks[name];
  if (!clock)
    clock = std::make_shared<flow_clock>();
  return clock;
}

caf::expected<flow_ptr> Engine::impl::model_for(const std::string& name,
                                                uint32_t version) {
  auto key = version_key{name, version};
  if (auto it = models.find(key); it != models.end())
    return it->second;
  auto frozen = flows->version(name, version);
  if (!frozen)
    return frozen.error();
  auto parsed = parse_flow_or_error(frozen->definition,
                                    "flow " + quote(name) + " version "
                                      + std::to_string(version),
                                    options.config.limits);
  if (!parsed)
    return parsed.error();
  models.emplace(key, *parsed);
  return *parsed;
}

caf::expected<caf::actor> Engine::impl::supervisor_for(const std::string& name,
                                                       uint32_t version) {
  auto key = version_key{name, version};
  if (auto it = supervisors.find(key); it != supervisors.end())
    return it->second;
  auto model = model_for(name, version);
  if (!model)
    return model.error();
  auto rec = records.find(name);
  bool paused = rec != records.end() && rec->second.paused;
  auto sup = spawn_supervisor(*system, services, *model, clock_of(name),
                              version, paused);
  supervisors.emplace(key, sup);
  return sup;
}

void Engine::impl::rebuild_targets() {
  auto next = std::make_shared<target_list>();
  for (const auto& [name, rec] : records) {
    if (rec.status != flow_status::published)
      continue;
    auto sup = supervisor_for(name, rec.latest_version);
    if (sup)
      next->push_back({name, rec.latest_version, rec.cancel_epoch, *sup});
  }
  std::atomic_store(&targets,
                    std::shared_ptr<const target_list>{std::move(next)});
}

uint32_t Engine::impl::cancel_epoch_of(const std::string& flow) const {
  std::lock_guard<std::mutex> guard{mutex};
  auto rec = records.find(flow);
  return rec == records.end() ? 0 : rec->second.cancel_epoch;
}

} // namespace orca
