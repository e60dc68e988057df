#include "tools/orca_bench.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <malloc.h>
#include <unistd.h>

#include "tools/tool_support.hpp"

// tcmalloc's C interface, weak so that the benchmark also runs on glibc's
// malloc (under the sanitizers, say).
extern "C" void MallocExtension_ReleaseFreeMemory() __attribute__((weak));

namespace orca::bench {

void release_free_heap() {
  if (MallocExtension_ReleaseFreeMemory != nullptr)
    MallocExtension_ReleaseFreeMemory();
  else
    ::malloc_trim(0);
}

std::string read_file(const std::string& path) {
  auto text = orca::tools::read_input(path); // says why if it cannot
  if (!text)
    throw std::runtime_error("no flow or orders to run");
  return *text;
}

std::size_t status_bytes(const std::string& field) {
  std::ifstream status{"/proc/self/status"};
  std::string line;
  while (std::getline(status, line))
    if (line.rfind(field + ":", 0) == 0)
      return std::stoul(line.substr(field.size() + 1)) * 1024;
  return 0;
}

std::size_t peak_rss() {
  return status_bytes("VmHWM");
}

std::string make_temp_dir(const char* stem) {
  std::string pattern = std::string{"/tmp/"} + stem + "-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr)
    throw std::runtime_error("cannot make a temporary directory");
  return pattern;
}

void remove_dir(const std::string& dir) {
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

std::vector<std::string> templates(const std::string& path) {
  std::vector<std::string> result;
  std::istringstream lines{read_file(path)};
  std::string line;
  while (std::getline(lines, line)) {
    auto at = line.find("\"id\": \"");
    if (at == std::string::npos)
      continue;
    auto end = line.find('"', at + 7);
    result.push_back(line.substr(0, at + 7) + "@" + line.substr(end));
  }
  return result;
}

std::string make_order(const std::vector<std::string>& tmpl, std::size_t i) {
  const auto& t = tmpl[i % tmpl.size()];
  auto at = t.find('@');
  return t.substr(0, at) + "B-" + std::to_string(i) + t.substr(at + 1);
}

engine_options engine_options_for(const options& opts, const std::string& dir) {
  engine_options eo;
  eo.data_dir = dir;
  eo.threads = opts.threads;
  eo.scheduler = opts.scheduler;
  eo.durable = opts.durable;
  eo.config.providers["notify"] = provider_config{};
  return eo;
}

std::unique_ptr<Engine> open_with_flow(const options& opts, engine_options eo) {
  auto engine = Engine::open(std::move(eo));
  if (!engine)
    throw std::runtime_error(describe(engine.error()));
  auto created =
    (*engine)->create_flow(read_file(opts.flow_file), opts.flow_file);
  if (!created)
    throw std::runtime_error(describe(created.error()));
  if (auto v = (*engine)->publish_flow(created->name); !v)
    throw std::runtime_error(describe(v.error()));
  return std::move(*engine);
}

double percentile(std::vector<double>& sorted, double p) {
  if (sorted.empty())
    return 0;
  auto index = static_cast<std::size_t>(p * (sorted.size() - 1));
  return sorted[index];
}

} // namespace orca::bench
