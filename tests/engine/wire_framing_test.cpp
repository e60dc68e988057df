// The framing the wire guard follows: messages within the limit pass
// however the bytes are cut into reads; one over it is refused as soon as
// its header is complete, with the size it claims. And the screen: a
// message holding a type clients never send (a byte buffer, a nested
// message) is refused before its last byte passes, so CAF never reads it.

#include <catch2/catch.hpp>

#include <string>

#include <caf/all.hpp>

#include "engine/node_protocol.hpp"
#include "flows/errc.hpp"
#include "engine/wire_guard.hpp"

using namespace orca;

namespace {

enum : char { direct = 0x02, routed = 0x03, down = 0x05, heartbeat = 0x06 };

/// A BASP header: 32 bytes, operation `op`, claiming a payload of `length`.
std::string header(uint32_t length, char op = heartbeat) {
  std::string h(32, '\0');
  h[0] = op;
  h[4] = static_cast<char>(length >> 24);
  h[5] = static_cast<char>(length >> 16);
  h[6] = static_cast<char>(length >> 8);
  h[7] = static_cast<char>(length);
  return h;
}

/// A header and its `length` bytes of payload.
std::string message(uint32_t length) {
  return header(length) + std::string(length, 'p');
}

std::shared_ptr<const wire_rules> rules(std::size_t max) {
  return std::make_shared<const wire_rules>(wire_rules{max, node_type_names()});
}

/// An actor system that knows the node's types, to write messages as a
/// client's CAF would. Never torn down: CAF 0.17's teardown at exit, after
/// other static state of the library is gone, frees memory twice.
caf::actor_system& node_types() {
  static caf::actor_system* sys = [] {
    auto* cfg = new caf::actor_system_config;
    cfg->set("logger.verbosity", caf::atom("quiet"));
    register_node_types(*cfg);
    return new caf::actor_system(*cfg);
  }();
  return *sys;
}

/// `xs` as CAF serializes them, in a BASP message of operation `op`.
template <class... Ts>
std::string basp(char op, Ts&&... xs) {
  std::vector<char> buf;
  caf::binary_serializer sink{node_types(), buf};
  if (auto err = sink(std::forward<Ts>(xs)...))
    FAIL("cannot serialize: " << caf::to_string(err));
  return header(static_cast<uint32_t>(buf.size()), op)
    + std::string{buf.begin(), buf.end()};
}

/// A direct message carrying `msg`, as a client's request or answer.
std::string direct_message(caf::message msg) {
  std::vector<caf::strong_actor_ptr> stages;
  return basp(direct, stages, msg);
}

/// Feeds `bytes` in reads of `cut`; true if all of it passes.
bool passes(const std::string& bytes, std::size_t cut = 1 << 20) {
  wire_framing framing{rules(1 << 20)};
  for (std::size_t at = 0; at < bytes.size(); at += cut)
    if (!framing.feed(bytes.data() + at, std::min(cut, bytes.size() - at))) {
      UNSCOPED_INFO("refused: " << framing.refusal());
      return false;
    }
  return true;
}

/// Feeds all of `bytes` but the last byte, then the last; the refusal
/// must come with the last byte, never later, and say `why`.
void refused_at_last_byte(const std::string& bytes, const std::string& why) {
  wire_framing framing{rules(1 << 20)};
  REQUIRE(bytes.size() > 1);
  CHECK(framing.feed(bytes.data(), bytes.size() - 1));
  CHECK_FALSE(framing.feed(bytes.data() + bytes.size() - 1, 1));
  INFO("refusal: " << framing.refusal());
  CHECK(framing.refusal().find(why) != std::string::npos);
}

} // namespace

TEST_CASE("messages within wire_bytes pass in any cut") {
  auto bytes = message(100) + message(0) + message(68);
  for (std::size_t cut :
       {std::size_t{1}, std::size_t{7}, std::size_t{32}, std::size_t{1000}}) {
    wire_framing framing{rules(132)};
    for (std::size_t at = 0; at < bytes.size(); at += cut)
      CHECK(framing.feed(bytes.data() + at, std::min(cut, bytes.size() - at)));
    CHECK(framing.too_large() == 0);
  }
}

