#include "tools/tool_support.hpp"

#include <fstream>
#include <iostream>
#include <sstream>

#include <pthread.h>

namespace orca::tools {

bool read_input(const std::string& path, std::string& out) {
  std::ostringstream buffer;
  if (path == "-") {
    buffer << std::cin.rdbuf();
  } else {
    std::ifstream in{path, std::ios::binary};
    if (!in)
      return false;
    buffer << in.rdbuf();
  }
  out = buffer.str();
  return true;
}

sigset_t block_stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

int wait_for_signal(const sigset_t& signals) {
  int sig = 0;
  sigwait(&signals, &sig);
  return sig;
}

} // namespace orca::tools
