#pragma once

// What Orca's command-line tools share: reading an input file (or standard
// input for "-"), parsing the command line, and taking SIGINT/SIGTERM on the
// main thread only.

#include <csignal>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

namespace orca::tools {

/// The whole of `path` ("-": standard input); if it cannot be read, says
/// "error: PATH: cannot read the file" on standard error and returns
/// nothing (the tools then exit 2).
std::optional<std::string> read_input(const std::string& path);

/// Parses the command line into `app`. Returns the exit code when the tool
/// should stop here: 0 after printing help, 2 (usage) after printing an
/// `error:` line; nothing when it should go on.
std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv);

/// Blocks SIGINT and SIGTERM in the calling thread and in every thread it
/// starts from now on. Call first in main, before any thread starts.
sigset_t block_stop_signals();

/// Waits for one of `signals`; returns it.
int wait_for_signal(const sigset_t& signals);

/// Whether every address `host` stands for is a loopback address
/// (127.0.0.0/8 or ::1): a numeric address is read as such, a name is
/// resolved. A name that does not resolve is not loopback.
bool is_loopback(const std::string& host);

} // namespace orca::tools