TEST_CASE("a message over wire_bytes is refused at its header") {
  wire_framing framing{rules(1024)};
  auto ok = message(10);
  REQUIRE(framing.feed(ok.data(), ok.size()));
  auto huge = header(0x40000000u);
  CHECK(framing.feed(huge.data(), 31));
  CHECK_FALSE(framing.feed(huge.data() + 31, 1));
  CHECK(framing.too_large() == 0x40000000u + 32);
  CHECK(framing.refusal().find("over the limit of 1024 bytes (wire_bytes)")
        != std::string::npos);
  // And it stays refused.
  CHECK_FALSE(framing.feed("x", 1));
}

TEST_CASE("the messages clients send pass the screen in any cut") {
  wire_query q;
  q.flow = "Order to invoice";
  std::string bytes =
    direct_message(caf::make_message(order_submit_atom::value,
                                     std::vector<std::string>{R"({"id":"A"})"}))
    + direct_message(caf::make_message(journey_list_atom::value, q))
    + direct_message(
      caf::make_message(flow_show_atom::value, std::string{"F"}, uint32_t{2}))
    + direct_message(caf::make_message(wire_provider_reply{}))
    // An answer that is an error with a text, as a provider may give.
    + direct_message(
      caf::make_message(make_error(errc::no_such_order, "no order SO-9")))
    // A client actor that ends while the node monitors it.
    + basp(down, node_types().node(), node_types().node(),
           caf::error{caf::exit_reason::normal})
    + message(0);
  for (std::size_t cut : {std::size_t{1}, std::size_t{13}, std::size_t{4096}})
    CHECK(passes(bytes, cut));
}

TEST_CASE("a message holding a type clients never send is refused before "
          "its last byte") {
  SECTION("a byte buffer, whose length CAF allocates before reading") {
    refused_at_last_byte(direct_message(caf::make_message(
                           order_submit_atom::value, std::vector<char>(10))),
                         "holding @charbuf, a type clients never send");
  }
  SECTION("an error whose context holds a byte buffer") {
    refused_at_last_byte(
      direct_message(caf::make_message(caf::make_error(
        caf::sec::runtime_error, caf::make_message(std::vector<char>(3))))),
      "holding @charbuf");
  }
  SECTION("an error inside an error") {
    refused_at_last_byte(
      direct_message(caf::make_message(caf::make_error(
        caf::sec::runtime_error,
        caf::make_message(caf::make_error(caf::sec::runtime_error))))),
      "holding @error");
  }
  SECTION("an error beside other values") {
    refused_at_last_byte(direct_message(caf::make_message(
                           std::string{"x"}, caf::make_error(caf::sec::none))),
                         "holding @error");
  }
  SECTION("a nested message") {
    refused_at_last_byte(direct_message(caf::make_message(
                           uint32_t{1}, caf::make_message(uint32_t{1}))),
                         "holding @message");
  }
  SECTION("a down message whose reason holds a byte buffer") {
    refused_at_last_byte(
      basp(down, node_types().node(), node_types().node(),
           caf::make_error(caf::sec::runtime_error,
                           caf::make_message(std::vector<char>(3)))),
      "holding @charbuf");
  }
  SECTION("a routed message") {
    refused_at_last_byte(basp(routed, std::string{"routed"}),
                         "operation 3, which clients never send");
  }
  SECTION("a forwarding stack") {
    std::vector<caf::strong_actor_ptr> stages{nullptr};
    auto msg = caf::make_message(node_status_atom::value);
    refused_at_last_byte(basp(direct, stages, msg), "forwarding stack");
  }
  SECTION("a payload that is not a message") {
    refused_at_last_byte(header(3, direct) + std::string{"\x00\x07x", 3},
                         "a message that cannot be read");
  }
}

TEST_CASE("a type list longer than the screen reads is refused before the "
          "payload ends") {
  std::vector<std::string> many(1000, "x");
  caf::message msg;
  {
    // 1000 strings: "@<>" and "+@str" 1000 times, over 4096 bytes.
    caf::message_builder b;
    for (auto& s : many)
      b.append(s);
    msg = b.to_message();
  }
  auto bytes = direct_message(msg);
  wire_framing framing{rules(1 << 20)};
  CHECK_FALSE(framing.feed(bytes.data(), 32 + wire_framing::screened_bytes));
  CHECK(framing.refusal().find("do not fit in its first 4096 bytes")
        != std::string::npos);
}
