// Providers: the adapters the engine's journeys call, by id.

#include "engine/engine_impl.hpp"

#include "actors/remote_provider.hpp"

namespace orca {

// -- providers ----------------------------------------------------------------

caf::error Engine::register_provider(const std::string& id,
                                     const provider_config& config) {
  if (id.empty())
    return make_error(errc::invalid_argument,
                      "a provider id must not be empty");
  return impl_->add_provider(id, config);
}

caf::error Engine::register_embedded_provider(const std::string& id,
                                              embedded_function fn,
                                              uint32_t workers) {
  if (id.empty())
    return make_error(errc::invalid_argument,
                      "a provider id must not be empty");
  if (!fn)
    return make_error(errc::invalid_argument,
                      "provider " + quote(id) + ": the function is empty");
  impl_->replace_provider(id,
                          spawn_embedded_provider(*impl_->system, std::move(fn),
                                                  workers,
                                                  impl_->options.config.limits),
                          "embedded");
  return caf::none;
}

caf::error Engine::register_remote_provider(const std::string& id,
                                            caf::actor client) {
  if (auto err =
        check_name(id, "provider id", impl_->options.config.limits.name_bytes))
    return err;
  // A client may serve an id configured as remote, or one nobody has:
  // never take over a provider the node runs itself.
  for (const auto& e : impl_->services->providers.list()) {
    if (e.id != id)
      continue;
    if (e.kind != "remote")
      return make_error(errc::provider_taken,
                        "provider " + quote(id) + " is a " + e.kind
                          + " provider of this node; a client may serve only "
                            "providers configured as remote (or not "
                            "configured)");
    caf::anon_send(e.adapter, connect_atom::value, std::move(client));
    return caf::none;
  }
  auto adapter =
    spawn_remote_provider(*impl_->system, id, impl_->options.config.limits);
  caf::anon_send(adapter, connect_atom::value, std::move(client));
  impl_->replace_provider(id, adapter, "remote");
  return caf::none;
}

std::vector<provider_info> Engine::providers() const {
  std::vector<provider_info> result;
  for (const auto& e : impl_->services->providers.list())
    result.push_back({e.id, e.kind});
  return result;
}

caf::expected<std::map<std::string, ledger_entry>>
Engine::provider_ledger_of(const std::string& id) const {
  return impl_->ledger->entries(id);
}

std::shared_ptr<call_log> Engine::simulated_calls(const std::string& id) const {
  std::lock_guard<std::mutex> guard{impl_->mutex};
  auto it = impl_->logs.find(id);
  return it == impl_->logs.end() ? nullptr : it->second;
}

caf::error Engine::impl::add_provider(const std::string& id,
                                      const provider_config& p) {
  caf::actor adapter;
  switch (p.kind) {
    case provider_kind::simulated: {
      std::shared_ptr<call_log> log;
      if (options.record_provider_calls)
        log = std::make_shared<call_log>();
      adapter =
        spawn_simulated_provider(*system, services, id, p.simulated, log);
      std::lock_guard<std::mutex> guard{mutex};
      logs[id] = log;
      break;
    }
    case provider_kind::http: {
      if (auto err = check_http_provider(p.http))
        return err;
      adapter = spawn_http_provider(*system, p.http, options.config.limits);
      break;
    }
    case provider_kind::remote:
      adapter = spawn_remote_provider(*system, id, options.config.limits);
      break;
    default:
      return make_error(errc::invalid_config,
                        "provider " + quote(id) + ": kind " + to_string(p.kind)
                          + " cannot be registered from a config");
  }
  replace_provider(id, adapter, to_string(p.kind));
  return caf::none;
}

void Engine::impl::replace_provider(const std::string& id, caf::actor adapter,
                                    const char* kind) {
  auto old = services->providers.find(id);
  services->providers.add(id, std::move(adapter), kind);
  if (old)
    caf::anon_send_exit(old, caf::exit_reason::user_shutdown);
}

} // namespace orca
