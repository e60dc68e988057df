#include "engine/client.hpp"
#include "engine/busy_pace.hpp"

#include <deque>
#include <future>
#include <thread>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>

#include "actors/blocking_pool.hpp"

namespace orca {

caf::error parse_endpoint(const std::string& text, std::string& host,
                          uint16_t& port) {
  auto colon = text.rfind(':');
  auto bad = [&](const std::string& why) {
    return make_error(errc::invalid_argument,
                      quote(text) + ": " + why + " (expected HOST:PORT)");
  };
  if (colon == std::string::npos || colon == 0)
    return bad("no host and port");
  auto digits = text.substr(colon + 1);
  if (digits.empty() || digits.size() > 5
      || digits.find_first_not_of("0123456789") != std::string::npos)
    return bad("the port is not a number");
  auto value = std::stoul(digits);
  if (value > 65535)
    return bad("the port is above 65535");
  host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  port = static_cast<uint16_t>(value);
  return caf::none;
}

struct client::impl {
  client_options options;
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> system;
  caf::actor node;
  std::vector<caf::actor> helpers; ///< subscribers and provider servers

  ~impl() {
    for (const auto& h : helpers)
      caf::anon_send_exit(h, caf::exit_reason::user_shutdown);
    helpers.clear();
    node = nullptr;
  }

  caf::error unreachable(const caf::error& err) const {
    return make_error(errc::node_unreachable,
                      "node " + options.host + ":"
                        + std::to_string(options.port)
                        + " did not answer: " + describe(err));
  }

