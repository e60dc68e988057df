// libFuzzer target: the framing the wire guard follows in what a client
// sends on the node's CAF port. The first two bytes set the limit; the rest
// is fed once whole and once cut into reads of sizes the bytes choose: both
// must come to the same verdict and refusal, and a refusal for size must
// name a size over the limit.

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "engine/node_protocol.hpp"
#include "engine/wire_guard.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size < 2)
    return 0;
  std::size_t max = (std::size_t{data[0]} << 8 | data[1]) + 1;
  const char* bytes = reinterpret_cast<const char*>(data + 2);
  std::size_t n = size - 2;
  auto rules = std::make_shared<const orca::wire_rules>(
    orca::wire_rules{max, orca::node_type_names()});
  orca::wire_framing whole{rules};
  bool whole_ok = whole.feed(bytes, n);
  orca::wire_framing pieces{rules};
  bool pieces_ok = true;
  std::size_t at = 0;
  std::size_t step = 0;
  while (at < n && pieces_ok) {
    auto len = std::min<std::size_t>(n - at, 1 + data[2 + step % n] % 37);
    pieces_ok = pieces.feed(bytes + at, len);
    at += len;
    ++step;
  }
  if (whole_ok != pieces_ok || whole.too_large() != pieces.too_large()
      || whole.refusal() != pieces.refusal()
      || whole_ok != whole.refusal().empty())
    std::abort();
  if (whole.too_large() != 0 && whole.too_large() <= max)
    std::abort();
  return 0;
}
