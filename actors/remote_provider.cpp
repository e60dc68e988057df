#include "actors/remote_provider.hpp"

#include <caf/all.hpp>

#include "actors/wire.hpp"

namespace orca {

namespace {

struct remote_state {
  std::string id;
  caf::actor client;
  static inline const char* name = "orca.remote_provider";
};

using remote_actor = caf::stateful_actor<remote_state>;

caf::behavior remote_provider(remote_actor* self, std::string id, limits lim) {
  self->state.id = std::move(id);
  self->set_down_handler([self](caf::down_msg& down) {
    if (self->state.client && down.source == self->state.client.address())
      self->state.client = nullptr;
  });
  return {
    [self](connect_atom, caf::actor& client) {
      if (self->state.client)
        self->demonitor(self->state.client);
      self->state.client = std::move(client);
      self->monitor(self->state.client);
    },
    [self,
     lim](const provider_request& request) -> caf::result<provider_reply> {
      auto& st = self->state;
      if (!st.client)
        return provider_reply::failure("remote provider " + quote(st.id)
                                         + " is not connected",
                                       errc::node_unreachable);
      auto promise = self->make_response_promise<provider_reply>();
      auto provider_id = st.id;
      self
        ->request(st.client, caf::infinite, provider_call_atom::value,
                  to_wire(request))
        .then(
          [promise, lim](wire_provider_reply& reply) mutable {
            promise.deliver(from_wire(reply, lim));
          },
          [promise, provider_id](caf::error& err) mutable {
            promise.deliver(provider_reply::failure(
              "remote provider " + quote(provider_id) + ": " + describe(err),
              errc::node_unreachable));
          });
      return promise;
    },
  };
}

} // namespace

caf::actor spawn_remote_provider(caf::actor_system& system, std::string id,
                                 const limits& lim) {
  return system.spawn(remote_provider, std::move(id), lim);
}

} // namespace orca
