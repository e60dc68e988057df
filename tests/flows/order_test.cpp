#include <catch2/catch.hpp>

#include "flows/order.hpp"

using namespace orca;

namespace {

std::string error_of(const std::string& text) {
  auto o = order::parse(text);
  REQUIRE_FALSE(o);
  return describe(o.error());
}

} // namespace

TEST_CASE("an order needs a non-empty string id") {
  CHECK(error_of(R"({"lines": []})") == "id: missing required field");
  CHECK(error_of(R"({"id": "", "lines": []})")
        == "id: must be a non-empty string");
  CHECK(error_of(R"({"id": 7, "lines": []})")
        == "id: must be a non-empty string");
}

TEST_CASE("an order needs a list of lines with unique non-empty ids") {
  CHECK(error_of(R"({"id": "SO-1"})")
        == "order \"SO-1\": lines: missing required field");
  CHECK(error_of(R"({"id": "SO-1", "lines": {}})")
        == "order \"SO-1\": lines: must be a list");
  CHECK(error_of(R"({"id": "SO-1", "lines": [{"sku": "x"}]})")
        == "order \"SO-1\": lines[0].id: missing required field");
  CHECK(error_of(R"({"id": "SO-1", "lines": [{"id": ""}]})")
        == "order \"SO-1\": lines[0].id: must be a non-empty string");
  CHECK(error_of(R"({"id": "SO-1", "lines": [{"id": "1"}, {"id": "1"}]})")
        == "order \"SO-1\": lines[1].id: duplicate line id \"1\"");
  CHECK(error_of(R"({"id": "SO-1", "lines": [3]})")
        == "order \"SO-1\": lines[0]: a line must be an object");
}

TEST_CASE("a repeated line id is found among few lines and among many") {
  for (int count : {2, 16, 17, 40}) {
    auto lines = [&](int repeat_at) {
      std::string text = R"({"id": "SO-1", "lines": [)";
      for (int i = 0; i < count; ++i)
        text += (i ? ", " : "") + std::string{R"({"id": "L)"}
          + std::to_string(i == repeat_at ? 0 : i) + "\"}";
      return text + "]}";
    };
    INFO(count << " lines");
    CHECK(order::parse(lines(-1)));
    CHECK(error_of(lines(count - 1))
          == "order \"SO-1\": lines[" + std::to_string(count - 1)
            + "].id: duplicate line id \"L0\"");
  }
}

TEST_CASE("an order that is not JSON or not an object is rejected") {
  CHECK(error_of("{\"id\": ").find("order is not valid JSON: line 1, column 8")
        == 0);
  CHECK(error_of("[1, 2]") == "an order must be a JSON object, not array");
  // RapidJSON would stop at the NUL and take the order before it.
  using namespace std::string_literals;
  CHECK(error_of("{\"id\": \"SO-1\", \"lines\": []}\0junk"s)
        == "order is not valid JSON: line 1, column 28: a NUL byte, which "
           "JSON text cannot hold");
  auto doc = parse_json("{}\n\0"s, "f.json");
  REQUIRE_FALSE(doc);
  CHECK(describe(doc.error())
        == "f.json: line 2, column 1: a NUL byte, which JSON text cannot "
           "hold");
}

TEST_CASE("a valid order exposes its id, lines and free fields") {
  auto o = order::parse(
    R"({"id": "SO-1", "channel": "web", "lines": [{"id": "1"}, {"id": "x2"}]})");
  REQUIRE(o);
  CHECK(o->id() == "SO-1");
  CHECK(o->line_count() == 2);
  CHECK(o->line_id(1) == "x2");
  CHECK(view_of(o->header()["channel"]) == "web");
  CHECK(all_lines(*o) == line_set{0, 1});
  auto empty = order::parse(R"({"id": "SO-2", "lines": []})");
  REQUIRE(empty);
  CHECK(empty->line_count() == 0);
}

TEST_CASE(
  "an order's escaped strings read decoded, and its text stays as sent") {
  std::string sent =
    R"({"id": "SO-\u0031", "note": "say \"hi\"\n\u00e9\ud83d\ude00",)"
    R"( "lines": [{"id": "a\\b"}]})";
  auto o = order::parse(sent);
  REQUIRE(o);
  CHECK(o->id() == "SO-1");
  CHECK(view_of(o->header()["note"]) == "say \"hi\"\n\u00e9\U0001F600");
  CHECK(o->line_id(0) == "a\\b");
  CHECK(o->text() == sent);
}

