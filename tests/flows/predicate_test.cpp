#include <catch2/catch.hpp>

#include "flows/predicate.hpp"

using namespace orca;

namespace {

const char* order_json = R"({
  "id": "SO-1", "source": "BigCommerce", "total": 42.5, "count": 3,
  "vip": true, "note": null, "tags": ["rush", "gift", 7],
  "ship_to": {"country": "US", "postal_code": "98052"},
  "lines": [{"id": "1", "sku": "SKU-RED"}]
})";

class evaluator {
public:
  evaluator() {
    doc_.Parse(order_json);
  }

  /// Evaluates the predicate JSON `p` on the order; fails the test if it does
  /// not parse.
  bool operator()(const std::string& p) {
    json_document pred;
    pred.Parse(p.c_str());
    REQUIRE(!pred.HasParseError());
    diagnostics diags;
    auto parsed = parse_predicate(pred, "when", diags);
    for (const auto& line : diags.lines(""))
      UNSCOPED_INFO(line);
    REQUIRE(parsed);
    return evaluate(*parsed, doc_);
  }

private:
  json_document doc_;
};

std::string cmp(const char* field, const char* op, const char* value) {
  return std::string{R"({"field": ")"} + field + R"(", "op": ")" + op
    + R"(", "value": )" + value + "}";
}

std::string check(const char* field, const char* op) {
  return std::string{R"({"field": ")"} + field + R"(", "op": ")" + op + "\"}";
}

std::vector<std::string> errors_of(const std::string& p) {
  json_document pred;
  pred.Parse(p.c_str());
  diagnostics diags;
  parse_predicate(pred, "when", diags);
  return diags.lines("");
}

} // namespace

TEST_CASE("eq compares numbers as numbers and strings as strings") {
  evaluator eval;
  CHECK(eval(cmp("source", "eq", "\"BigCommerce\"")));
  CHECK_FALSE(eval(cmp("source", "eq", "\"Orderful\"")));
  CHECK(eval(cmp("count", "eq", "3")));
  CHECK(eval(cmp("count", "eq", "3.0")));
  CHECK(eval(cmp("ship_to.country", "eq", "\"US\"")));
  CHECK(eval(cmp("vip", "eq", "true")));
  SECTION("missing path") {
    CHECK_FALSE(eval(cmp("nothing", "eq", "\"x\"")));
    CHECK_FALSE(eval(cmp("ship_to.nothing", "eq", "\"x\"")));
    CHECK_FALSE(eval(cmp("source.deeper", "eq", "\"x\"")));
  }
  SECTION("mixed types") {
    CHECK_FALSE(eval(cmp("count", "eq", "\"3\"")));
    CHECK_FALSE(eval(cmp("ship_to.postal_code", "eq", "98052")));
  }
}

TEST_CASE("ne is true for a different value and for a missing path") {
  evaluator eval;
  CHECK(eval(cmp("source", "ne", "\"Orderful\"")));
  CHECK_FALSE(eval(cmp("source", "ne", "\"BigCommerce\"")));
  CHECK(eval(cmp("nothing", "ne", "\"x\"")));
  CHECK(eval(cmp("note", "ne", "\"x\""))); // null is no value
  SECTION("mixed types are false") {
    CHECK_FALSE(eval(cmp("count", "ne", "\"3\"")));
    CHECK_FALSE(eval(cmp("source", "ne", "1")));
  }
}

