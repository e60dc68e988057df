// orcactl: Orca's admin console, a remote actor client of an orcad node
// (SPEC §6). `flow validate` works offline; every other command talks to the
// node given by --node (default 127.0.0.1:4710).
//
// Exit codes: 0 success, 1 runtime failure (node unreachable, time-out, an
// operation the node refused), 2 usage error, 3 invalid input (a flow, or at
// least one submitted order, rejected).

#include <iostream>
#include <map>

#include <CLI/CLI.hpp>
#include <unistd.h>

#include "engine/client.hpp"
#include "flows/flow.hpp"
#include "flows/flow_diagram.hpp"
#include "flows/flow_svg.hpp"
#include "flows/policy_library.hpp"
#include "flows/flow_text.hpp"
#include "tools/orcactl.hpp"
#include "tools/orcactl_output.hpp"
#include "tools/tool_support.hpp"

namespace {

using namespace orca;
using namespace orca::ctl;

int flow_validate(const options& opts) {
  auto text = tools::read_input(opts.file);
  if (!text)
    return exit_usage;
  // Offline there is no node library: a library file may stand for it.
  if (!opts.policies.empty()) {
    auto library_text = tools::read_input(opts.policies);
    if (!library_text)
      return exit_usage;
    auto library = parse_policy_file(*library_text, opts.policies);
    if (!library) {
      print_error(describe(library.error()));
      return exit_invalid;
    }
    auto merged = with_library(*text, *library, opts.file);
    if (!merged) {
      print_error(describe(merged.error()));
      return exit_invalid;
    }
    text = std::move(*merged);
  }
  auto parsed = parse_flow(*text);
  if (opts.json) {
    std::string line = "{\"file\":" + quote(opts.file)
      + ",\"valid\":" + (parsed.errors.empty() ? "true" : "false");
    if (parsed.model)
      line += ",\"name\":" + quote(parsed.model->name)
        + ",\"steps\":" + std::to_string(parsed.model->steps.size());
    line += ",\"errors\":[";
    bool first = true;
    for (const auto& d : parsed.errors.lines(opts.file)) {
      line += (first ? "" : ",") + quote(d);
      first = false;
    }
    std::cout << line << "]}\n";
  } else if (parsed.model) {
    std::cout << opts.file << ": valid\n" << render_tree(*parsed.model);
  }
  for (const auto& d : parsed.errors.lines(opts.file))
    std::cerr << "error: " << d << '\n';
  return parsed.errors.empty() ? exit_ok : exit_invalid;
}

void print_flow(const options& opts, const flow_record& f) {
  std::cout << (opts.json ? ctl::flow_json(f) + "\n" : ctl::flow_line(f));
}

int flow_command(client& c, const options& opts, const std::string& what) {
  if (what == "create" || what == "update") {
    auto text = tools::read_input(opts.file);
    if (!text)
      return exit_usage;
    auto f = what == "create" ? c.create_flow(*text, opts.file)
                              : c.update_flow(*text, opts.file);
    if (!f)
      return fail(f.error());
    print_flow(opts, *f);
    return exit_ok;
  }
  if (what == "publish") {
    auto v = c.publish_flow(opts.name);
    if (!v)
      return fail(v.error());
    // What publish made of the flow, as every command that changes one.
    auto shown = c.show_flow(opts.name, *v);
    if (!shown)
      return fail(shown.error());
    print_flow(opts, shown->record);
    return exit_ok;
  }
  if (what == "stop" || what == "pause" || what == "resume") {
    auto f = what == "stop" ? c.stop_flow(opts.name, opts.cancel_in_flight)
      : what == "pause"     ? c.pause_flow(opts.name)
                            : c.resume_flow(opts.name);
    if (!f)
      return fail(f.error());
    print_flow(opts, *f);
    return exit_ok;
  }
  if (what == "list") {
    auto flows = c.list_flows();
    if (!flows)
      return fail(flows.error());
    if (opts.json)
      for (const auto& f : *flows)
        std::cout << ctl::flow_json(f) << "\n";
    else
      std::cout << ctl::flows_table(*flows);
    return exit_ok;
  }
  auto detail = c.show_flow(opts.name, opts.version);
  if (!detail)
    return fail(detail.error());
  // A draft is read with the library policies it uses, as publish would.
  auto parsed = parse_flow(detail->resolved.empty() ? detail->definition
                                                    : detail->resolved);
  if (what == "show") {
    if (opts.json) {
      std::cout << ctl::flow_detail_json(*detail) << "\n";
      return exit_ok;
    }
    std::cout << ctl::flow_line(detail->record);
    std::cout << ctl::held_line(*detail);
    std::cout << (detail->version > 0
                    ? "version " + std::to_string(detail->version)
                    : "draft of version "
                      + std::to_string(detail->record.draft_version))
              << ":\n";
    if (parsed.model)
      std::cout << render_tree(*parsed.model);
    return exit_ok;
  }
  // export
  auto format = diagram_format_from(opts.format);
  if (!format && opts.format != "svg") {
    std::cerr << "error: --format " << quote(opts.format)
              << ": expected dot, mermaid or svg\n";
    return exit_usage;
  }
  if (!parsed.model) {
    print_error("flow " + quote(opts.name)
                + " does not parse: " + parsed.errors.lines("")[0]);
    return exit_failure;
  }
  std::string diagram;
  if (format) {
    diagram = render_diagram(*parsed.model, *format);
  } else {
    auto svg = render_svg(*parsed.model);
    if (!svg) {
      print_error("flow " + quote(opts.name) + ": " + describe(svg.error()));
      return exit_failure;
    }
    diagram = std::move(*svg);
  }
  if (opts.json)
    std::cout << "{\"name\":" << quote(opts.name)
              << ",\"version\":" << detail->version
              << ",\"format\":" << quote(opts.format)
              << ",\"diagram\":" << quote(diagram) << "}\n";
  else
    std::cout << diagram;
  return exit_ok;
}

int journey_command(client& c, const options& opts, const std::string& what) {
  if (what == "list") {
    wire_query q{opts.flow, opts.state, opts.limit};
    auto journeys = c.list_journeys(q);
    if (!journeys)
      return fail(journeys.error());
    if (opts.json)
      for (const auto& r : *journeys)
        std::cout << ctl::journey_json(r) << "\n";
    else
      std::cout << ctl::journeys_table(*journeys);
    return exit_ok;
  }
  if (what == "show") {
    auto views = c.show_journeys(opts.order_id, opts.flow);
    if (!views)
      return fail(views.error());
    for (const auto& v : *views) {
      if (opts.json) {
        std::cout << ctl::journey_json(v.record, &v.timeline) << "\n";
      } else {
        std::cout << ctl::journey_text(v.record) << "\n"
                  << ctl::timeline_text(v.timeline) << "\n";
      }
    }
    return exit_ok;
  }
  if (what == "replay") {
    bool tty = ::isatty(STDERR_FILENO) != 0;
    if (tty && !opts.json)
      std::cerr << "replaying " << opts.order_id << "..." << std::flush;
    auto view = c.replay(opts.order_id, opts.flow, opts.against);
    if (tty && !opts.json)
      std::cerr << "\r" << std::string(40, ' ') << "\r";
    if (!view)
      return fail(view.error());
    if (opts.json) {
      std::cout << ctl::replay_json(*view) << "\n";
      return exit_ok;
    }
    std::cout << "replay of order " << quote(view->recorded.order_id)
              << " on flow " << quote(view->recorded.flow) << ", version "
              << view->version << " (recorded on version "
              << view->recorded.version << ")\n"
              << "  recorded: " << to_string(view->recorded.state)
              << "; replayed: " << to_string(view->replayed.state) << "\n";
    if (view->diverges)
      std::cout << "  diverges: " << view->divergence << "\n";
    else
      std::cout << "  no divergence: the replay gives the recorded steps\n";
    std::cout << "\n" << ctl::timeline_text(view->timeline);
    return exit_ok;
  }
  // redrive
  auto r = c.redrive(opts.order_id, opts.flow);
  if (!r)
    return fail(r.error());
  if (opts.json)
    std::cout << ctl::journey_json(*r) << "\n";
  else
    std::cout << "redriven: " << ctl::journey_text(*r);
  return exit_ok;
}

int policy_command(client& c, const options& opts, const std::string& what) {
  auto print = [&](const policy_library& policies) {
    if (opts.json)
      for (const auto& p : policies)
        std::cout << ctl::policy_json(p) << "\n";
    else
      std::cout << ctl::policies_table(policies);
  };
  if (what == "put") {
    auto text = tools::read_input(opts.file);
    if (!text)
      return exit_usage;
    auto put = c.put_policies(*text, opts.file);
    if (!put)
      return fail(put.error());
    print(*put);
    return exit_ok;
  }
  if (what == "list") {
    auto all = c.list_policies();
    if (!all)
      return fail(all.error());
    print(*all);
    return exit_ok;
  }
  if (what == "show") {
    auto p = c.show_policy(opts.name);
    if (!p)
      return fail(p.error());
    std::cout << (opts.json ? ctl::policy_json(*p) + "\n"
                            : ctl::policy_text(*p));
    return exit_ok;
  }
  // delete: what was deleted, as `policy show` printed it
  auto gone = c.delete_policy(opts.name);
  if (!gone)
    return fail(gone.error());
  if (opts.json)
    std::cout << ctl::policy_json(*gone) << "\n";
  else
    std::cout << "policy " << quote(opts.name) << " deleted\n";
  return exit_ok;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"orcactl: the Orca admin console"};
  app.require_subcommand(1);
  options opts;
  app.add_option("--node", opts.node, "node address HOST:PORT")
    ->capture_default_str();
  app.add_flag("--json", opts.json, "print JSON Lines instead of tables");
  app.add_option("--tls-cert", opts.tls_cert, "client certificate (PEM)");
  app.add_option("--tls-key", opts.tls_key, "client private key (PEM)");
  app.add_option("--tls-ca", opts.tls_ca, "CA that signed the node (PEM)");

