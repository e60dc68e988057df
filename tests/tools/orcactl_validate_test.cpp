#include <catch2/catch.hpp>

#include <array>
#include <cstdio>
#include <sys/wait.h>

#include "support/files.hpp"

namespace {

struct run_result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// Runs orcactl with `args` (already shell-quoted) and captures its output.
run_result orcactl(const std::string& args) {
  orca::test::temp_dir dir;
  std::string cmd = std::string{ORCACTL_PATH} + " " + args + " >"
    + dir.file("out") + " 2>" + dir.file("err");
  int status = std::system(cmd.c_str());
  run_result result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = orca::test::read_text(dir.file("out"));
  result.err = orca::test::read_text(dir.file("err"));
  return result;
}

} // namespace

TEST_CASE("orcactl flow validate prints the tree of a valid flow and exits 0") {
  auto r = orcactl("flow validate '"
                   + orca::test::example_path("order-to-invoice.json") + "'");
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
  CHECK(r.out.find("Order to invoice (order flow, 9 steps)")
        != std::string::npos);
  CHECK(r.out.find("└── Valid?: condition_merge") != std::string::npos);
  CHECK(r.out.find("│   │   │   └── Ship it: send_to_fulfillment → fulfillment")
        != std::string::npos);
  CHECK(r.out.find("└── Notify customer service: custom → notify")
        != std::string::npos);
}

TEST_CASE("orcactl flow validate names an unknown field and exits 3") {
  orca::test::temp_dir dir;
  dir.write("typo.json", R"({"name": "T", "type": "order",
    "steps": [{"action": "send_to_dom", "name": "D", "retyr": {}}]})");
  auto r = orcactl("flow validate '" + dir.file("typo.json") + "'");
  CHECK(r.exit_code == 3);
  CHECK(r.out.empty());
  CHECK(r.err.find("error: " + dir.file("typo.json")
                   + ": steps[0] \"D\".retyr: unknown field \"retyr\"")
        == 0);
}

TEST_CASE("orcactl flow validate reports text that is not JSON and exits 3") {
  orca::test::temp_dir dir;
  dir.write("broken.json", "{\"name\": \"T\",\n  oops}");
  auto r = orcactl("flow validate '" + dir.file("broken.json") + "'");
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("broken.json: line 2, column 3") != std::string::npos);
}

TEST_CASE("orcactl usage errors exit 2") {
  CHECK(orcactl("flow validate").exit_code == 2);
  CHECK(orcactl("flow frobnicate x").exit_code == 2);
  CHECK(orcactl("").exit_code == 2);
  auto missing = orcactl("flow validate /nonexistent/flow.json");
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("error: /nonexistent/flow.json") == 0);
}

TEST_CASE("orcactl --json flow validate prints one JSON object") {
  auto r =
    orcactl("--json flow validate '"
            + orca::test::example_path("test-order-flow-sample.json") + "'");
  CHECK(r.exit_code == 0);
  CHECK(r.out
        == "{\"file\":\""
          + orca::test::example_path("test-order-flow-sample.json")
          + "\",\"valid\":true,\"name\":\"Test Order flow sample\","
            "\"steps\":3,\"errors\":[]}\n");
}

TEST_CASE("a file orcactl or orcad cannot read is named, with exit 2") {
  auto missing = orca::test::temp_dir{}.file("no-such.json");
  for (const auto& args :
       {"flow validate '" + missing + "'",
        "flow validate --policies '" + missing + "' '"
          + orca::test::example_path("order-to-invoice.json") + "'"}) {
    auto r = orcactl(args);
    CHECK(r.exit_code == 2);
    CHECK(r.err == "error: " + missing + ": cannot read the file\n");
  }
  orca::test::temp_dir data;
  std::string cmd = std::string{ORCAD_PATH} + " --data " + data.file("data")
    + " --config '" + missing + "' 2>" + data.file("err");
  int status = std::system(cmd.c_str());
  CHECK((WIFEXITED(status) ? WEXITSTATUS(status) : -1) == 2);
  CHECK(orca::test::read_text(data.file("err"))
        == "error: " + missing + ": cannot read the file\n");
}