TEST_CASE("lt le gt ge order numbers and strings") {
  evaluator eval;
  SECTION("lt") {
    CHECK(eval(cmp("total", "lt", "50")));
    CHECK_FALSE(eval(cmp("total", "lt", "42.5")));
    CHECK(eval(cmp("source", "lt", "\"C\"")));
    CHECK_FALSE(eval(cmp("nothing", "lt", "1")));
    CHECK_FALSE(eval(cmp("ship_to.postal_code", "lt", "99999")));
  }
  SECTION("le") {
    CHECK(eval(cmp("total", "le", "42.5")));
    CHECK_FALSE(eval(cmp("total", "le", "42")));
    CHECK(eval(cmp("ship_to.postal_code", "le", "\"98052\"")));
    CHECK_FALSE(eval(cmp("nothing", "le", "1")));
    CHECK_FALSE(eval(cmp("count", "le", "\"9\"")));
  }
  SECTION("gt") {
    CHECK(eval(cmp("count", "gt", "0")));
    CHECK_FALSE(eval(cmp("count", "gt", "3")));
    CHECK(eval(cmp("source", "gt", "\"Big\"")));
    CHECK_FALSE(eval(cmp("nothing", "gt", "0")));
    CHECK_FALSE(eval(cmp("source", "gt", "0")));
  }
  SECTION("ge") {
    CHECK(eval(cmp("count", "ge", "3")));
    CHECK_FALSE(eval(cmp("count", "ge", "3.5")));
    CHECK(eval(cmp("source", "ge", "\"BigCommerce\"")));
    CHECK_FALSE(eval(cmp("nothing", "ge", "0")));
    CHECK_FALSE(eval(cmp("vip", "ge", "1")));
  }
  SECTION("numbers compare as numbers, not as text") {
    CHECK(eval(cmp("count", "lt", "10")));     // "3" < "10" would be false
    CHECK(eval(cmp("source", "lt", "\"a\""))); // "B" < "a" in byte order
  }
}

TEST_CASE("in and not_in test membership in a list") {
  evaluator eval;
  SECTION("in") {
    CHECK(eval(cmp("source", "in", R"(["Orderful", "BigCommerce"])")));
    CHECK_FALSE(eval(cmp("source", "in", R"(["Orderful"])")));
    CHECK(eval(cmp("count", "in", "[1, 2, 3]")));
    CHECK_FALSE(eval(cmp("nothing", "in", R"(["x"])")));
    CHECK_FALSE(eval(cmp("count", "in", R"(["3"])")));
  }
  SECTION("not_in") {
    CHECK(eval(cmp("source", "not_in", R"(["Orderful"])")));
    CHECK_FALSE(eval(cmp("source", "not_in", R"(["BigCommerce", "x"])")));
    CHECK(eval(cmp("nothing", "not_in", R"(["x"])")));
    CHECK_FALSE(eval(cmp("count", "not_in", R"(["3", "4"])")));
    CHECK(eval(cmp("count", "not_in", R"(["3", 4])")));
  }
}

TEST_CASE("exists and missing test for a value") {
  evaluator eval;
  CHECK(eval(check("ship_to.country", "exists")));
  CHECK_FALSE(eval(check("ship_to.region", "exists")));
  CHECK_FALSE(eval(check("note", "exists")));
  CHECK(eval(check("ship_to.region", "missing")));
  CHECK(eval(check("note", "missing")));
  CHECK_FALSE(eval(check("source", "missing")));
  SECTION("any type counts as a value") {
    CHECK(eval(check("count", "exists")));
    CHECK(eval(check("vip", "exists")));
    CHECK(eval(check("tags", "exists")));
  }
}

TEST_CASE("a pattern that needs backtracking is refused at validation") {
  auto backreference = errors_of(cmp("source", "matches", R"("(a)\\1")"));
  REQUIRE(backreference.size() == 1);
  CHECK(backreference[0].find("when.value: invalid regular expression "
                              "\"(a)\\\\1\": invalid escape sequence")
        != std::string::npos);
  CHECK(backreference[0].find("must match in linear time")
        != std::string::npos);
  auto lookahead = errors_of(cmp("source", "matches", R"("(?=a)a")"));
  REQUIRE(lookahead.size() == 1);
  CHECK(lookahead[0].find("must match in linear time") != std::string::npos);
}

TEST_CASE("matches runs in linear time on a catastrophic pattern") {
  // (a+)+$ on a long run of a's followed by a mismatch takes exponential
  // time with a backtracking engine; RE2 answers at once.
  std::string order = R"({"id": "SO-1", "lines": [], "note": ")"
    + std::string(200000, 'a') + R"(!"})";
  json_document doc;
  doc.Parse(order.c_str());
  json_document pred;
  pred.Parse(cmp("note", "matches", R"("(a+)+$")").c_str());
  diagnostics diags;
  auto parsed = parse_predicate(pred, "when", diags);
  REQUIRE(parsed);
  CHECK_FALSE(evaluate(*parsed, doc));
  doc["note"].SetString(std::string(200000, 'a').c_str(), doc.GetAllocator());
  CHECK(evaluate(*parsed, doc));
}

