// libFuzzer target: a shop's webhook payload as POST /v1/intake/{source}
// takes it: the signature check, §8's limits, the topic, the example
// Shopify and WooCommerce transforms (libjq), and the order they yield.
// The first byte picks the source and whether the payload is signed, an
// event or an order.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "engine/intake_source.hpp"
#include "flows/order.hpp"

namespace {

orca::source_config source_of(const char* transform) {
  auto file =
    std::string{ORCA_SOURCE_DIR} + "/flows/examples/sources/" + transform;
  std::string program;
  if (FILE* f = std::fopen(file.c_str(), "rb")) {
    char buffer[4096];
    std::size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, f)) > 0)
      program.append(buffer, n);
    std::fclose(f);
  }
  orca::source_config source;
  source.transform_file = file;
  auto compiled = orca::jq_transform::compile(program, file);
  if (!compiled)
    std::abort(); // the example transforms must compile
  source.transform = *compiled;
  source.events = orca::source_events{"X-Topic", {{"gone", "cancel_order"}}};
  return source;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  static const orca::source_config sources[] = {source_of("shopify.jq"),
                                                source_of("woocommerce.jq")};
  if (size == 0)
    return 0;
  auto mode = data[0];
  std::string_view body{reinterpret_cast<const char*>(data + 1), size - 1};
  auto source = sources[mode & 1];
  if ((mode & 2) != 0)
    source.signature =
      orca::source_signature{"X-Sig", "secret",
                             (mode & 8) != 0 ? orca::signature_encoding::base64
                                             : orca::signature_encoding::hex};
  std::vector<std::pair<std::string, std::string>> headers;
  if ((mode & 4) != 0)
    headers.emplace_back("x-topic", "gone");
  if ((mode & 16) != 0)
    headers.emplace_back("X-Sig", std::string{body.substr(0, 64)});
  auto lim = orca::default_limits();
  auto [payload, refusal] = orca::map_payload(source, body, lim, headers);
  if (payload && payload->event.empty())
    (void)orca::order::parse(payload->order_or_id, lim);
  return 0;
}
