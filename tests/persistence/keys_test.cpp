#include <catch2/catch.hpp>

#include "persistence/keys.hpp"

using namespace orca;

TEST_CASE("a journey key gives back its parts, and an order's journeys share a "
          "prefix") {
  auto key = journey_key("SO-1", "Order to invoice", 258);
  auto id = journey_id::from_key(key);
  REQUIRE(id);
  CHECK(id->order_id == "SO-1");
  CHECK(id->flow == "Order to invoice");
  CHECK(id->version == 258);
  CHECK(key.rfind(journey_prefix("SO-1"), 0) == 0);
  // "SO-10" is another order: its keys do not start with SO-1's prefix.
  CHECK(journey_key("SO-10", "F", 1).rfind(journey_prefix("SO-1"), 0)
        == std::string::npos);
  CHECK_FALSE(journey_id::from_key("no separator"));
  CHECK_FALSE(journey_id::from_key(std::string("a\0b", 3)));
}

TEST_CASE("keys are the bytes FORMAT.md gives") {
  using namespace std::string_literals;
  CHECK(flow_version_key("F", 258) == "F\0\0\0\x01\x02"s);
  CHECK(journey_key("SO-1", "F", 3) == "SO-1\0F\0\0\0\0\x03"s);
  CHECK(journal_key(journey_key("A", "F", 1), 2)
        == "A\0F\0\0\0\0\x01\0\0\0\0\x02"s);
  CHECK(journey_state_key("F", 2, "A", 1)
        == "F\0\x02"
           "A\0\0\0\0\x01"s);
  CHECK(journal_expiry_key(258, "K") == "\0\0\0\0\0\0\x01\x02K"s);
}

TEST_CASE("a journey's index key is built the same from its journey key as "
          "from its parts") {
  auto key = journey_key("SO-1", "Order to invoice", 258);
  CHECK(journey_state_key(key, 3)
        == journey_state_key("Order to invoice", 3, "SO-1", 258));
  auto entry = journey_state_entry::from_key(journey_state_key(key, 3));
  REQUIRE(entry);
  CHECK(entry->state == 3);
  CHECK(entry->id.order_id == "SO-1");
  CHECK(entry->id.flow == "Order to invoice");
  CHECK(entry->id.version == 258);
  CHECK(journey_state_key("no separator", 3).empty());
  CHECK(journey_state_key(std::string("a\0b", 3), 3).empty());
}

TEST_CASE("numbers in keys sort in numeric order") {
  // Version 256 after 255, chunk 1 after 0, a later end after an earlier.
  CHECK(flow_version_key("F", 255) < flow_version_key("F", 256));
  CHECK(journal_key("J", 0) < journal_key("J", 1));
  CHECK(journal_key("J", 1).rfind(journal_prefix("J"), 0) == 0);
  CHECK(journal_expiry_key(1000, "J") < journal_expiry_key(70000, "A"));
  auto e = journal_expiry::from_key(journal_expiry_key(1700000000123, "K"));
  REQUIRE(e);
  CHECK(e->ended_on == 1700000000123);
  CHECK(e->journey_key == "K");
  CHECK_FALSE(journal_expiry::from_key("short"));
  CHECK(provider_call_key("dom", "SO-1/F/1/Pick")
          .rfind(provider_call_prefix("dom"), 0)
        == 0);
}

TEST_CASE("fixed-width integers read back as written, in either byte order") {
  std::string be, le;
  put_be(be, 0x0102030405060708, 8);
  put_le(le, 0x0102030405060708, 8);
  CHECK(be[0] == 0x01);
  CHECK(le[0] == 0x08);
  CHECK(get_be(be, 0, 8) == 0x0102030405060708);
  CHECK(get_le(le, 0, 8) == 0x0102030405060708);
  CHECK(get_be(be, 4, 4) == 0x05060708);
}

TEST_CASE("a little-endian integer written over bytes leaves its neighbours") {
  std::string bytes = "abcdefgh";
  set_le(bytes.data() + 2, 0x31323334, 4);
  CHECK(bytes == "ab4321gh");
  CHECK(get_le(bytes, 2, 4) == 0x31323334);
}
