// libFuzzer target: every stored record decoder, on bytes as a damaged disk
// could leave them. The first byte picks the decoder. A damaged record must
// be reported as such, never misread into a crash. The journey index's
// reading of a record's state is fuzzed with the journey decoder, and the
// adding of an event to an order's bytes with the order decoder.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string_view>

#include "persistence/records.hpp"

namespace {

/// With ORCA_FUZZ_SEEDS=DIR set, writes one valid record of each kind
/// there (prefixed with its selector byte) as the seed corpus.
void write_seeds(const char* dir) {
  using namespace orca;
  auto put = [dir](char selector, const std::string& name,
                   const std::string& bytes) {
    std::ofstream out{std::string{dir} + "/" + name, std::ios::binary};
    out << selector << bytes;
  };
  flow_record flow;
  flow.name = "Order to invoice";
  flow.draft = R"({"name": "Order to invoice"})";
  flow.latest_version = 2;
  put(0, "flow", encode(flow));
  flow_version_record version;
  version.name = flow.name;
  version.version = 2;
  version.definition = flow.draft;
  put(1, "flow_version", encode(version));
  order_record order;
  order.id = "SO-1001";
  order.text = R"({"id": "SO-1001", "lines": [{"id": "1"}]})";
  order.events = {"new_order", "fulfillment_shipped"};
  put(2, "order", encode(order));
  journey_snapshot snap;
  snap.order_id = "SO-1001";
  snap.flow = flow.name;
  snap.version = 2;
  snap.events = {"new_order"};
  snap.state = journey_state::waiting;
  put(3, "journey", encode(snap));
  journal_entry entry;
  entry.kind = journal_kind::started;
  put(4, "journal", encode(std::vector<journal_entry>{entry, entry}));
  ledger_entry ledger;
  ledger.performed = 1;
  put(5, "ledger", encode(ledger));
  library_policy policy;
  policy.name = "US only";
  policy.json =
    R"({"name": "US only", "when": {"field": "country", "op": "exists"}})";
  put(6, "policy", encode(policy));
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("ORCA_FUZZ_SEEDS"))
    write_seeds(dir);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size == 0)
    return 0;
  std::string_view bytes{reinterpret_cast<const char*>(data) + 1, size - 1};
  const std::string what = "fuzzed record";
  switch (data[0] % 7) {
    case 0: orca::decode<orca::flow_record>(bytes, what); break;
    case 1: orca::decode<orca::flow_version_record>(bytes, what); break;
    case 2: {
      // An event is added to an order's bytes without decoding them; where
      // that is done, the result must read as the record plus the event.
      auto order = orca::decode<orca::order_record>(bytes, what);
      auto cancel = size % 2 == 0;
      auto added = orca::order_with_event(bytes, "shipped", cancel);
      if (!added)
        break;
      auto after = orca::decode<orca::order_record>(*added, what);
      if (!order || !after || after->id != order->id
          || after->text != order->text
          || after->received_on != order->received_on
          || after->events.size() != order->events.size() + 1
          || after->events.back() != "shipped"
          || after->cancelled != (order->cancelled || cancel))
        std::abort();
      break;
    }
    case 3: {
      // The index reads a journey's state from its first fields alone; it
      // must agree with the whole record wherever that reads.
      auto snap = orca::decode<orca::journey_snapshot>(bytes, what);
      auto state = orca::journey_state_in(bytes);
      if (snap && state != snap->state)
        std::abort();
      break;
    }
    case 4: orca::decode<std::vector<orca::journal_entry>>(bytes, what); break;
    case 5: orca::decode<orca::ledger_entry>(bytes, what); break;
    case 6: orca::decode<orca::library_policy>(bytes, what); break;
  }
  return 0;
}