  auto* flow = app.add_subcommand("flow", "manage orchestration flows");
  flow->require_subcommand(1);
  auto* validate =
    flow->add_subcommand("validate", "check a flow file offline");
  validate->add_option("FILE", opts.file, "flow definition (JSON)")->required();
  validate->add_option("--policies", opts.policies,
                       "a policy library file the flow may refer to");
  auto* create = flow->add_subcommand("create", "create a flow from a file");
  create->add_option("FILE", opts.file, "flow definition (JSON)")->required();
  auto* update = flow->add_subcommand("update", "replace a flow's draft");
  update->add_option("FILE", opts.file, "flow definition (JSON)")->required();
  std::map<std::string, CLI::App*> by_name;
  for (const char* name :
       {"publish", "stop", "pause", "resume", "show", "export"}) {
    auto* sub = flow->add_subcommand(name, std::string{name} + " a flow");
    sub->add_option("NAME", opts.name, "flow name")->required();
    by_name[name] = sub;
  }
  by_name["stop"]->add_flag("--cancel-in-flight", opts.cancel_in_flight,
                            "cancel journeys still running");
  by_name["show"]->add_option("--version", opts.version, "a frozen version");
  by_name["export"]->add_option("--version", opts.version, "a frozen version");
  by_name["export"]
    ->add_option("--format", opts.format, "dot, mermaid or svg")
    ->capture_default_str();
  auto* flow_list = flow->add_subcommand("list", "list flows");

