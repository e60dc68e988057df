#pragma once

// The client library for remote actor clients of an orcad node: orcactl,
// services that submit orders or follow journeys, and remote providers.
// A client owns a small actor system with CAF's middleman and one
// connection to the node; every call is safe from any one thread at a time
// and returns the node's answer or an error (errc::node_unreachable when
// the node cannot be reached or does not answer in time).

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/node_protocol.hpp"

namespace orca {

struct client_options {
  std::string host = "127.0.0.1";
  uint16_t port = 4710;
  /// TLS with a client certificate: all three, or none.
  std::string tls_cert;
  std::string tls_key;
  std::string tls_ca;
  std::chrono::milliseconds timeout{30000}; ///< per request
};

/// "HOST:PORT" into host and port; errors name the text.
caf::error parse_endpoint(const std::string& text, std::string& host,
                          uint16_t& port);

class client {
public:
  static caf::expected<std::unique_ptr<client>> connect(client_options opts);

  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  // -- flows ------------------------------------------------------------------
  caf::expected<flow_record> create_flow(const std::string& json,
                                         const std::string& origin);
  caf::expected<flow_record> update_flow(const std::string& json,
                                         const std::string& origin);
  caf::expected<uint32_t> publish_flow(const std::string& name);
  caf::expected<flow_record> stop_flow(const std::string& name,
                                       bool cancel_in_flight);
  caf::expected<flow_record> pause_flow(const std::string& name);
  caf::expected<flow_record> resume_flow(const std::string& name);
  caf::expected<std::vector<flow_record>> list_flows();

  caf::expected<policy_library> put_policies(const std::string& json,
                                             const std::string& origin);
  caf::expected<policy_library> list_policies();
  caf::expected<library_policy> show_policy(const std::string& name);
  caf::expected<library_policy> delete_policy(const std::string& name);
  /// version 0: the latest published version (or the draft if none).
  caf::expected<flow_detail> show_flow(const std::string& name,
                                       uint32_t version);

  // -- orders -----------------------------------------------------------------
  caf::expected<std::vector<submit_outcome>>
  submit(const std::vector<std::string>& orders);

  /// Submits in batches of `batch`, with up to `window` batches in flight;
  /// `progress` (may be empty) gets the number of orders answered so far.
  /// A batch the node answers busy fails the submission, or, with
  /// `retry_busy`, is offered again (counted in `busy`), before new ones,
  /// at the pace of busy_pace.hpp. The outcomes are in the order of
  /// `orders` either way.
  caf::expected<std::vector<submit_outcome>>
  submit_pipelined(const std::vector<std::string>& orders, std::size_t batch,
                   std::size_t window,
                   const std::function<void(std::size_t)>& progress,
                   bool retry_busy = false, std::size_t* busy = nullptr);

  caf::error event(const std::string& order_id, const std::string& type);

  // -- journeys ---------------------------------------------------------------
  caf::expected<std::vector<journey_record>> list_journeys(const wire_query& q);
  caf::expected<std::vector<journey_view>>
  show_journeys(const std::string& order_id, const std::string& flow);
  caf::expected<replay_view> replay(const std::string& order_id,
                                    const std::string& flow, uint32_t against);
  caf::expected<journey_record> redrive(const std::string& order_id,
                                        const std::string& flow);

  /// Calls `fn` with every durable change of the journeys of `order_ids`
  /// (every order if empty), on an internal thread, until the client goes.
  /// A subscriber that falls 1,024 updates behind (`fn` slow) loses the
  /// updates that come meanwhile: ask the node for the state where it
  /// matters.
  caf::error subscribe(const std::vector<std::string>& order_ids,
                       std::function<void(const journey_record&)> fn);

  // -- providers and the node -------------------------------------------------
  caf::expected<std::vector<provider_view>> providers();
  caf::expected<std::vector<hook_status>> hooks();
  caf::expected<node_status> status();

  using provider_function =
    std::function<wire_provider_reply(const wire_provider_request&)>;

  /// Serves provider `id` for the node: `fn` answers each call, on a thread
  /// of its own (it may block), until the client goes.
  caf::error serve_provider(const std::string& id, provider_function fn);

  struct impl;

private:
  explicit client(std::unique_ptr<impl> state);
  std::unique_ptr<impl> impl_;
};

} // namespace orca
