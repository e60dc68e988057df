#pragma once

// Runs a program to its end with given arguments and standard input, and
// captures its exit code, standard output and standard error.

#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/files.hpp"

namespace orca::test {

struct run_result {
  int exit_code = -1;
  std::string out;
  std::string err;

  /// Standard output split into lines.
  std::vector<std::string> lines() const {
    std::vector<std::string> result;
    std::size_t start = 0;
    while (start < out.size()) {
      auto nl = out.find('\n', start);
      if (nl == std::string::npos)
        nl = out.size();
      result.push_back(out.substr(start, nl - start));
      start = nl + 1;
    }
    return result;
  }
};

inline run_result run(const std::vector<std::string>& args,
                      const std::string& input = "") {
  temp_dir dir;
  dir.write("in", input);
  auto pid = ::fork();
  if (pid == 0) {
    int in = ::open(dir.file("in").c_str(), O_RDONLY);
    int out =
      ::open(dir.file("out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err =
      ::open(dir.file("err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(in, STDIN_FILENO);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(err, STDERR_FILENO);
    std::vector<char*> argv;
    for (const auto& a : args)
      argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  run_result result;
  result.exit_code =
    WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = read_text(dir.file("out"));
  result.err = read_text(dir.file("err"));
  return result;
}

} // namespace orca::test
