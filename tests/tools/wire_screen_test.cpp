// A client that forges a message CAF would read into a 4 GiB buffer: a
// real CAF client sends, over a real connection to orcad, a value whose
// type says "@charbuf" (a byte buffer) and whose length says 4 GiB, inside
// an error's context as a fuzzer found it and at the top of a request.
// The node's wire guard cuts the client off before CAF reads it: the node
// stays small, says why in its log, and goes on answering.

#include <catch2/catch.hpp>

#include <fstream>
#include <string>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "engine/client.hpp"
#include "engine/node_protocol.hpp"
#include "support/node_process.hpp"

using namespace orca::test;

namespace {

/// Written as a byte buffer that claims `claimed` bytes and holds none.
struct forged_buffer {
  uint32_t claimed = 0xfffffff0u;
};

caf::error inspect(caf::serializer& f, forged_buffer& x) {
  std::size_t n = x.claimed;
  return caf::error::eval([&] { return f.begin_sequence(n); },
                          [&] { return f.end_sequence(); });
}

caf::error inspect(caf::deserializer&, forged_buffer&) {
  return caf::sec::invalid_argument; // only ever sent
}

/// The node's peak resident memory in KiB (VmHWM), or 0.
std::size_t peak_kib(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0)
      return std::stoul(line.substr(6));
  return 0;
}

/// A CAF client whose forged_buffer goes out under the name of CAF's own
/// byte buffer type.
struct forging_client {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::actor node;

  explicit forging_client(const node_process& n) {
    orca::speak_node_protocol(cfg);
    cfg.set("logger.verbosity", caf::atom("quiet"));
    cfg.add_message_type<forged_buffer>("@charbuf");
    sys = std::make_unique<caf::actor_system>(cfg);
    std::string host;
    uint16_t port = 0;
    REQUIRE_FALSE(orca::parse_endpoint(n.address(), host, port));
    auto found = sys->middleman().remote_actor(host, port);
    REQUIRE(found);
    node = *found;
  }
};

} // namespace

TEST_CASE("a forged byte buffer of 4 GiB cuts its client off and the node "
          "stays small") {
  node_process node{R"({"providers": {"notify": {"kind": "simulated"}}})"};
  auto before = peak_kib(node.pid());
  REQUIRE(before > 0);
  SECTION("inside an error's context, as an answer") {
    forging_client c{node};
    caf::anon_send(c.node,
                   caf::make_error(caf::sec::runtime_error,
                                   caf::make_message(forged_buffer{})));
    CHECK_FALSE(node.wait_for_log("holding @charbuf").empty());
  }
  SECTION("at the top of a request") {
    forging_client c{node};
    caf::scoped_actor self{*c.sys};
    self
      ->request(c.node, std::chrono::seconds(5), orca::order_submit_atom::value,
                forged_buffer{})
      .receive([](const caf::message&) { FAIL("the node answered"); },
               [](const caf::error&) {});
    CHECK_FALSE(node.wait_for_log("holding @charbuf").empty());
  }
  // The node read none of it: its peak memory grew by far less than the
  // 4 GiB claimed, and it answers the next client.
  CHECK(peak_kib(node.pid()) < before + 256 * 1024);
  CHECK(node.ctl({"node", "status"}).exit_code == 0);
  REQUIRE(node.stop() == 0);
  bool said = false;
  for (const auto& line : node.log())
    if (line.find("sent a message holding @charbuf, a type clients never "
                  "send: it is cut off")
        != std::string::npos)
      said = true;
  CHECK(said);
}
