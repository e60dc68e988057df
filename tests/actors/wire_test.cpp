// A remote provider's answer as the node takes it: over the configured
// answer_bytes it is a failed attempt naming the limit; within it, names in
// it are checked like any provider answer's.

#include <catch2/catch.hpp>

#include "actors/wire.hpp"

using namespace orca;

TEST_CASE(
  "a remote answer over answer_bytes is a failed attempt naming the limit") {
  limits lim;
  lim.answer_bytes = 100;
  wire_provider_reply reply;
  reply.ok = true;
  reply.fulfillment.push_back({"WH-1", {std::string(120, '1')}});
  auto r = from_wire(reply, lim);
  CHECK_FALSE(r.ok);
  CHECK(r.error.find("over the limit of 100 bytes (answer_bytes)")
        != std::string::npos);
  CHECK(r.code == errc::limit_exceeded);
  CHECK(r.fulfillment.empty());
}

TEST_CASE("a remote answer within answer_bytes is taken") {
  limits lim;
  lim.answer_bytes = 100;
  wire_provider_reply reply;
  reply.ok = true;
  reply.invoice_id = "INV-1";
  auto r = from_wire(reply, lim);
  CHECK(r.ok);
  CHECK(r.invoice_id == std::optional<std::string>{"INV-1"});
}
