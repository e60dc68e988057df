#pragma once

// What orcactl's commands share: the options the command line fills in, the
// exit codes of SPEC §6, how errors are printed, and the connection to the
// node. Commands live by subject: orcactl.cpp (flows, journeys, policies and
// the command line), orcactl_orders.cpp (order submit and event).

#include <memory>
#include <string>

#include "engine/client.hpp"

namespace orca::ctl {

constexpr int exit_ok = 0;
constexpr int exit_failure = 1;
constexpr int exit_usage = 2;
constexpr int exit_invalid = 3;

struct options {
  std::string node = "127.0.0.1:4710";
  bool json = false;
  std::string tls_cert;
  std::string tls_key;
  std::string tls_ca;
  std::string file;
  std::string policies; ///< `flow validate --policies`: a library file
  std::string name;
  std::string order_id;
  std::string event_type;
  std::string flow;
  std::string state;
  std::string format = "dot";
  std::size_t limit = 0;
  uint32_t version = 0;
  uint32_t against = 0;
  bool cancel_in_flight = false;
  bool wait = false;
  double timeout = 60;
};

/// Prints each line of an error's message as an `error:` line.
void print_error(const std::string& message);

/// The exit code for `err` (SPEC §6): 3 for invalid input, 2 for a usage
/// error, 1 for any other failure.
int exit_code_for(const caf::error& err);

/// Prints `err` and returns its exit code.
int fail(const caf::error& err);

/// Connects to the node `opts` names.
caf::expected<std::unique_ptr<client>> connect(const options& opts);

/// `order submit`: sends the orders of `opts.file` and prints each one's
/// outcome (with --wait, each journey once it settles).
int order_submit(client& c, const options& opts);

/// `order event|cancel`: sends event `type` for `opts.order_id`.
int order_event(client& c, const options& opts, const std::string& type);

} // namespace orca::ctl
