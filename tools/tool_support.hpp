#pragma once

// What Orca's command-line tools share: reading an input file (or standard
// input for "-"), and taking SIGINT/SIGTERM on the main thread only.

#include <csignal>
#include <string>

namespace orca::tools {

/// Reads the whole of `path` ("-": standard input) into `out`; false if it
/// cannot be read.
bool read_input(const std::string& path, std::string& out);

/// Blocks SIGINT and SIGTERM in the calling thread and in every thread it
/// starts from now on. Call first in main, before any thread starts.
sigset_t block_stop_signals();

/// Waits for one of `signals`; returns it.
int wait_for_signal(const sigset_t& signals);

} // namespace orca::tools