  auto* order = app.add_subcommand("order", "submit orders and events");
  order->require_subcommand(1);
  auto* submit = order->add_subcommand("submit", "submit orders (JSON Lines)");
  submit->add_option("FILE", opts.file, "orders file, or - for standard input")
    ->required();
  auto* wait =
    submit->add_flag("--wait", opts.wait, "print each journey once it settles");
  submit->add_option("--timeout", opts.timeout, "seconds to wait")
    ->needs(wait)
    ->capture_default_str();
  auto* event = order->add_subcommand("event", "send an event for an order");
  event->add_option("ORDER_ID", opts.order_id)->required();
  event->add_option("EVENT_TYPE", opts.event_type)->required();
  auto* cancel = order->add_subcommand("cancel", "cancel an order's journeys");
  cancel->add_option("ORDER_ID", opts.order_id)->required();

  auto* journey = app.add_subcommand("journey", "inspect journeys");
  journey->require_subcommand(1);
  auto* jlist = journey->add_subcommand("list", "list journeys");
  jlist->add_option("--flow", opts.flow, "only this flow");
  jlist->add_option("--state", opts.state, "only this state");
  jlist->add_option("--limit", opts.limit, "at most this many");
  std::map<std::string, CLI::App*> jsubs;
  for (const char* name : {"show", "replay", "redrive"}) {
    auto* sub = journey->add_subcommand(name, std::string{name} + " a journey");
    sub->add_option("ORDER_ID", opts.order_id)->required();
    sub->add_option("--flow", opts.flow,
                    "the flow, when the order has several");
    jsubs[name] = sub;
  }
  jsubs["replay"]->add_option("--against-version", opts.against,
                              "replay on this version of the flow instead");