TEST_CASE("an order with some of its lines keeps its header and those lines") {
  auto o = order::parse(R"({"id": "SO-7", "ship": {"to": "Zürich", "by": null,
    "tags": [1, 2.5, true, "a\"b"]}, "lines": [{"id": "1", "sku": "A"},
    {"id": "2", "sku": "B", "qty": 3}, {"id": "3", "sku": "C"}],
    "total": -12.75})");
  REQUIRE(o);
  order_ptr whole = std::make_shared<const order>(std::move(*o));
  CHECK(with_lines(whole, line_set{0, 1, 2}) == whole);
  auto some = with_lines(whole, line_set{2, 1});
  REQUIRE(some != whole);
  CHECK(some->id() == "SO-7");
  CHECK(some->line_count() == 2);
  CHECK(some->line_id(0) == "3");
  CHECK(some->line_id(1) == "2");
  CHECK(some->line(1)["qty"].GetInt() == 3);
  CHECK(some->header()["ship"] == whole->header()["ship"]);
  CHECK(some->header()["total"].GetDouble() == -12.75);
  CHECK(some->text()
        == R"({"id":"SO-7","ship":{"to":"Zürich","by":null,"tags":[1,2.5,)"
           R"(true,"a\"b"]},"lines":[{"id":"3","sku":"C"},{"id":"2",)"
           R"("sku":"B","qty":3}],"total":-12.75})");
  // The document is the text's: parsed again, the text gives the same.
  auto reparsed = order::parse(some->text());
  REQUIRE(reparsed);
  CHECK(reparsed->header() == some->header());
  // The whole order is as it was. Its text holds the strings of both, so
  // it lives as long as the part does, and a part of the part keeps it too.
  CHECK(whole->line_count() == 3);
  std::weak_ptr<const order> watch = whole;
  auto smaller = with_lines(some, line_set{1});
  REQUIRE(smaller->line_count() == 1);
  whole.reset();
  CHECK_FALSE(watch.expired());
  CHECK(view_of(some->header()["ship"]["to"]) == "Zürich");
  CHECK(smaller->line_id(0) == "2");
  some.reset();
  CHECK_FALSE(watch.expired());
  smaller.reset();
  CHECK(watch.expired());
}

TEST_CASE("an order over a limit of SPEC 8 is refused naming the limit") {
  SECTION("an id longer than 128 bytes") {
    auto o = order::parse(R"({"id": ")" + std::string(480, 'X')
                          + R"(", "lines": []})");
    REQUIRE_FALSE(o);
    CHECK(orca_code(o.error()) == static_cast<uint8_t>(errc::limit_exceeded));
    CHECK(describe(o.error())
          == "id: 480 bytes is over the limit of 128 bytes");
  }
  SECTION("JSON nested 200,000 deep is refused at the first level past 64") {
    std::string deep = R"({"id": "SO-1", "lines": [], "x": )"
      + std::string(200000, '[') + std::string(200000, ']') + "}";
    auto o = order::parse(deep);
    REQUIRE_FALSE(o);
    CHECK(describe(o.error())
          == "the order nests JSON deeper than the limit of 64 levels");
    CHECK(order_id_of(deep) == "SO-1");
  }
  SECTION("64 levels are fine") {
    std::string ok = R"({"id": "SO-1", "lines": [], "x": )"
      + std::string(63, '[') + std::string(63, ']') + "}";
    CHECK(order::parse(ok));
  }
  SECTION("brackets inside strings do not count") {
    std::string ok = R"({"id": "SO-1", "lines": [], "x": ")"
      + std::string(1000, '[') + R"("})";
    CHECK(order::parse(ok));
  }
  SECTION("a document over 1 MiB") {
    auto o = order::parse(R"({"id": "SO-1", "lines": [], "x": ")"
                          + std::string(1 << 20, 'x') + R"("})");
    REQUIRE_FALSE(o);
    CHECK(describe(o.error()).find("is over the limit of 1048576 bytes")
          != std::string::npos);
  }
  SECTION("more lines than the configured limit") {
    limits lim;
    lim.order_lines = 2;
    auto o = order::parse(
      R"({"id": "SO-1", "lines": [{"id": "1"}, {"id": "2"}, {"id": "3"}]})",
      lim);
    REQUIRE_FALSE(o);
    CHECK(describe(o.error())
          == "order \"SO-1\": lines: 3 lines is over the limit of 2 lines");
  }
  SECTION("an id with a control character") {
    auto o = order::parse("{\"id\": \"A\\u0001B\", \"lines\": []}");
    REQUIRE_FALSE(o);
    CHECK(describe(o.error()) == "id: must not contain control characters");
  }
}
