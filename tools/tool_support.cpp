#include "tools/tool_support.hpp"

#include <fstream>
#include <iostream>
#include <sstream>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

namespace orca::tools {

std::optional<std::string> read_input(const std::string& path) {
  std::ostringstream buffer;
  if (path == "-") {
    buffer << std::cin.rdbuf();
  } else {
    std::ifstream in{path, std::ios::binary};
    if (!in) {
      std::cerr << "error: " << path << ": cannot read the file\n";
      return std::nullopt;
    }
    buffer << in.rdbuf();
  }
  return buffer.str();
}

std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }
  return std::nullopt;
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

bool is_loopback(const std::string& host) {
  auto loopback = [](const sockaddr* sa) {
    if (sa->sa_family == AF_INET) {
      auto addr =
        ntohl(reinterpret_cast<const sockaddr_in*>(sa)->sin_addr.s_addr);
      return (addr >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6)
      return IN6_IS_ADDR_LOOPBACK(
        &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr);
    return false;
  };
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0)
    return false;
  bool all = found != nullptr;
  for (auto* a = found; a != nullptr; a = a->ai_next)
    if (!loopback(a->ai_addr))
      all = false;
  ::freeaddrinfo(found);
  return all;
}

} // namespace orca::tools