TEST_CASE("matches is a whole-string regular expression") {
  evaluator eval;
  CHECK(eval(cmp("ship_to.country", "matches", R"("[A-Z]{2}")")));
  CHECK_FALSE(eval(cmp("ship_to.country", "matches", R"("[A-Z]")")));
  CHECK(eval(cmp("source", "matches", R"("Big.*")")));
  CHECK_FALSE(eval(cmp("source", "matches", R"("Commerce")")));
  CHECK(eval(cmp("ship_to.postal_code", "matches", R"("\\d{5}")")));
  CHECK_FALSE(eval(cmp("nothing", "matches", R"(".*")")));
  CHECK_FALSE(eval(cmp("count", "matches", R"(".*")")));
}

TEST_CASE("contains finds a substring or a list element") {
  evaluator eval;
  CHECK(eval(cmp("source", "contains", "\"Commerce\"")));
  CHECK_FALSE(eval(cmp("source", "contains", "\"commerce\"")));
  CHECK(eval(cmp("tags", "contains", "\"gift\"")));
  CHECK(eval(cmp("tags", "contains", "7")));
  CHECK_FALSE(eval(cmp("tags", "contains", "\"7\"")));
  CHECK_FALSE(eval(cmp("nothing", "contains", "\"x\"")));
  CHECK_FALSE(eval(cmp("count", "contains", "3")));
}

TEST_CASE("all, any and not combine predicates") {
  evaluator eval;
  auto yes = cmp("source", "eq", "\"BigCommerce\"");
  auto no = cmp("source", "eq", "\"Orderful\"");
  CHECK(eval(R"({"all": [)" + yes + "," + yes + "]}"));
  CHECK_FALSE(eval(R"({"all": [)" + yes + "," + no + "]}"));
  CHECK(eval(R"({"any": [)" + no + "," + yes + "]}"));
  CHECK_FALSE(eval(R"({"any": [)" + no + "," + no + "]}"));
  CHECK(eval(R"({"not": )" + no + "}"));
  CHECK_FALSE(eval(R"({"not": )" + yes + "}"));
  CHECK(eval(R"({"all": []})"));
  CHECK_FALSE(eval(R"({"any": []})"));
  CHECK(eval(R"({"not": {"any": [)" + no + R"(, {"not": )" + yes + "}]}}"));
}

TEST_CASE("predicates with mistakes are reported where they are") {
  CHECK(errors_of(cmp("a", "eqq", "1"))[0].find("when.op: unknown op \"eqq\"")
        != std::string::npos);
  CHECK(errors_of(cmp("a", "in", "1"))[0].find("when.value: op in needs a list")
        != std::string::npos);
  CHECK(errors_of(check("a", "eq"))[0].find("op eq needs a \"value\"")
        != std::string::npos);
  CHECK(errors_of(cmp("a", "exists", "1"))[0].find("op exists takes no value")
        != std::string::npos);
  CHECK(errors_of(cmp("a", "matches", R"("[")"))[0].find(
          "when.value: invalid regular expression")
        != std::string::npos);
  CHECK(errors_of(R"({"all": [{"field": "a"}]})")[0].find(
          "when.all[0]: missing required field \"op\"")
        != std::string::npos);
  CHECK(
    errors_of(cmp("a", "eq", "null"))[0].find("when.value: must be a number")
    != std::string::npos);
  CHECK(errors_of(R"({"not": {"field": "a", "op": "exists"}, "x": 1})")[0].find(
          "when.x: unknown field")
        != std::string::npos);
}

TEST_CASE("a line-scope predicate starts at the line") {
  json_document line;
  line.Parse(R"({"id": "1", "sku": "SKU-RED", "quantity": 0})");
  json_document pred;
  pred.Parse(R"({"field": "quantity", "op": "gt", "value": 0})");
  diagnostics diags;
  auto p = parse_predicate(pred, "when", diags);
  REQUIRE(p);
  CHECK_FALSE(evaluate(*p, line));
  CHECK(to_text(*p) == "quantity gt 0");
}
