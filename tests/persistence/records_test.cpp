#include <catch2/catch.hpp>

#include "flows/flow.hpp"
#include "persistence/journey_record.hpp"
#include "persistence/records.hpp"

using namespace orca;

namespace {

flow_record sample() {
  flow_record r;
  r.name = "Order to invoice";
  r.created_on = 1700000000000;
  r.updated_on = 1700000000123;
  r.status = flow_status::published;
  r.paused = true;
  r.latest_version = 3;
  r.draft_version = 3;
  r.draft = R"({"name": "Order to invoice"})";
  r.pauses.paused_on = 1700000000100;
  r.pauses.paused_ms = 4500;
  r.cancel_epoch = 2;
  r.resumed_on = 1700000000050;
  r.resumed_to = 2;
  return r;
}

} // namespace

TEST_CASE("a flow record survives encoding and decoding") {
  auto bytes = encode(sample());
  auto back = decode<flow_record>(bytes, "flows/x");
  REQUIRE(back);
  CHECK(back->name == sample().name);
  CHECK(back->created_on == sample().created_on);
  CHECK(back->status == flow_status::published);
  CHECK(back->paused);
  CHECK(back->latest_version == 3);
  CHECK(back->draft == sample().draft);
  CHECK(back->pauses.paused_on == sample().pauses.paused_on);
  CHECK(back->pauses.paused_ms == 4500);
  CHECK(back->cancel_epoch == 2);
  CHECK(back->resumed_on == sample().resumed_on);
  CHECK(back->resumed_to == 2);
}

/// The current payload of sample() without the last `bytes`, sealed as
/// `version` (each version only added fields at the end).
std::string older_flow_record(uint16_t version, std::size_t bytes) {
  auto current = encode(sample());
  auto payload = current.substr(format::record_header_size);
  payload.resize(payload.size() - bytes);
  return detail::seal(format::record_tag::flow, version, payload);
}

constexpr std::size_t added_in_3 = sizeof(int64_t) + sizeof(uint32_t);
constexpr std::size_t added_in_2 = 2 * sizeof(int64_t) + sizeof(uint32_t);

TEST_CASE("a flow record of version 2 is read with no resume") {
  auto back = decode<flow_record>(older_flow_record(2, added_in_3), "flows/x");
  REQUIRE(back);
  CHECK(back->pauses.paused_ms == 4500);
  CHECK(back->cancel_epoch == 2);
  CHECK(back->resumed_on == 0);
  CHECK(back->resumed_to == 0);
}

TEST_CASE("a flow record of version 1 is read with no pause time") {
  // Version 1 ended with the draft.
  auto back = decode<flow_record>(older_flow_record(1, added_in_2 + added_in_3),
                                  "flows/x");
  REQUIRE(back);
  CHECK(back->draft == sample().draft);
  CHECK(back->paused);
  CHECK(back->pauses.paused_on == 0);
  CHECK(back->pauses.paused_ms == 0);
  CHECK(back->cancel_epoch == 0);
  CHECK(back->resumed_to == 0);
}

TEST_CASE("a truncated record is reported as damaged") {
  auto bytes = encode(sample());
  for (std::size_t keep : {std::size_t{0}, std::size_t{5}, bytes.size() - 1}) {
    auto back = decode<flow_record>(bytes.substr(0, keep), "flows/x");
    REQUIRE_FALSE(back);
    CHECK(back.error() == errc::corrupt_record);
    CHECK(describe(back.error()).find("record flows/x is damaged")
          != std::string::npos);
  }
}

TEST_CASE("a flipped byte anywhere in a record is detected") {
  auto bytes = encode(sample());
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    auto damaged = bytes;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x10);
    auto back = decode<flow_record>(damaged, "flows/x");
    INFO("byte " << i);
    CHECK_FALSE(back);
  }
}

TEST_CASE("a record of the wrong kind or a newer version is refused") {
  flow_version_record v{"F", 1, 5, "{}"};
  auto wrong = decode<flow_record>(encode(v), "flows/x");
  REQUIRE_FALSE(wrong);
  CHECK(describe(wrong.error()).find("record kind 2 where 1 was expected")
        != std::string::npos);
  auto newer = detail::seal(format::record_tag::flow,
                            format::flow_record_version + 1, "payload");
  auto refused = decode<flow_record>(newer, "flows/x");
  REQUIRE_FALSE(refused);
  CHECK(refused.error() == errc::store_too_new);
}

