#include "actors/simulated_provider.hpp"

#include <unordered_map>

#include <caf/all.hpp>

#include "actors/provider_protocol.hpp"

namespace orca {

void call_log::add(entry e) {
  std::lock_guard<std::mutex> guard{mutex_};
  entries_.push_back(std::move(e));
}

std::vector<call_log::entry> call_log::entries() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return entries_;
}

std::size_t call_log::size() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return entries_.size();
}

std::map<std::string, std::size_t> call_log::successes() const {
  std::lock_guard<std::mutex> guard{mutex_};
  std::map<std::string, std::size_t> result;
  for (const auto& e : entries_)
    if (e.ok)
      ++result[e.idempotency_key];
  return result;
}

provider_reply simulated_answer(const provider_request& request) {
  provider_reply reply;
  reply.ok = true;
  if (request.action == action_kind::send_to_dom) {
    const auto& o = *request.order;
    for (std::size_t i = 0; i < o.line_count(); ++i) {
      auto id = std::string{o.line_id(i)};
      if (std::find(request.line_ids.begin(), request.line_ids.end(), id)
          == request.line_ids.end())
        continue;
      const auto& line = o.line(i);
      std::string source = "DEFAULT";
      if (auto it = line.FindMember("ship_from");
          it != line.MemberEnd() && it->value.IsString())
        source = std::string{view_of(it->value)};
      auto group =
        std::find_if(reply.fulfillment.begin(), reply.fulfillment.end(),
                     [&](const source_group& g) { return g.source == source; });
      if (group == reply.fulfillment.end()) {
        reply.fulfillment.push_back({source, {}});
        group = reply.fulfillment.end() - 1;
      }
      group->line_ids.push_back(std::move(id));
    }
  } else if (request.action == action_kind::send_to_invoice) {
    reply.invoice_id = "INV-" + request.order->id();
  }
  return reply;
}

namespace {

/// To the provider from its ledger write: (ledger_atom, token, error), the
/// call `token` is on record ("" error) or could not be recorded.
using ledger_atom = caf::atom_constant<caf::atom("ledger")>;

struct simulated_state {
  services_ptr services;
  std::string id;
  simulated_config config;
  std::shared_ptr<call_log> log;
  uint64_t next_token = 0;
  struct pending {
    caf::response_promise promise;
    provider_reply reply;
    std::string key;
  };
  std::unordered_map<uint64_t, pending> waiting;

  static inline const char* name = "orca.simulated_provider";

  provider_reply answer(const provider_request& request) {
    provider_reply reply;
    if (config.fail_when
        && evaluate(*config.fail_when, request.order->header()))
      reply = provider_reply::failure(
        "simulated failure: the order matches fail_when");
    else if (request.attempt <= config.fail_first_attempts)
      reply = provider_reply::failure(
        "simulated failure of attempt " + std::to_string(request.attempt)
        + " of " + std::to_string(config.fail_first_attempts) + " failing");
    else
      reply = simulated_answer(request);
    if (log) {
      call_log::entry e;
      e.idempotency_key = request.idempotency_key;
      e.step = request.step;
      e.attempt = request.attempt;
      e.ok = reply.ok;
      for (const auto& fo : request.fulfillment_orders)
        e.fulfillment_orders.push_back(fo.id);
      log->add(std::move(e));
    }
    return reply;
  }
};

using simulated_actor = caf::stateful_actor<simulated_state>;

/// The answer is due: a success is first written to the ledger (if kept),
/// and delivered once that is durable.
void settle(simulated_actor* self, uint64_t token) {
  auto& st = self->state;
  auto it = st.waiting.find(token);
  if (it == st.waiting.end())
    return;
  if (st.config.ledger && it->second.reply.ok) {
    auto me = caf::actor_cast<caf::actor>(self);
    st.services->ledger->perform(
      st.id, it->second.key, [me, token](caf::expected<bool> first) {
        caf::anon_send(me, ledger_atom::value, token,
                       first ? std::string{} : describe(first.error()));
      });
    return;
  }
  it->second.promise.deliver(std::move(it->second.reply));
  st.waiting.erase(it);
}

caf::behavior simulated(simulated_actor* self, services_ptr services,
                        std::string id, simulated_config config,
                        std::shared_ptr<call_log> log) {
  self->state.services = std::move(services);
  self->state.id = std::move(id);
  self->state.config = std::move(config);
  self->state.log = std::move(log);
  return {
    [self](const provider_request& request) -> caf::result<provider_reply> {
      auto& st = self->state;
      auto reply = st.answer(request);
      if (st.config.latency_ms == 0 && !(st.config.ledger && reply.ok))
        return reply;
      auto token = st.next_token++;
      st.waiting.emplace(token,
                         simulated_state::pending{self->make_response_promise(),
                                                  std::move(reply),
                                                  request.idempotency_key});
      if (st.config.latency_ms > 0)
        st.services->time->schedule(st.config.latency_ms,
                                    caf::actor_cast<caf::actor>(self), token);
      else
        settle(self, token);
      return caf::delegated<provider_reply>{};
    },
    [self](timer_atom, uint64_t token) { settle(self, token); },
    [self](ledger_atom, uint64_t token, const std::string& ledger_error) {
      auto& st = self->state;
      auto it = st.waiting.find(token);
      if (it == st.waiting.end())
        return;
      // Not carried out unless the ledger says so: a real provider that
      // cannot record an idempotency key does not answer success.
      if (!ledger_error.empty())
        it->second.reply = provider_reply::failure(
          "the provider's ledger could not be written: " + ledger_error);
      it->second.promise.deliver(std::move(it->second.reply));
      st.waiting.erase(it);
    },
  };
}

} // namespace

caf::actor spawn_simulated_provider(caf::actor_system& system,
                                    services_ptr services, std::string id,
                                    simulated_config config,
                                    std::shared_ptr<call_log> log) {
  return system.spawn(simulated, std::move(services), std::move(id),
                      std::move(config), std::move(log));
}

} // namespace orca
