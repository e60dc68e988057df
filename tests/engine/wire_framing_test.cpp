// The framing the wire guard follows: messages within the limit pass
// however the bytes are cut into reads; one over it is refused as soon as
// its header is complete, with the size it claims.

#include <catch2/catch.hpp>

#include <string>

#include "engine/wire_guard.hpp"

using namespace orca;

namespace {

/// A BASP-like header: 32 bytes claiming a payload of `length`.
std::string header(uint32_t length) {
  std::string h(32, '\0');
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

} // namespace

TEST_CASE("messages within wire_bytes pass in any cut") {
  auto bytes = message(100) + message(0) + message(68);
  for (std::size_t cut :
       {std::size_t{1}, std::size_t{7}, std::size_t{32}, std::size_t{1000}}) {
    wire_framing framing{132};
    for (std::size_t at = 0; at < bytes.size(); at += cut)
      CHECK(framing.feed(bytes.data() + at, std::min(cut, bytes.size() - at)));
    CHECK(framing.too_large() == 0);
  }
}

TEST_CASE("a message over wire_bytes is refused at its header") {
  wire_framing framing{1024};
  auto ok = message(10);
  REQUIRE(framing.feed(ok.data(), ok.size()));
  auto huge = header(0x40000000u);
  CHECK(framing.feed(huge.data(), 31));
  CHECK_FALSE(framing.feed(huge.data() + 31, 1));
  CHECK(framing.too_large() == 0x40000000u + 32);
  // And it stays refused.
  CHECK_FALSE(framing.feed("x", 1));
}