TEST_CASE("a checksummed record whose lengths lie is refused before anything "
          "is sized by them") {
  // A payload that claims an order id of 2^40 bytes, sealed with a right
  // checksum: what a bug or a forged write could leave.
  std::string payload(8, '\0');
  payload[5] = 1; // little-endian 2^40
  payload += "short";
  auto record = detail::seal(format::record_tag::order,
                             format::order_record_version, payload);
  auto decoded = decode<order_record>(record, "orders/\"X\"");
  REQUIRE_FALSE(decoded);
  CHECK(describe(decoded.error())
        == "record orders/\"X\" is damaged: a length of 1099511627776 where "
           "5 bytes are left");
}

TEST_CASE("a journey that has run no step yet is shown as running") {
  auto parsed = orca::parse_flow(R"({"name": "F", "type": "order", "steps": [
    {"action": "custom", "name": "Call", "provider": "notify"}]})");
  REQUIRE(parsed.model);
  orca::journey_snapshot s;
  s.order_id = "A";
  s.flow = "F";
  s.version = 1;
  s.state = orca::journey_state::received;
  CHECK(orca::make_record(s, *parsed.model).state
        == orca::journey_state::running);
  for (auto kept : {orca::journey_state::running, orca::journey_state::waiting,
                    orca::journey_state::paused, orca::journey_state::completed,
                    orca::journey_state::failed, orca::journey_state::cancelled,
                    orca::journey_state::skipped}) {
    s.state = kept;
    CHECK(orca::make_record(s, *parsed.model).state == kept);
  }
}

TEST_CASE("the index reads a journey's state from its record's first fields") {
  journey_snapshot s;
  s.flow = "Order to invoice";
  s.version = 3;
  for (const std::string& order_id :
       {std::string{"A"}, std::string(300, 'x'), std::string{}}) {
    s.order_id = order_id;
    for (auto state : {journey_state::received, journey_state::running,
                       journey_state::waiting, journey_state::paused,
                       journey_state::completed, journey_state::failed,
                       journey_state::cancelled, journey_state::skipped}) {
      s.state = state;
      auto record = encode(s);
      CHECK(journey_state_in(record) == state);
      // Cut, or with the state's own byte changed, the record is not read:
      // the lengths hold, the checksum does not.
      CHECK_FALSE(journey_state_in(record.substr(0, record.size() - 1)));
      auto state_at = format::record_header_size + 8 + order_id.size() + 8
        + s.flow.size() + 4;
      REQUIRE(static_cast<journey_state>(record[state_at]) == state);
      record[state_at] ^= 0x01;
      CHECK_FALSE(journey_state_in(record));
    }
  }
  // A record whose checksum holds but whose flow's length runs past its end.
  std::string payload(8, '\0');
  payload[0] = 1;
  payload += "A";
  payload += std::string(8, '\0');
  payload[9 + 1] = 1; // a flow of 256 bytes, where 5 follow
  payload += "F";
  payload += std::string(4, '\0');
  CHECK_FALSE(journey_state_in(detail::seal(
    format::record_tag::journey, format::journey_record_version, payload)));
  // A record of another kind.
  order_record order;
  order.id = "A";
  CHECK_FALSE(journey_state_in(encode(order)));
}

TEST_CASE("an event is added to an order record's bytes as encoding would "
          "write it") {
  for (const std::string& id : {std::string{"A"}, std::string(300, 'i')})
    for (const std::string& text : {std::string{"{}"}, std::string(70000, ' ')})
      for (std::size_t events = 0; events < 3; ++events)
        for (bool cancelled : {false, true})
          for (bool cancel : {false, true}) {
            order_record before;
            before.id = id;
            before.text = text;
            before.received_on = 1700000000123;
            for (std::size_t i = 0; i < events; ++i)
              before.events.push_back("event " + std::to_string(i));
            before.cancelled = cancelled;
            auto after = before;
            auto type = cancel ? "cancel_order" : "fulfillment_shipped";
            after.events.push_back(type);
            after.cancelled = cancelled || cancel;
            CHECK(order_with_event(encode(before), type, cancel)
                  == encode(after));
          }
}

