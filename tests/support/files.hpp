#pragma once

// Test helpers: example files, temporary directories, reading files.

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>

#include <unistd.h>

namespace orca::test {

inline std::string read_text(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    throw std::runtime_error("cannot read " + path);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

inline std::string example_path(const std::string& name) {
  return std::string{ORCA_SOURCE_DIR} + "/flows/examples/" + name;
}

inline std::string example(const std::string& name) {
  return read_text(example_path(name));
}

/// A fresh directory under /tmp, removed with everything in it at the end
/// unless ORCA_KEEP_TEST_DIRS is set (then its path is printed, so that a
/// failed soak run can be looked into).
class temp_dir {
public:
  temp_dir() {
    char pattern[] = "/tmp/orca-test-XXXXXX";
    if (::mkdtemp(pattern) == nullptr)
      throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~temp_dir() {
    if (std::getenv("ORCA_KEEP_TEST_DIRS") != nullptr) {
      std::cerr << "kept " << path_ << "\n";
      return;
    }
    std::string cmd = "rm -rf '" + path_ + "'";
    [[maybe_unused]] int rc = std::system(cmd.c_str());
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::string& path() const {
    return path_;
  }

  std::string file(const std::string& name) const {
    return path_ + "/" + name;
  }

  void write(const std::string& name, const std::string& text) const {
    std::ofstream out{file(name), std::ios::binary};
    out << text;
  }

private:
  std::string path_;
};

} // namespace orca::test
