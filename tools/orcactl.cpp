// orcactl: Orca's admin console (SPEC §6).
//
// Exit codes: 0 success, 1 runtime failure, 2 usage error, 3 invalid input.

#include <fstream>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>

#include "flows/flow.hpp"
#include "flows/flow_text.hpp"

namespace {

constexpr int exit_ok = 0;
constexpr int exit_usage = 2;
constexpr int exit_invalid = 3;

struct options {
  std::string node = "127.0.0.1:4710";
  bool json = false;
  std::string file;
};

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return false;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  out = buffer.str();
  return true;
}

int flow_validate(const options& opts) {
  std::string text;
  if (!read_file(opts.file, text)) {
    std::cerr << "error: " << opts.file << ": cannot read the file\n";
    return exit_usage;
  }
  auto parsed = orca::parse_flow(text);
  if (opts.json) {
    std::string line = "{\"file\":" + orca::quote(opts.file)
                       + ",\"valid\":" + (parsed.errors.empty() ? "true" : "false");
    if (parsed.model)
      line += ",\"name\":" + orca::quote(parsed.model->name)
              + ",\"steps\":" + std::to_string(parsed.model->steps.size());
    line += ",\"errors\":[";
    bool first = true;
    for (const auto& d : parsed.errors.lines(opts.file)) {
      line += (first ? "" : ",") + orca::quote(d);
      first = false;
    }
    std::cout << line << "]}\n";
  } else if (parsed.model) {
    std::cout << opts.file << ": valid\n" << orca::render_tree(*parsed.model);
  }
  for (const auto& d : parsed.errors.lines(opts.file))
    std::cerr << "error: " << d << '\n';
  return parsed.errors.empty() ? exit_ok : exit_invalid;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"orcactl: the Orca admin console"};
  app.require_subcommand(1);
  options opts;
  app.add_option("--node", opts.node, "node address HOST:PORT")
    ->capture_default_str();
  app.add_flag("--json", opts.json, "print JSON Lines instead of tables");

  auto* flow = app.add_subcommand("flow", "manage orchestration flows");
  flow->require_subcommand(1);
  auto* validate = flow->add_subcommand("validate",
                                        "check a flow file offline and print "
                                        "its steps");
  validate->add_option("FILE", opts.file, "flow definition (JSON)")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return exit_usage;
  }
  if (validate->parsed())
    return flow_validate(opts);
  return exit_usage;
}
