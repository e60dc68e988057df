// orca-provider: a remote provider for an orcad node, built on the client
// library. It connects, registers as provider ID and answers every call the
// way the simulated provider would (DOM: one fulfillment order per
// `ship_from`; billing: INV-<order id>; anything else: success), until it is
// stopped. A template for providers of one's own, and a stand-in for demos
// and tests.
//
//   orca-provider --id ID [--node HOST:PORT] [--fail-first N]
//                 [--fail-kind KIND] [--tls-cert F --tls-key F --tls-ca F]
//
// Prints "serving ID" once registered, then one line per call.

#include <iostream>

#include <CLI/CLI.hpp>

#include "actors/simulated_provider.hpp"
#include "engine/client.hpp"
#include "tools/tool_support.hpp"

int main(int argc, char** argv) {
  CLI::App app{"orca-provider: serve a provider for an orcad node"};
  std::string node = "127.0.0.1:4710";
  std::string id;
  uint32_t fail_first = 0;
  std::string fail_kind = "provider_failure";
  orca::client_options co;
  app.add_option("--node", node, "node address HOST:PORT")
    ->capture_default_str();
  app.add_option("--id", id, "provider id to serve")->required();
  app.add_option("--fail-first", fail_first,
                 "fail the first N attempts of every call");
  app
    .add_option("--fail-kind", fail_kind,
                "the kind of failure those attempts name")
    ->check(CLI::IsMember({"provider_failure", "provider_timeout",
                           "node_unreachable", "protocol_error"}))
    ->capture_default_str();
  app.add_option("--tls-cert", co.tls_cert, "client certificate (PEM)");
  app.add_option("--tls-key", co.tls_key, "client private key (PEM)");
  app.add_option("--tls-ca", co.tls_ca, "CA that signed the node (PEM)");
  if (auto code = orca::tools::parse_command_line(app, argc, argv))
    return *code;
  if (auto err = orca::parse_endpoint(node, co.host, co.port)) {
    std::cerr << "error: --node " << orca::describe(err) << "\n";
    return 2;
  }
  auto stop_signals = orca::tools::block_stop_signals();

  auto c = orca::client::connect(co);
  if (!c) {
    std::cerr << "error: " << orca::describe(c.error()) << "\n";
    return 1;
  }
  auto err = (*c)->serve_provider(
    id, [fail_first, fail_kind](const orca::wire_provider_request& w) {
      orca::wire_provider_reply reply;
      std::cout << w.step << " attempt " << w.attempt << " key "
                << w.idempotency_key << std::endl;
      if (w.attempt <= fail_first) {
        reply.error = "failing attempt " + std::to_string(w.attempt) + " of "
          + std::to_string(fail_first);
        reply.code = fail_kind;
        return reply;
      }
      auto parsed = orca::order::parse(w.order);
      if (!parsed) {
        reply.error =
          "the order does not parse: " + orca::describe(parsed.error());
        return reply;
      }
      orca::provider_request req;
      req.order = std::make_shared<const orca::order>(std::move(*parsed));
      req.line_ids = w.lines;
      for (const char* kind : {"send_to_dom", "send_to_invoice"})
        if (w.action == kind)
          req.action = w.action == "send_to_dom"
            ? orca::action_kind::send_to_dom
            : orca::action_kind::send_to_invoice;
      auto answer = orca::simulated_answer(req);
      reply.ok = true;
      reply.fulfillment = answer.fulfillment;
      reply.invoice_id = answer.invoice_id.value_or("");
      return reply;
    });
  if (err) {
    std::cerr << "error: " << orca::describe(err) << "\n";
    return 1;
  }
  std::cout << "serving " << id << std::endl;
  orca::tools::wait_for_signal(stop_signals);
  return 0;
}
