// The engine's lifetime: opening the store and the actor system, flushing,
// stopping. Its other jobs live beside it: engine_flows.cpp (flows, their
// versions and supervisors), engine_intake.cpp (orders and events),
// engine_providers.cpp, engine_recovery.cpp (journeys left running at the
// last stop), engine_retention.cpp (journals past their retention) and
// engine_journeys.cpp (the journey sink, queries, replay and redrive).

#include "engine/engine_impl.hpp"

#include <chrono>
#include <future>
#include <thread>

#include "actors/scheduler.hpp"
#include "actors/supervisor.hpp"
#include "persistence/records.hpp"

namespace orca {

// -- Engine -------------------------------------------------------------------

Engine::Engine(std::unique_ptr<impl> state) : impl_(std::move(state)) {
}

Engine::~Engine() = default;

const node_config& Engine::config() const {
  return impl_->options.config;
}

caf::expected<std::unique_ptr<Engine>> Engine::open(engine_options options) {
  auto im = std::make_unique<impl>();
  im->options = std::move(options);
  if (!im->options.warn)
    im->options.warn = [](const std::string& text) {
      std::cerr << "orca: warning: " << text << '\n';
    };
  store::options store_opts;
  store_opts.durable = im->options.durable;
  store_opts.map_size = im->options.map_size;
  store_opts.initial_map_size =
    std::min(store_opts.initial_map_size, im->options.map_size);
  auto db = store::open(im->options.data_dir, store_opts);
  if (!db)
    return db.error();
  im->db = std::move(*db);
  im->flows = std::make_unique<flow_store>(*im->db, im->options.config.limits);
  im->writer = std::make_unique<group_committer>(*im->db);
  im->writer->observe(
    [metrics = im->metrics.get()](double seconds, std::size_t requests) {
      metrics->committed(seconds, requests);
    });
  im->subscribers = std::make_unique<subscriber_hub>(im->options.warn);
  im->journeys = std::make_unique<journey_store>(*im->db, *im->writer);
  im->ledger = std::make_unique<provider_ledger>(*im->db, *im->writer);
  if (!im->options.config.hooks.empty()) {
    // Started before journeys resume: what the outbox holds goes out
    // first, and a resumed journey's deliveries come after it.
    hook_dispatcher::options ho;
    ho.warn = im->options.warn;
    ho.attempted = [metrics = im->metrics.get()](const std::string& hook,
                                                 bool delivered) {
      metrics->hook_attempt(hook, delivered);
    };
    im->hooks = std::make_unique<hook_dispatcher>(
      *im->db, *im->writer, im->options.config.hooks, std::move(ho));
    if (auto err = im->hooks->start())
      return err;
  }
  im->cfg = std::make_unique<caf::actor_system_config>();
  auto threads = im->options.threads;
  if (threads == 0)
    threads = std::max(1u, std::thread::hardware_concurrency());
  im->cfg->set("scheduler.max-threads", threads);
  bool sharing = im->options.scheduler == engine_options::scheduling::sharing;
  load_scheduler(*im->cfg, sharing);
  if (im->options.configure)
    im->options.configure(*im->cfg);
  im->system = std::make_unique<caf::actor_system>(*im->cfg);
  im->services = std::make_shared<journey_services>();
  im->services->time =
    im->options.time ? im->options.time : make_system_clock();
  im->services->sink = im.get();
  im->services->observer = im->metrics.get();
  im->services->ledger = im->ledger.get();
  im->services->passivate_waiting = im->options.passivate_waiting;
  im->services->save_delay_ms = im->options.save_delay_ms;
  im->services->default_timeout_ms = im->options.config.default_timeout_ms;
  for (const auto& id : default_provider_ids())
    if (auto err = im->add_provider(id, provider_config{}))
      return err;
  for (const auto& [id, p] : im->options.config.providers)
    if (auto err = im->add_provider(id, p))
      return err;
  if (auto err = im->load_flows())
    im->warn("cannot read every flow: " + describe(err));
  if (auto err = im->recover_journeys())
    return err;
  if (im->options.journal_retention_ms > 0)
    im->start_sweeper();
  return std::unique_ptr<Engine>{new Engine(std::move(im))};
}

caf::actor_system& Engine::system() {
  return *impl_->system;
}

void Engine::flush() {
  if (impl_->writer)
    impl_->writer->flush();
  if (impl_->subscribers)
    impl_->subscribers->drain();
}

bool Engine::settle(std::chrono::milliseconds within) {
  auto until = std::chrono::steady_clock::now() + within;
  for (;;) {
    auto committed = [this] {
      flush();
      return impl_->writer ? impl_->writer->statistics().requests : 0;
    };
    auto before = committed();
    // Still actors, then nothing they wrote before they stopped: a commit
    // answers its writer with a message, which would wake an actor again.
    if (actors_idle(*impl_->system) && committed() == before)
      return true;
    if (std::chrono::steady_clock::now() >= until)
      return false;
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

std::vector<hook_status> Engine::hooks() const {
  return impl_->hooks ? impl_->hooks->status() : std::vector<hook_status>{};
}

void Engine::stop() {
  impl_->stop();
}

Engine::storage_stats Engine::storage() const {
  auto st = impl_->writer->statistics();
  storage_stats result;
  result.commits = st.commits;
  result.requests = st.requests;
  result.ops = st.ops;
  result.map_size = impl_->db->map_size();
  result.max_map_size = impl_->db->max_map_size();
  result.full = impl_->db->full();
  result.orders_in_flight =
    static_cast<uint64_t>(std::max<int64_t>(0, impl_->in_flight->load()));
  return result;
}

std::string Engine::metrics_text() {
  auto st = storage();
  engine_metrics::gauges now;
  now.orders_in_flight = st.orders_in_flight;
  now.store_bytes = st.map_size;
  now.store_max_bytes = st.max_map_size;
  now.store_full = st.full;
  if (auto counts = count_journeys()) {
    now.journeys_running = counts->running;
    now.journeys_passivated = counts->passivated;
  }
  for (const auto& h : hooks())
    now.hook_backlog.emplace_back(h.name, h.backlog);
  return impl_->metrics->text(now);
}

void Engine::impl::stop() {
  if (stopped || !system)
    return;
  stopped = true;
  // Stop every actor, then commit what is queued. Nothing waits for the
  // commits first: what an order or event needed to be acknowledged is
  // stored already, and journeys resume from their snapshots, so the work
  // still queued in mailboxes would only be done again from the store next
  // time. Journeys spawned but not begun quit rather than run; the other
  // actors stop before what waits in their mailboxes (stop_now).
  services->stopping = true;
  {
    std::lock_guard<std::mutex> guard{mutex};
    for (const auto& kv : supervisors)
      stop_now(kv.second);
  }
  for (const auto& p : services->providers.list())
    stop_now(p.adapter);
  if (sweeper)
    stop_now(sweeper);
  system->await_all_actors_done();
  // Hook senders queue their outbox deletes with the writer.
  if (hooks)
    hooks->stop();
  writer.reset();
  subscribers.reset();
}

Engine::impl::~impl() {
  if (!system)
    return;
  stop();
  // The actor system waits for detached actors until the last handle to
  // them is gone: drop every handle before it goes.
  sweeper = nullptr;
  {
    std::lock_guard<std::mutex> guard{mutex};
    supervisors.clear();
    targets = std::make_shared<target_list>();
  }
  services->providers.clear();
  system.reset();
}

} // namespace orca
