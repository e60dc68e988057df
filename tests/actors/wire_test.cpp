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

TEST_CASE("a remote failure keeps the kind its provider names") {
  wire_provider_reply reply;
  reply.error = "the warehouse did not answer in time";
  SECTION("none named: a provider failure") {
    CHECK(from_wire(reply).code == errc::provider_failure);
  }
  SECTION("a kind it may name") {
    reply.code = "provider_timeout";
    auto r = from_wire(reply);
    CHECK(r.code == errc::provider_timeout);
    CHECK(r.error == "the warehouse did not answer in time");
  }
  SECTION("a kind it may not name: a protocol error that says so") {
    reply.code = "storage_full";
    auto r = from_wire(reply);
    CHECK(r.code == errc::protocol_error);
    CHECK(r.error
          == "the warehouse did not answer in time (unknown failure "
             "kind \"storage_full\")");
  }
}
