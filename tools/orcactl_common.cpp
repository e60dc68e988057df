#include "tools/orcactl.hpp"

#include <iostream>
#include <sstream>

#include "tools/tool_support.hpp"

namespace orca::ctl {

void print_error(const std::string& message) {
  std::istringstream lines{message};
  std::string line;
  while (std::getline(lines, line))
    std::cerr << "error: " << line << "\n";
}

int exit_code_for(const caf::error& err) {
  switch (static_cast<errc>(orca_code(err))) {
    case errc::invalid_json:
    case errc::invalid_flow:
    case errc::invalid_order:
    case errc::invalid_config:
    case errc::unknown_provider:
    case errc::flow_exists:
    case errc::limit_exceeded: return exit_invalid;
    case errc::invalid_argument: return exit_usage;
    default: return exit_failure;
  }
}

int fail(const caf::error& err) {
  print_error(describe(err));
  return exit_code_for(err);
}

caf::expected<std::unique_ptr<client>> connect(const options& opts) {
  client_options co;
  if (auto err = parse_endpoint(opts.node, co.host, co.port))
    return make_error(errc::invalid_argument, "--node " + describe(err));
  co.tls_cert = opts.tls_cert;
  co.tls_key = opts.tls_key;
  co.tls_ca = opts.tls_ca;
  return client::connect(std::move(co));
}

} // namespace orca::ctl
