#pragma once

// A real orcad process on a free port of 127.0.0.1 and a fresh data
// directory, and orcactl runs against it.

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "support/child_process.hpp"
#include "support/files.hpp"
#include "support/run.hpp"
#include "support/wait.hpp"

namespace orca::test {

class node_process {
public:
  /// Starts orcad with `config` (a node config file's text, "" for none)
  /// and `extra` arguments; fails the test if it does not come up.
  explicit node_process(const std::string& config = "",
                        std::vector<std::string> extra = {},
                        const temp_dir* data = nullptr)
      : data_(data ? data : &own_) {
    start(config, std::move(extra));
  }

  ~node_process() {
    stop();
  }

  void start(const std::string& config, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{ORCAD_PATH, "--data", data_->file("data"),
                                  "--listen", "127.0.0.1:0"};
    if (!config.empty()) {
      data_->write("node.json", config);
      args.push_back("--config");
      args.push_back(data_->file("node.json"));
    }
    // The HTTP API on a free port too, unless the test says where.
    if (std::find(extra.begin(), extra.end(), "--http") == extra.end()) {
      args.push_back("--http");
      args.push_back("127.0.0.1:0");
    }
    for (auto& a : extra)
      args.push_back(std::move(a));
    process_ = std::make_unique<child_process>(args, true);
    auto line = process_->wait_for_line("listening on ");
    if (line.empty())
      throw std::runtime_error("orcad did not start");
    auto at = line.find("listening on ") + 13;
    address_ = line.substr(at, line.find_first_of(" ", at) - at);
    http_address_.clear();
    for (const auto& l : process_->lines())
      if (auto h = l.find("http api on "); h != std::string::npos) {
        h += 12;
        http_address_ = l.substr(h, l.find_first_of(" ", h) - h);
      }
  }

  /// Stops the node with SIGTERM; returns its exit code.
  int stop() {
    if (!process_)
      return -1;
    process_->kill(SIGTERM);
    auto code = process_->wait();
    log_ = process_->lines();
    process_.reset();
    return code;
  }

  void kill() {
    if (process_) {
      process_->kill(SIGKILL);
      process_->wait();
      process_.reset();
    }
  }

  const std::string& address() const {
    return address_;
  }

  /// HOST:PORT of the HTTP API ("" when it is off).
  const std::string& http_address() const {
    return http_address_;
  }

  /// The node's process, while it runs.
  pid_t pid() const {
    return process_ ? process_->pid() : -1;
  }

  /// Waits (up to 15 s) for a line of the running node's log containing
  /// `text`; returns it or "".
  std::string wait_for_log(const std::string& text) const {
    return process_ ? process_->wait_for_line(text) : std::string{};
  }

  const std::vector<std::string>& log() const {
    return log_;
  }

  /// Runs orcactl against this node.
  run_result ctl(std::vector<std::string> args, const std::string& input = "",
                 std::vector<std::string> before = {}) const {
    std::vector<std::string> all{ORCACTL_PATH, "--node", address_};
    for (auto& b : before)
      all.push_back(std::move(b));
    for (auto& a : args)
      all.push_back(std::move(a));
    return run(all, input);
  }

  run_result ctl_json(std::vector<std::string> args,
                      const std::string& input = "") const {
    return ctl(std::move(args), input, {"--json"});
  }

  const temp_dir& dir() const {
    return *data_;
  }

private:
  temp_dir own_;
  const temp_dir* data_;
  std::unique_ptr<child_process> process_;
  std::string address_;
  std::string http_address_;
  std::vector<std::string> log_;
};

/// The state of an order's journey on a flow as `journey show --json` says
/// ("" if there is none).
inline std::string state_of(const node_process& node, const std::string& order,
                            const std::string& flow) {
  auto r = node.ctl_json({"journey", "show", order, "--flow", flow});
  if (r.exit_code != 0)
    return "";
  auto at = r.out.find("\"state\":\"");
  if (at == std::string::npos)
    return "";
  at += 9;
  return r.out.substr(at, r.out.find('"', at) - at);
}

/// Waits until the journey is in one of `states`; fails the test after 20 s.
inline void wait_state(const node_process& node, const std::string& order,
                       const std::string& flow,
                       const std::vector<std::string>& states) {
  std::string last;
  if (eventually(
        [&] {
          last = state_of(node, order, flow);
          return std::find(states.begin(), states.end(), last) != states.end();
        },
        std::chrono::seconds(20), std::chrono::milliseconds(20)))
    return;
  FAIL("journey of " << order << " on " << flow << " stays "
                     << (last.empty() ? "unknown" : last));
}

inline void wait_state(const node_process& node, const std::string& order,
                       const std::string& flow, const char* state) {
  wait_state(node, order, flow, std::vector<std::string>{state});
}

} // namespace orca::test