  /// Sends a request and waits for its one answer of type T.
  template <class T, class... Ts>
  caf::expected<T> call(Ts&&... xs) {
    caf::scoped_actor self{*system};
    caf::expected<T> result{caf::error{}};
    self->request(node, options.timeout, std::forward<Ts>(xs)...)
      .receive([&](T& x) { result = std::move(x); },
               [&](caf::error& err) {
                 // Errors of ours come from the node; anything else means
                 // the node could not be reached or did not answer.
                 result =
                   orca_code(err) != 0 ? std::move(err) : unreachable(err);
               });
    return result;
  }
};

client::client(std::unique_ptr<impl> state) : impl_(std::move(state)) {
}

client::~client() = default;

caf::expected<std::unique_ptr<client>> client::connect(client_options opts) {
  auto im = std::make_unique<impl>();
  im->options = std::move(opts);
  auto& o = im->options;
  bool tls = !o.tls_cert.empty() || !o.tls_key.empty() || !o.tls_ca.empty();
  if (tls && (o.tls_cert.empty() || o.tls_key.empty() || o.tls_ca.empty()))
    return make_error(errc::invalid_argument,
                      "TLS needs all of --tls-cert, --tls-key and --tls-ca");
  speak_node_protocol(im->cfg);
  if (tls) {
    im->cfg.load<caf::openssl::manager>();
    im->cfg.openssl_certificate = o.tls_cert;
    im->cfg.openssl_key = o.tls_key;
    im->cfg.openssl_cafile = o.tls_ca;
  }
  im->cfg.set("scheduler.max-threads", 2);
  im->cfg.set("logger.verbosity", caf::atom("quiet"));
  im->system = std::make_unique<caf::actor_system>(im->cfg);
  auto node = tls ? caf::openssl::remote_actor(*im->system, o.host, o.port)
                  : im->system->middleman().remote_actor(o.host, o.port);
  if (!node)
    return make_error(errc::node_unreachable,
                      "cannot reach node " + o.host + ":"
                        + std::to_string(o.port) + ": "
                        + describe(node.error()));
  im->node = std::move(*node);
  return std::unique_ptr<client>{new client(std::move(im))};
}

caf::expected<flow_record> client::create_flow(const std::string& json,
                                               const std::string& origin) {
  return impl_->call<flow_record>(flow_create_atom::value, json, origin);
}

caf::expected<flow_record> client::update_flow(const std::string& json,
                                               const std::string& origin) {
  return impl_->call<flow_record>(flow_update_atom::value, json, origin);
}

caf::expected<uint32_t> client::publish_flow(const std::string& name) {
  return impl_->call<uint32_t>(flow_publish_atom::value, name);
}

caf::expected<flow_record> client::stop_flow(const std::string& name,
                                             bool cancel_in_flight) {
  return impl_->call<flow_record>(flow_stop_atom::value, name,
                                  cancel_in_flight);
}

caf::expected<flow_record> client::pause_flow(const std::string& name) {
  return impl_->call<flow_record>(flow_pause_atom::value, name);
}

caf::expected<flow_record> client::resume_flow(const std::string& name) {
  return impl_->call<flow_record>(flow_resume_atom::value, name);
}

caf::expected<policy_library> client::put_policies(const std::string& json,
                                                   const std::string& origin) {
  return impl_->call<policy_library>(policy_put_atom::value, json, origin);
}

caf::expected<policy_library> client::list_policies() {
  return impl_->call<policy_library>(policy_list_atom::value);
}

caf::expected<library_policy> client::show_policy(const std::string& name) {
  return impl_->call<library_policy>(policy_show_atom::value, name);
}

caf::expected<library_policy> client::delete_policy(const std::string& name) {
  return impl_->call<library_policy>(policy_delete_atom::value, name);
}

caf::expected<std::vector<flow_record>> client::list_flows() {
  return impl_->call<std::vector<flow_record>>(flow_list_atom::value);
}

caf::expected<flow_detail> client::show_flow(const std::string& name,
                                             uint32_t version) {
  return impl_->call<flow_detail>(flow_show_atom::value, name, version);
}

caf::expected<std::vector<submit_outcome>>
client::submit(const std::vector<std::string>& orders) {
  return impl_->call<std::vector<submit_outcome>>(order_submit_atom::value,
                                                  orders);
}

caf::expected<std::vector<submit_outcome>>
client::submit_pipelined(const std::vector<std::string>& orders,
                         std::size_t batch, std::size_t window,
                         const std::function<void(std::size_t)>& progress,
                         bool retry_busy, std::size_t* busy) {
  batch = std::max<std::size_t>(1, batch);
  window = std::max<std::size_t>(1, window);
  caf::scoped_actor self{*impl_->system};
  std::vector<submit_outcome> results(orders.size());
  using handle = decltype(self->request(impl_->node, impl_->options.timeout,
                                        order_submit_atom::value,
                                        std::vector<std::string>{}));
  struct pending {
    std::size_t begin;
    std::size_t end;
    handle answer;
  };
  std::deque<pending> in_flight;
  std::size_t next = 0;
  std::size_t answered = 0;
  caf::error failure;
  auto send = [&](std::size_t begin, std::size_t end) {
    std::vector<std::string> chunk(orders.begin() + begin,
                                   orders.begin() + end);
    in_flight.push_back(
      {begin, end,
       self->request(impl_->node, impl_->options.timeout,
                     order_submit_atom::value, std::move(chunk))});
  };
  // Batches the node answered busy, to offer again before new ones, and
  // how many batches may be in flight now.
  std::deque<std::pair<std::size_t, std::size_t>> refused;
  busy_pace pace{window};
  auto fill = [&] {
    while (in_flight.size() < pace.allowed()) {
      if (!refused.empty()) {
        send(refused.front().first, refused.front().second);
        refused.pop_front();
      } else if (next < orders.size()) {
        auto end = std::min(orders.size(), next + batch);
        send(next, end);
        next = end;
      } else {
        break;
      }
    }
  };
  fill();
  while (!in_flight.empty() && !failure) {
    auto p = std::move(in_flight.front());
    in_flight.pop_front();
    bool again = false;
    p.answer.receive(
      [&](std::vector<submit_outcome>& out) {
        if (out.size() != p.end - p.begin) {
          failure = make_error(
            errc::invalid_argument,
            "the node answered a batch of " + std::to_string(p.end - p.begin)
              + " orders with " + std::to_string(out.size()) + " outcomes");
          return;
        }
        std::move(out.begin(), out.end(),
                  results.begin() + static_cast<std::ptrdiff_t>(p.begin));
        answered += out.size();
      },
      [&](caf::error& err) {
        if (retry_busy && orca_code(err) == static_cast<uint8_t>(errc::busy)) {
          again = true;
          return;
        }
        failure =
          orca_code(err) != 0 ? std::move(err) : impl_->unreachable(err);
      });
    if (failure)
      break;
    if (again) {
      // The node has too much in flight: send it less. With nothing else
      // on its way to pace the next offer, give it a moment first.
      if (busy)
        *busy += p.end - p.begin;
      refused.emplace_back(p.begin, p.end);
      std::this_thread::sleep_for(pace.refused(in_flight.empty()));
      fill();
      continue;
    }
    pace.taken();
    if (progress)
      progress(answered);
    fill();
  }
  if (failure)
    return failure;
  return results;
}

caf::error client::event(const std::string& order_id, const std::string& type) {
  auto r =
    impl_->call<caf::atom_value>(order_event_atom::value, order_id, type);
  return r ? caf::none : r.error();
}

caf::expected<std::vector<journey_record>>
client::list_journeys(const wire_query& q) {
  return impl_->call<std::vector<journey_record>>(journey_list_atom::value, q);
}

caf::expected<std::vector<journey_view>>
client::show_journeys(const std::string& order_id, const std::string& flow) {
  return impl_->call<std::vector<journey_view>>(journey_show_atom::value,
                                                order_id, flow);
}

caf::expected<replay_view> client::replay(const std::string& order_id,
                                          const std::string& flow,
                                          uint32_t against) {
  return impl_->call<replay_view>(journey_replay_atom::value, order_id, flow,
                                  against);
}

caf::expected<journey_record> client::redrive(const std::string& order_id,
                                              const std::string& flow) {
  return impl_->call<journey_record>(journey_redrive_atom::value, order_id,
                                     flow);
}

caf::expected<std::vector<hook_status>> client::hooks() {
  return impl_->call<std::vector<hook_status>>(hook_list_atom::value);
}

caf::expected<std::vector<provider_view>> client::providers() {
  return impl_->call<std::vector<provider_view>>(provider_list_atom::value);
}

caf::expected<node_status> client::status() {
  return impl_->call<node_status>(node_status_atom::value);
}

caf::error client::subscribe(const std::vector<std::string>& order_ids,
                             std::function<void(const journey_record&)> fn) {
  // The node sends updates to whoever subscribed: the listener asks itself.
  auto acked = std::make_shared<std::promise<caf::error>>();
  auto result = acked->get_future();
  auto listener =
    // The ids come as an argument: CAF 0.17 dereferences a null pointer to
    // the arguments of a function actor that has none.
    impl_->system->spawn(
      [fn = std::move(fn), node = impl_->node, acked,
       timeout = impl_->options.timeout](
        caf::event_based_actor* self,
        std::vector<std::string> ids) -> caf::behavior {
        self->request(node, timeout, subscribe_atom::value, std::move(ids))
          .then([acked](caf::atom_value) { acked->set_value(caf::none); },
                [acked](caf::error& err) { acked->set_value(err); });
        return {
          [fn](journey_update_atom, const journey_record& r) {
            fn(r);
            // The node sends more only while the updates it sent are
            // acknowledged.
            return caf::ok_atom::value;
          },
        };
      },
      order_ids);
  impl_->helpers.push_back(listener);
  auto err = result.get();
  if (err)
    return orca_code(err) != 0 ? err : impl_->unreachable(err);
  return caf::none;
}

namespace {

/// To the provider server from the thread that ran the user's function:
/// (served_atom, token, reply), the answer to the node's call `token`.
using served_atom = caf::atom_constant<caf::atom("served")>;

/// A remote provider's server: the node calls it, and it calls the user's
/// function on a thread of its own, so that the function may block.
struct provider_server_state {
  std::unique_ptr<blocking_pool> pool;
  pending_answers pending;

