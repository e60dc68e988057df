// orcad: the Orca service node (SPEC §6).
//
//   orcad --data DIR [--listen HOST:PORT] [--http HOST:PORT|off]
//         [--tokens FILE] [--config FILE] [--map-size BYTES]
//         [--tls-cert FILE --tls-key FILE --tls-ca FILE]
//
// Keeps its data in an LMDB environment in DIR, publishes the node actor on
// HOST:PORT (default 127.0.0.1:4710; port 0 picks a free one) for remote
// actor clients, serves the HTTP API (SPEC §7) on --http (default
// 127.0.0.1:4711), logs to standard error and stops cleanly on SIGINT or
// SIGTERM. Listening on anything but loopback requires TLS with client
// certificates; serving HTTP beyond loopback requires TLS and a tokens
// file.
//
// Exit codes: 0 stopped cleanly, 1 runtime failure, 2 usage error, 3 invalid
// config file.

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>
#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "engine/client.hpp"
#include "engine/engine.hpp"
#include "engine/http_server.hpp"
#include "engine/node.hpp"
#include "engine/node_protocol.hpp"
#include "engine/wire_guard.hpp"
#include "tools/tool_support.hpp"

namespace {

constexpr int exit_failure = 1;
constexpr int exit_usage = 2;
constexpr int exit_invalid = 3;

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"orcad: the Orca service node"};
  std::string data;
  std::string listen = "127.0.0.1:4710";
  std::string config_file;
  std::string tls_cert;
  std::string tls_key;
  std::string tls_ca;
  app.add_option("--data", data, "data directory (LMDB environment)")
    ->required();
  app.add_option("--listen", listen, "HOST:PORT to listen on")
    ->capture_default_str();
  std::string http = "127.0.0.1:4711";
  std::string tokens_file;
  app.add_option("--http", http, "HOST:PORT of the HTTP API, or off")
    ->capture_default_str();
  app.add_option("--tokens", tokens_file,
                 "tokens file of the HTTP API (without one, everyone on "
                 "loopback may do everything)");
  app.add_option("--config", config_file, "node config file (providers)");
  std::size_t map_size = std::size_t{64} << 30;
  app
    .add_option("--map-size", map_size,
                "the most the store may grow to, in bytes (default 64 GiB)")
    ->check(CLI::Range(std::size_t{1} << 20, std::size_t{1} << 50));
  app.add_option("--tls-cert", tls_cert, "node certificate (PEM)");
  app.add_option("--tls-key", tls_key, "node private key (PEM)");
  app.add_option("--tls-ca", tls_ca, "CA that signs client certificates (PEM)");
  if (auto code = orca::tools::parse_command_line(app, argc, argv))
    return *code;
  auto log = spdlog::stderr_color_mt("orcad");
  log->set_pattern("%Y-%m-%d %H:%M:%S.%e orcad %l: %v");

  std::string host;
  uint16_t port = 0;
  if (auto err = orca::parse_endpoint(listen, host, port)) {
    std::cerr << "error: --listen " << orca::describe(err) << "\n";
    return exit_usage;
  }
  bool tls = !tls_cert.empty() || !tls_key.empty() || !tls_ca.empty();
  if (tls && (tls_cert.empty() || tls_key.empty() || tls_ca.empty())) {
    std::cerr << "error: TLS needs all of --tls-cert, --tls-key and --tls-ca\n";
    return exit_usage;
  }
  if (!tls && !orca::tools::is_loopback(host)) {
    std::cerr << "error: --listen " << listen
              << ": listening beyond loopback requires TLS with client "
                 "certificates (--tls-cert, --tls-key, --tls-ca)\n";
    return exit_usage;
  }

  // The HTTP API: beyond loopback only with tokens and TLS.
  bool serve_http = http != "off";
  std::string http_host;
  uint16_t http_port = 0;
  std::vector<orca::http_token> tokens;
  if (serve_http) {
    if (auto err = orca::parse_endpoint(http, http_host, http_port)) {
      std::cerr << "error: --http " << orca::describe(err) << "\n";
      return exit_usage;
    }
    if (!orca::tools::is_loopback(http_host) && (tokens_file.empty() || !tls)) {
      std::cerr << "error: --http " << http
                << ": serving HTTP beyond loopback requires "
                << (tokens_file.empty() && !tls ? "a tokens file (--tokens) "
                                                  "and TLS (--tls-cert, "
                                                  "--tls-key, --tls-ca)"
                      : tokens_file.empty()
                      ? "a tokens file (--tokens)"
                      : "TLS (--tls-cert, --tls-key, --tls-ca)")
                << "\n";
      return exit_usage;
    }
  }
  if (!tokens_file.empty()) {
    auto text = orca::tools::read_input(tokens_file);
    if (!text)
      return exit_usage;
    auto parsed = orca::parse_tokens(*text, tokens_file);
    if (!parsed) {
      std::cerr << "error: " << orca::describe(parsed.error()) << "\n";
      return exit_invalid;
    }
    tokens = std::move(*parsed);
  }

  // With TLS, CAF speaks TLS on loopback too, with a key made for this run
  // that only the wire guard holds besides CAF.
  std::unique_ptr<orca::loopback_credentials> loopback;
  if (tls) {
    auto made = orca::loopback_credentials::make();
    if (!made) {
      log->error("{}", orca::describe(made.error()));
      return exit_failure;
    }
    loopback = std::move(*made);
  }

  orca::engine_options opts;
  opts.data_dir = data;
  opts.map_size = map_size;
  if (!config_file.empty()) {
    auto text = orca::tools::read_input(config_file);
    if (!text)
      return exit_usage;
    auto config = orca::node_config::parse(*text, config_file);
    if (!config) {
      std::istringstream lines{orca::describe(config.error())};
      std::string line;
      while (std::getline(lines, line))
        std::cerr << "error: " << line << "\n";
      // A hook's secret missing from the environment is how orcad was
      // started, not what the file says (SPEC §9).
      return config.error() == orca::errc::invalid_argument ? exit_usage
                                                            : exit_invalid;
    }
    opts.config = std::move(*config);
  }
  opts.warn = [log](const std::string& text) { log->warn("{}", text); };
  opts.configure = [&](caf::actor_system_config& cfg) {
    orca::speak_node_protocol(cfg);
    if (tls) {
      cfg.load<caf::openssl::manager>();
      cfg.openssl_certificate = loopback->files().cert;
      cfg.openssl_key = loopback->files().key;
      cfg.openssl_cafile = loopback->files().ca;
    }
    cfg.set("logger.verbosity", caf::atom("quiet"));
  };

  // Before any thread starts, so that only the main thread takes them.
  auto stop_signals = orca::tools::block_stop_signals();

  auto started_on = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  auto wire_bytes = opts.config.limits.wire_bytes;
  auto engine = orca::Engine::open(std::move(opts));
  if (!engine) {
    log->error("cannot open {}: {}", data, orca::describe(engine.error()));
    return exit_failure;
  }
  auto& sys = (*engine)->system();
  orca::node_identity identity{"", data, started_on};
  auto node = orca::spawn_node(**engine, identity);
  // CAF listens on a free loopback port behind the wire guard, which takes
  // the connections on HOST:PORT (ending their TLS, if any) and cuts off a
  // client whose message is over wire_bytes before CAF reads it.
  auto published = tls ? caf::openssl::publish(node, 0, "127.0.0.1", true)
                       : sys.middleman().publish(node, 0, "127.0.0.1", true);
  if (!published) {
    log->error("cannot listen on {}: {}", listen,
               orca::describe(published.error()));
    caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
    return exit_failure;
  }
  orca::wire_guard::tls_settings tls_settings;
  if (tls)
    tls_settings = {{tls_cert, tls_key, tls_ca}, loopback->files()};
  auto started = orca::wire_guard::start(
    host, port, *published, {wire_bytes, orca::node_type_names()},
    [log](const std::string& text) { log->warn("{}", text); },
    tls ? &tls_settings : nullptr);
  if (!started) {
    log->error("cannot listen on {}: {}", listen,
               orca::describe(started.error()));
    caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
    return exit_failure;
  }
  auto guard = std::move(*started);
  auto listening = guard->port();
  auto actual = host + ":" + std::to_string(listening);
  // The node learns the address it got (the port may have been 0).
  caf::scoped_actor {
    sys
    } -> send(node, orca::listen_atom::value, actual);

  // The HTTP API answers providers and status as the node does (it knows
  // its connected clients).
  std::unique_ptr<orca::http_api> api;
  std::unique_ptr<orca::http_server> http_server;
  if (serve_http) {
    orca::http_api::options api_opts;
    api_opts.tokens = std::move(tokens);
    auto ask = [&sys, node](auto atom, auto result) {
      return [&sys, node, atom, result]() -> caf::expected<decltype(result)> {
        caf::scoped_actor self{sys};
        caf::expected<decltype(result)> answer = result;
        self->request(node, std::chrono::seconds(10), atom)
          .receive([&](decltype(result)& r) { answer = std::move(r); },
                   [&](caf::error& err) { answer = std::move(err); });
        return answer;
      };
    };
    api_opts.providers =
      ask(orca::provider_list_atom::value, std::vector<orca::provider_view>{});
    api_opts.status = ask(orca::node_status_atom::value, orca::node_status{});
    api = std::make_unique<orca::http_api>(**engine, std::move(api_opts));
    orca::http_server::options http_opts;
    http_opts.host = http_host;
    http_opts.port = http_port;
    http_opts.body_limit = wire_bytes;
    if (tls) {
      http_opts.tls_cert = tls_cert;
      http_opts.tls_key = tls_key;
    }
    auto served =
      orca::http_server::start(*api, http_opts, [log](const std::string& text) {
        log->warn("{}", text);
      });
    if (!served) {
      log->error("{}", orca::describe(served.error()));
      guard->stop_accepting();
      caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
      return exit_failure;
    }
    http_server = std::move(*served);
    log->info("http api on {}:{}{}", http_host, http_server->port(),
              tls ? " (TLS)" : "");
  }
  log->info("listening on {}{} with data in {}", actual, tls ? " (TLS)" : "",
            data);

  auto sig = orca::tools::wait_for_signal(stop_signals);
  log->info("stopping on {}", sig == SIGINT ? "SIGINT" : "SIGTERM");
  // No new connections; the node answers every request it took (those
  // committed included), then ends; then the engine commits what is queued
  // and stops its actors. Leaving main tears the actor system down, which
  // sends what the connections still have to send before it closes them.
  // (CAF 0.17's TLS unpublish does not compile; there, CAF's loopback port
  // stays open, but nothing reaches it once the guard stops accepting.)
  guard->stop_accepting();
  if (api)
    api->stop();
  if (http_server)
    http_server->stop();
  // Its threads finish what they run (their answers go nowhere now).
  api.reset();
  http_server.reset();
  if (!tls)
    sys.middleman().unpublish(node, *published);
  {
    caf::scoped_actor self{sys};
    self->request(node, caf::infinite, orca::drain_atom::value)
      .receive([](caf::ok_atom) {},
               [&](const caf::error& err) {
                 log->warn("the node did not drain: {}", orca::describe(err));
               });
  }
  node = nullptr;
  (*engine)->stop();
  // The actor system's teardown sends the connections what they still have
  // to get; the guard passes it on before the process ends.
  engine->reset();
  guard->wait_closed(std::chrono::seconds(5));
  log->info("stopped");
  return 0;
}