TEST_CASE("an order record that does not read in full takes no event in its "
          "bytes") {
  order_record order;
  order.id = "A";
  order.text = "{}";
  order.events = {"fulfillment_shipped"};
  auto record = encode(order);
  CHECK_FALSE(
    order_with_event(record.substr(0, record.size() - 1), "e", false));
  auto flipped = record;
  flipped.back() ^= 1;
  CHECK_FALSE(order_with_event(flipped, "e", false));
  auto payload = record.substr(format::record_header_size);
  // A byte too many after cancelled, or an event count that runs past the
  // end, both under a checksum that holds.
  CHECK_FALSE(
    order_with_event(detail::seal(format::record_tag::order,
                                  format::order_record_version, payload + '\0'),
                     "e", false));
  // Lengths that run past the end: the id's, the text's, the event
  // count, an event's.
  for (std::size_t at : {0, 8 + 1, 8 + 1 + 8 + 2 + 8, 8 + 1 + 8 + 2 + 8 + 8}) {
    auto lying = payload;
    lying[at + 1] = 1; // 256 more
    CHECK_FALSE(
      order_with_event(detail::seal(format::record_tag::order,
                                    format::order_record_version, lying),
                       "e", false));
  }
  auto huge = payload;
  huge[8 + 1 + 8 + 2 + 8 + 7] = 0x7f; // an event count near 2^63
  CHECK_FALSE(order_with_event(
    detail::seal(format::record_tag::order, format::order_record_version, huge),
    "e", false));
  journey_snapshot journey;
  CHECK_FALSE(order_with_event(encode(journey), "e", false));
}

TEST_CASE("a journey record of version 1 is read as not cut by a cancel") {
  journey_snapshot s;
  s.order_id = "A";
  s.flow = "F";
  s.version = 1;
  s.state = journey_state::waiting;
  s.journal_chunks = 7;
  s.cut_by_cancel = true;
  auto v2 = encode(s);
  auto back = decode<journey_snapshot>(v2, "journeys/x");
  REQUIRE(back);
  CHECK(back->cut_by_cancel);
  // Version 1 ended with journal_chunks.
  auto payload = v2.substr(format::record_header_size);
  payload.resize(payload.size() - sizeof(bool) - sizeof(uint32_t));
  auto v1 = detail::seal(format::record_tag::journey, 1, payload);
  auto old = decode<journey_snapshot>(v1, "journeys/x");
  REQUIRE(old);
  CHECK(old->journal_chunks == 7);
  CHECK_FALSE(old->cut_by_cancel);
}

TEST_CASE("a journal chunk of version 1 is read with no error codes") {
  journal_entry timed_out;
  timed_out.kind = journal_kind::provider_answered;
  timed_out.step = 3;
  timed_out.attempt = 2;
  timed_out.text = "timed out after 50 ms";
  timed_out.code = errc::provider_timeout;
  journal_entry ended = timed_out;
  ended.kind = journal_kind::step_ended;
  ended.outcome = step_outcome::failed;
  ended.code = errc::protocol_error;
  auto v2 = encode(std::vector<journal_entry>{timed_out, ended});
  auto back = decode<std::vector<journal_entry>>(v2, "journal/x");
  REQUIRE(back);
  REQUIRE(back->size() == 2);
  CHECK((*back)[0].code == errc::provider_timeout);
  CHECK((*back)[1].code == errc::protocol_error);
  // Version 1: each entry as now, less its last byte (the code).
  auto entry_v1 = [](const journal_entry& e) {
    auto one = encode(std::vector<journal_entry>{e});
    return one.substr(format::record_header_size + sizeof(uint64_t),
                      one.size() - format::record_header_size - sizeof(uint64_t)
                        - 1);
  };
  std::string payload(sizeof(uint64_t), '\0');
  payload[0] = 2; // two entries (u64, little endian)
  payload += entry_v1(timed_out) + entry_v1(ended);
  auto v1 = detail::seal(format::record_tag::journal_entry, 1, payload);
  auto old = decode<std::vector<journal_entry>>(v1, "journal/x");
  REQUIRE(old);
  REQUIRE(old->size() == 2);
  CHECK((*old)[0].code == errc{});
  CHECK((*old)[0].text == "timed out after 50 ms");
  CHECK((*old)[1].kind == journal_kind::step_ended);
  CHECK((*old)[1].code == errc{});
  CHECK((*old)[1].attempt == 2);
}