  static inline const char* name = "orca.provider_server";
};

using provider_server = caf::stateful_actor<provider_server_state>;

wire_provider_reply serve_one(const client::provider_function& fn,
                              const wire_provider_request& req) {
  try {
    return fn(req);
  } catch (const std::exception& e) {
    wire_provider_reply r;
    r.error = std::string{"the remote provider threw: "} + e.what();
    return r;
  } catch (...) {
    wire_provider_reply r;
    r.error = "the remote provider threw an exception";
    return r;
  }
}

} // namespace

caf::error client::serve_provider(const std::string& id, provider_function fn) {
  // The node calls whoever registered: the server registers itself.
  auto acked = std::make_shared<std::promise<caf::error>>();
  auto result = acked->get_future();
  auto shared_fn = std::make_shared<provider_function>(std::move(fn));
  auto server = impl_->system->spawn(
    [shared_fn, node = impl_->node, id, acked,
     timeout = impl_->options.timeout](provider_server* self) -> caf::behavior {
      self->state.pool = std::make_unique<blocking_pool>(1);
      self->request(node, timeout, provider_register_atom::value, id)
        .then([acked](caf::atom_value) { acked->set_value(caf::none); },
              [acked, self](caf::error& err) {
                // Refused: nothing will call this server; it ends now
                // rather than at the client's teardown.
                acked->set_value(err);
                self->quit(err);
              });
      return {
        [self, shared_fn](provider_call_atom, wire_provider_request& req)
          -> caf::result<wire_provider_reply> {
          auto& st = self->state;
          answer_from_pool<served_atom>(self, st.pending, *st.pool,
                                        [shared_fn, req = std::move(req)] {
                                          return serve_one(*shared_fn, req);
                                        });
          return caf::delegated<wire_provider_reply>{};
        },
        [self](served_atom, uint64_t token, wire_provider_reply& reply) {
          self->state.pending.deliver(token, std::move(reply));
        },
      };
    });
  impl_->helpers.push_back(server);
  auto err = result.get();
  if (err)
    return orca_code(err) != 0 ? err : impl_->unreachable(err);
  return caf::none;
}

} // namespace orca
