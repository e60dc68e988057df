#pragma once

// A real child process with its standard output read line by line on a
// thread, for tests that kill processes.

#include <atomic>
#include <chrono>
#include <csignal>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include "support/wait.hpp"

namespace orca::test {

class child_process {
public:
  /// capture_stderr: read standard error instead of standard output.
  explicit child_process(const std::vector<std::string>& args,
                         bool capture_stderr = false) {
    int fds[2];
    if (::pipe(fds) != 0)
      throw std::runtime_error("pipe failed");
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], capture_stderr ? STDERR_FILENO : STDOUT_FILENO);
      ::close(fds[0]);
      ::close(fds[1]);
      std::vector<char*> argv;
      for (const auto& a : args)
        argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    out_ = fds[0];
    reader_ = std::thread{[this] { read_all(); }};
  }

  ~child_process() {
    if (!waited_) {
      kill(SIGKILL);
      wait();
    }
  }

  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  void kill(int sig) {
    ::kill(pid_, sig);
  }

  /// Waits for the process to end; returns its exit code (or 128 + signal).
  int wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    waited_ = true;
    if (reader_.joinable())
      reader_.join();
    if (WIFEXITED(status))
      return WEXITSTATUS(status);
    return 128 + WTERMSIG(status);
  }

  pid_t pid() const {
    return pid_;
  }

  /// Complete lines read so far.
  std::vector<std::string> lines() const {
    std::lock_guard<std::mutex> guard{mutex_};
    return lines_;
  }

  /// Waits (up to `limit`) for a line containing `text`; returns it or "".
  std::string wait_for_line(
    const std::string& text,
    std::chrono::milliseconds limit = std::chrono::seconds(15)) const {
    std::string found;
    eventually(
      [&] {
        std::lock_guard<std::mutex> guard{mutex_};
        for (const auto& l : lines_)
          if (l.find(text) != std::string::npos) {
            found = l;
            return true;
          }
        return false;
      },
      limit, std::chrono::milliseconds(10));
    return found;
  }

  bool has_line(const std::string& line) const {
    std::lock_guard<std::mutex> guard{mutex_};
    for (const auto& l : lines_)
      if (l == line)
        return true;
    return false;
  }

private:
  void read_all() {
    std::string partial;
    char buffer[4096];
    for (;;) {
      auto n = ::read(out_, buffer, sizeof(buffer));
      if (n <= 0)
        break;
      partial.append(buffer, static_cast<std::size_t>(n));
      std::size_t start = 0;
      for (;;) {
        auto nl = partial.find('\n', start);
        if (nl == std::string::npos)
          break;
        std::lock_guard<std::mutex> guard{mutex_};
        lines_.push_back(partial.substr(start, nl - start));
        start = nl + 1;
      }
      partial.erase(0, start);
    }
    ::close(out_);
  }

  pid_t pid_ = -1;
  int out_ = -1;
  bool waited_ = false;
  std::thread reader_;
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

} // namespace orca::test
