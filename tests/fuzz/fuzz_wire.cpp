// libFuzzer target: the node's wire messages. Bytes as a remote client
// could send them (the content of a direct message) pass the wire guard's
// screen, as on the node's port, and what it lets through is deserialized
// the way CAF's BASP layer does before a message reaches the node actor,
// with every type the node registers.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

#include <caf/all.hpp>

#include "engine/node.hpp"
#include "engine/node_protocol.hpp"
#include "engine/wire_guard.hpp"
#include "flows/errc.hpp"
#include "flows/limits.hpp"

namespace {

/// One actor system for the whole run, never torn down: libFuzzer ends the
/// process with exit(), and CAF's teardown then would race its own threads.
caf::actor_system& node_types() {
  static caf::actor_system* sys = [] {
    auto* cfg = new caf::actor_system_config;
    cfg->set("logger.verbosity", caf::atom("quiet"));
    cfg->set("scheduler.max-threads", 1);
    orca::register_node_types(*cfg);
    return new caf::actor_system(*cfg);
  }();
  return *sys;
}

/// With ORCA_FUZZ_SEEDS=DIR set, writes messages a client sends as seeds.
void write_seeds(const char* dir) {
  auto put = [dir](const std::string& name, caf::message msg) {
    std::vector<char> buf;
    caf::binary_serializer sink{node_types(), buf};
    if (sink(msg))
      return;
    std::ofstream out{std::string{dir} + "/" + name, std::ios::binary};
    out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
  };
  put("submit",
      caf::make_message(
        orca::order_submit_atom::value,
        std::vector<std::string>{R"({"id": "SO-1", "lines": []})"}));
  put("event",
      caf::make_message(orca::order_event_atom::value, std::string{"SO-1"},
                        std::string{"fulfillment_shipped"}));
  orca::wire_query q;
  q.flow = "Order to invoice";
  q.limit = 10;
  put("list", caf::make_message(orca::journey_list_atom::value, q));
  put("status", caf::make_message(orca::node_status_atom::value));
  put("error-answer",
      caf::make_message(
        orca::make_error(orca::errc::no_such_order, "no order SO-1")));
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("ORCA_FUZZ_SEEDS"))
    write_seeds(dir);
  return 0;
}

/// The wire guard's rules on a node with the default limits.
bool passes_the_guard(const uint8_t* data, std::size_t size) {
  static const auto rules =
    std::make_shared<const orca::wire_rules>(orca::wire_rules{
      orca::default_limits().wire_bytes, orca::node_type_names()});
  // A direct message: a BASP header, an empty forwarding stack, the bytes.
  auto length = static_cast<uint32_t>(size + 1);
  std::string message(orca::wire_framing::header_bytes, '\0');
  message[0] = 0x02;
  for (int i = 0; i < 4; ++i)
    message[4 + i] = static_cast<char>(length >> (24 - 8 * i));
  message.push_back('\0');
  message.append(reinterpret_cast<const char*>(data), size);
  orca::wire_framing framing{rules};
  return framing.feed(message.data(), message.size());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (!passes_the_guard(data, size))
    return 0;
  caf::binary_deserializer source{node_types(),
                                  reinterpret_cast<const char*>(data), size};
  caf::message msg;
  // CAF 0.17's deserializer reports some malformed input by throwing (a
  // caf::config_value with a bad variant index, for one): the node's wire
  // layer must survive that, so it counts as refused input here.
  try {
    if (auto err = source(msg))
      return 0;
  } catch (const std::exception&) {
    return 0;
  }
  // What the node does with what arrived: match it against its handlers
  // (an unexpected message is dropped unread, see engine/node.cpp).
  if (!msg.empty())
    (void)msg.match_element<std::string>(0);
  (void)msg.type_token();
  return 0;
}
