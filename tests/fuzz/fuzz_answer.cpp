// libFuzzer target: provider answers, as the http provider reads a body
// (the first byte picks the action whose answer it is).

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "actors/provider_protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size == 0)
    return 0;
  std::string_view body{reinterpret_cast<const char*>(data) + 1, size - 1};
  auto action = data[0] % 2 == 0 ? orca::action_kind::send_to_dom
                                 : orca::action_kind::send_to_invoice;
  orca::reply_from_json(action, body);
  return 0;
}