TEST_CASE("a journey record of version 2 is read with no error codes") {
  journey_snapshot s;
  s.order_id = "A";
  s.flow = "F";
  s.version = 1;
  s.state = journey_state::failed;
  auto without_steps = encode(s);
  s.steps.push_back(step_result{2, step_outcome::failed, 5, "HTTP 503", 1700,
                                errc::provider_failure});
  auto v3 = encode(s);
  auto back = decode<journey_snapshot>(v3, "journeys/x");
  REQUIRE(back);
  REQUIRE(back->steps.size() == 1);
  CHECK(back->steps[0].error_code == errc::provider_failure);
  // Version 2: the step result less its last byte (the code). The steps
  // list begins where the two encodings first differ (its count).
  auto count_at = static_cast<std::size_t>(
    std::mismatch(without_steps.begin() + format::record_header_size,
                  without_steps.end(), v3.begin() + format::record_header_size)
      .second
    - v3.begin());
  auto step_bytes = v3.size() - without_steps.size();
  auto payload = v3.substr(format::record_header_size);
  payload.erase(count_at - format::record_header_size + sizeof(uint64_t)
                  + step_bytes - 1,
                1);
  auto v2 = detail::seal(format::record_tag::journey, 2, payload);
  auto old = decode<journey_snapshot>(v2, "journeys/x");
  REQUIRE(old);
  REQUIRE(old->steps.size() == 1);
  CHECK(old->steps[0].error == "HTTP 503");
  CHECK(old->steps[0].ended_on == 1700);
  CHECK(old->steps[0].error_code == errc{});
  CHECK(old->state == journey_state::failed);
}

TEST_CASE("a journey record of version 2 with live paths is read with no "
          "error codes, and what follows the paths is read in place") {
  journey_snapshot s;
  s.order_id = "A";
  s.flow = "F";
  s.version = 1;
  s.state = journey_state::running;
  s.journal_chunks = 9;
  s.cancel_epoch = 4;
  auto with_paths = [&](std::size_t n) {
    auto copy = s;
    for (std::size_t i = 0; i < n; ++i) {
      path_state p;
      p.seq = static_cast<sequence_id>(i);
      p.phase = path_phase::backoff;
      p.attempts = 2;
      p.deadline = 5000 + static_cast<int64_t>(i);
      p.lines = {0, 2};
      p.last_error = "down " + std::to_string(i);
      p.last_error_code = errc::provider_timeout;
      copy.paths.push_back(p);
    }
    return encode(copy);
  };
  auto none = with_paths(0);
  auto one = with_paths(1);
  auto two = with_paths(2);
  // The paths list begins where the encodings first differ (its count);
  // each path ends with its code, one byte.
  auto count_at = static_cast<std::size_t>(
    std::mismatch(none.begin() + format::record_header_size, none.end(),
                  one.begin() + format::record_header_size)
      .second
    - one.begin());
  auto first_bytes = one.size() - none.size();
  auto second_bytes = two.size() - one.size();
  auto payload = two.substr(format::record_header_size);
  auto first_end =
    count_at - format::record_header_size + sizeof(uint64_t) + first_bytes;
  payload.erase(first_end + second_bytes - 1, 1);
  payload.erase(first_end - 1, 1);
  auto v2 = detail::seal(format::record_tag::journey, 2, payload);
  auto old = decode<journey_snapshot>(v2, "journeys/x");
  REQUIRE(old);
  REQUIRE(old->paths.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    INFO("path " << i);
    const auto& p = old->paths[i];
    CHECK(p.seq == i);
    CHECK(p.phase == path_phase::backoff);
    CHECK(p.deadline == 5000 + static_cast<int64_t>(i));
    CHECK(p.lines == line_set{0, 2});
    CHECK(p.last_error == "down " + std::to_string(i));
    CHECK(p.last_error_code == errc{});
  }
  CHECK(old->journal_chunks == 9);
  CHECK(old->cancel_epoch == 4);
  // Read as version 3, the same bytes do not make a journey.
  CHECK_FALSE(decode<journey_snapshot>(
    detail::seal(format::record_tag::journey, 3, payload), "journeys/x"));
}