  auto* policy = app.add_subcommand("policy", "the node's policy library");
  policy->require_subcommand(1);
  auto* policy_put =
    policy->add_subcommand("put", "put the policies of a file");
  policy_put
    ->add_option("FILE", opts.file,
                 "{\"filter\": [...], \"execution\": [...]} (JSON)")
    ->required();
  auto* policy_list = policy->add_subcommand("list", "list the library");
  std::map<std::string, CLI::App*> policy_subs;
  for (const char* name : {"show", "delete"}) {
    auto* sub = policy->add_subcommand(name, std::string{name} + " a policy");
    sub->add_option("NAME", opts.name, "policy name")->required();
    policy_subs[name] = sub;
  }

  auto* provider = app.add_subcommand("provider", "providers");
  provider->require_subcommand(1);
  auto* plist = provider->add_subcommand("list", "list providers");
  auto* hook = app.add_subcommand("hook", "hooks (SPEC §9)");
  hook->require_subcommand(1);
  auto* hlist = hook->add_subcommand(
    "list", "list hooks with their backlog, counts and last error");
  auto* node = app.add_subcommand("node", "the node");
  node->require_subcommand(1);
  auto* status = node->add_subcommand("status", "the node's status");

  if (auto code = orca::tools::parse_command_line(app, argc, argv))
    return *code;
  if (validate->parsed())
    return flow_validate(opts);

  auto c = connect(opts);
  if (!c)
    return fail(c.error());
  auto& cl = **c;
  if (create->parsed())
    return flow_command(cl, opts, "create");
  if (update->parsed())
    return flow_command(cl, opts, "update");
  if (flow_list->parsed())
    return flow_command(cl, opts, "list");
  for (const auto& [name, sub] : by_name)
    if (sub->parsed())
      return flow_command(cl, opts, name);
  if (submit->parsed())
    return order_submit(cl, opts);
  if (event->parsed())
    return order_event(cl, opts, opts.event_type);
  if (cancel->parsed())
    return order_event(cl, opts, event_types::cancel_order);
  if (jlist->parsed())
    return journey_command(cl, opts, "list");
  for (const auto& [name, sub] : jsubs)
    if (sub->parsed())
      return journey_command(cl, opts, name);
  if (policy_put->parsed())
    return policy_command(cl, opts, "put");
  if (policy_list->parsed())
    return policy_command(cl, opts, "list");
  for (const auto& [name, sub] : policy_subs)
    if (sub->parsed())
      return policy_command(cl, opts, name);
  if (plist->parsed()) {
    auto providers = cl.providers();
    if (!providers)
      return fail(providers.error());
    if (opts.json)
      for (const auto& p : *providers)
        std::cout << ctl::provider_json(p) << "\n";
    else
      std::cout << ctl::providers_table(*providers);
    return exit_ok;
  }
  if (hlist->parsed()) {
    auto hooks = cl.hooks();
    if (!hooks)
      return fail(hooks.error());
    if (opts.json)
      for (const auto& h : *hooks)
        std::cout << ctl::hook_json(h) << "\n";
    else
      std::cout << ctl::hooks_table(*hooks);
    return exit_ok;
  }
  if (status->parsed()) {
    auto s = cl.status();
    if (!s)
      return fail(s.error());
    std::cout << (opts.json ? ctl::status_json(*s) + "\n"
                            : ctl::status_text(*s));
    return exit_ok;
  }
  return exit_usage;
}