namespace {

std::string hex(const std::string& bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

} // namespace

// The bytes of a record are the store's format (FORMAT.md): a journey and a
// journal chunk with every field set encode to exactly what they did when
// this test was written, whatever the encoder is built from.
TEST_CASE("records encode to the bytes of the store's format") {
  journey_snapshot s;
  s.order_id = "SO-1";
  s.flow = "F";
  s.version = 2;
  s.state = journey_state::waiting;
  s.created_on = 1700000000000;
  s.updated_on = 1700000000123;
  s.run = 1;
  s.steps.push_back(step_result{3, step_outcome::failed, 2, "HTTP 503",
                                1700000000100, errc::provider_failure});
  s.fulfillment_orders.push_back(
    fulfillment_order{"FO-1", "WH", {"1", "2"}, true});
  s.invoice_id = "INV-9";
  s.events = {"shipped"};
  s.cancel_requested = true;
  s.error = "e";
  path_state p;
  p.seq = 1;
  p.position = 4;
  p.phase = path_phase::branching;
  p.previous = step_outcome::skipped;
  p.held = true;
  p.attempts = 3;
  p.token = 7;
  p.deadline = 1700000000999;
  p.lines = {0, 2};
  p.branches.push_back(branch_slot{5, true, false});
  p.sending = {"FO-1"};
  p.last_error = "x";
  p.last_error_code = errc::provider_timeout;
  s.paths.push_back(p);
  s.failed_paths.push_back(p);
  s.journal_chunks = 6;
  s.cut_by_cancel = true;
  s.cancel_epoch = 3;
  CHECK(hex(encode(s))
        == "040300e0c6be01750100000400000000000000534f2d31010000000000000046"
           "02000000020068e5cf8b0100007b68e5cf8b0100000100000001000000000000"
           "0003000102000000080000000000000048545450203530336468e5cf8b010000"
           "5001000000000000000400000000000000464f2d310200000000000000574802"
           "0000000000000001000000000000003101000000000000003201000500000000"
           "000000494e562d39010000000000000007000000000000007368697070656401"
           "0100000000000000650100000000000000010004000602010000030000000700"
           "0000e76be5cf8b01000002000000000000000000020001000000000000000500"
           "010001000000000000000400000000000000464f2d3101000000000000007851"
           "01000000000000000100040006020100000300000007000000e76be5cf8b0100"
           "0002000000000000000000020001000000000000000500010001000000000000"
           "000400000000000000464f2d3101000000000000007851060000000103000000");

  journal_entry e;
  e.kind = journal_kind::provider_answered;
  e.at = 1700000000456;
  e.path = 1;
  e.step = 3;
  e.attempt = 2;
  e.outcome = step_outcome::failed;
  e.state = journey_state::running;
  e.ok = true;
  e.text = "t";
  e.key = "k";
  e.fulfillment.push_back(source_group{"WH", {"1"}});
  e.invoice_id = "INV-9";
  e.code = errc::protocol_error;
  CHECK(hex(encode(std::vector<journal_entry>{e}))
        == "0502003e3bddf360000000010000000000000005c869e5cf8b01000001000300"
           "0200000001010101000000000000007401000000000000006b01000000000000"
           "0002000000000000005748010000000000000001000000000000003100050000"
           "0000000000494e562d3953");

  order_record o;
  o.id = "SO-1";
  o.text = "{}";
  o.received_on = 1700000000000;
  o.events = {"a", "b"};
  o.cancelled = true;
  CHECK(hex(encode(o))
        == "0301007515ec16390000000400000000000000534f2d3102000000000000007b"
           "7d0068e5cf8b0100000200000000000000010000000000000061010000000000"
           "00006201");
}
