#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>

#include "engine/intake_source.hpp"
#include "engine/node_config.hpp"
#include "support/files.hpp"

using namespace orca;

namespace {

// RFC 4231, test case 2.
constexpr const char* rfc_body = "what do ya want for nothing?";
constexpr const char* rfc_hex =
  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
constexpr const char* rfc_base64 =
  "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=";

source_signature signed_by(signature_encoding encoding) {
  return {"X-Signature", "Jefe", encoding};
}

std::shared_ptr<jq_transform> compiled(const std::string& program) {
  auto t = jq_transform::compile(program, "t.jq");
  REQUIRE(t);
  return *t;
}

using header_list = std::vector<std::pair<std::string, std::string>>;

} // namespace

TEST_CASE("a signature is the HMAC-SHA256 of the raw body, hex or base64") {
  auto hex = signed_by(signature_encoding::hex);
  auto b64 = signed_by(signature_encoding::base64);
  CHECK(sign_payload(hex, rfc_body) == rfc_hex);
  CHECK(sign_payload(b64, rfc_body) == rfc_base64);
  CHECK(signature_matches(hex, rfc_hex, rfc_body));
  CHECK(signature_matches(hex, std::string{"sha256="} + rfc_hex, rfc_body));
  CHECK(signature_matches(hex, std::string{" SHA256="} + rfc_hex, rfc_body));
  std::string upper = rfc_hex;
  for (auto& c : upper)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  CHECK(signature_matches(hex, upper, rfc_body));
  CHECK(signature_matches(b64, rfc_base64, rfc_body));
  CHECK(signature_matches(b64, std::string{"sha256="} + rfc_base64, rfc_body));
  // Wrong in every way that matters.
  CHECK_FALSE(signature_matches(hex, rfc_hex, "what do ya want for nothing!"));
  CHECK_FALSE(signature_matches(hex, rfc_base64, rfc_body));
  CHECK_FALSE(signature_matches(b64, rfc_hex, rfc_body));
  CHECK_FALSE(
    signature_matches(hex, std::string{rfc_hex}.substr(0, 63), rfc_body));
  CHECK_FALSE(signature_matches(hex, "", rfc_body));
  auto other = hex;
  other.secret = "jefe";
  CHECK_FALSE(signature_matches(other, rfc_hex, rfc_body));
}

TEST_CASE("a jq transform yields exactly one value or says why not") {
  auto t = compiled("{id: (.n | tostring), lines: []}");
  auto out = t->run(R"({"n": 12})");
  REQUIRE(out);
  CHECK(*out == R"({"id":"12","lines":[]})");
  // Runs again and again on the same compiled program.
  CHECK(*t->run(R"({"n": 13})") == R"({"id":"13","lines":[]})");

  auto fails = [](const std::shared_ptr<jq_transform>& tr,
                  const std::string& input) {
    auto r = tr->run(input);
    REQUIRE_FALSE(r);
    return describe(r.error());
  };
  CHECK(fails(compiled(".a[]"), R"({"a": 7})")
        == "t.jq: Cannot iterate over number (7)");
  CHECK(fails(compiled(R"(error("no order here"))"), "{}")
        == "t.jq: no order here");
  CHECK(fails(compiled("empty"), "{}") == "t.jq: the program yielded no value");
  CHECK(fails(compiled(".[]"), "[1, 2]")
        == "t.jq: the program yielded more than one value");
  CHECK(fails(compiled(R"(., error("late"))"), "{}") == "t.jq: late");
  CHECK(fails(compiled("."), "{nope").find("t.jq: the payload is not JSON")
        == 0);
  // After errors, the program still works.
  CHECK(*t->run(R"({"n": 1})") == R"({"id":"1","lines":[]})");

  // Modules are not searched for: an error, not an abort.
  CHECK_FALSE(jq_transform::compile(R"(import "x" as x; .)", "m.jq"));
  CHECK_FALSE(jq_transform::compile(R"(include "x"; .)", "m.jq"));

  auto broken = jq_transform::compile(".a | | .b", "broken.jq");
  REQUIRE_FALSE(broken);
  auto why = describe(broken.error());
  CHECK(why.find("broken.jq: ") == 0);
  CHECK(why.find("syntax error") != std::string::npos);
}

TEST_CASE("a node config's sources are read, compiled and checked") {
  test::temp_dir dir;
  dir.write("ok.jq", "{id: .ref, lines: .items}");
  dir.write("broken.jq", "{id: .ref,");
  ::setenv("ORCA_TEST_SOURCE_SECRET", "s3cret", 1);
  ::unsetenv("ORCA_TEST_UNSET_SECRET");
  auto config = node_config::parse(R"({"sources": {
      "shop": {"transform": "ok.jq",
               "signature": {"header": "X-Sig", "secret_env": "ORCA_TEST_SOURCE_SECRET",
                             "encoding": "base64"},
               "events": {"header": "X-Topic", "map": {"gone": "cancel_order"}}},
      "plain": {"transform": "ok.jq"}}})",
                                   dir.file("node.json"));
  REQUIRE(config);
  REQUIRE(config->sources.size() == 2);
  const auto& shop = config->sources.at("shop");
  CHECK(shop.transform_file == dir.file("ok.jq"));
  REQUIRE(shop.signature);
  CHECK(shop.signature->secret == "s3cret");
  CHECK(shop.signature->encoding == signature_encoding::base64);
  REQUIRE(shop.events);
  CHECK(shop.events->map.at("gone") == "cancel_order");
  CHECK_FALSE(config->sources.at("plain").signature);

  auto bad = node_config::parse(R"({"sources": {
      "a": {"transform": "missing.jq"},
      "b": {"transform": "broken.jq"},
      "c": {"transform": "ok.jq", "signature": {"header": "X-Sig",
            "secret_env": "ORCA_TEST_UNSET_SECRET"}},
      "d": {"transform": "ok.jq", "signature": {"header": "X-Sig",
            "secret_env": "ORCA_TEST_SOURCE_SECRET", "encoding": "rot13"}},
      "e": {"transform": "ok.jq", "events": {"header": "X-Topic",
            "map": {"x": "bad\ntype"}}},
      "f": {"transform": "ok.jq", "extra": 1},
      "g": {}}})",
                                dir.file("node.json"));
  REQUIRE_FALSE(bad);
  auto msg = describe(bad.error());
  INFO(msg);
  auto has = [&msg](const std::string& text) {
    return msg.find(text) != std::string::npos;
  };
  CHECK(has("sources.\"a\".transform: cannot read \"" + dir.file("missing.jq")
            + "\""));
  CHECK(has("sources.\"b\".transform: " + dir.file("broken.jq") + ": "));
  CHECK(has("sources.\"c\".signature.secret_env: the environment variable "
            "\"ORCA_TEST_UNSET_SECRET\" is not set"));
  CHECK(has("sources.\"d\".signature.encoding: must be \"hex\" or "
            "\"base64\""));
  CHECK(has("sources.\"e\".events.map.x: event type:"));
  CHECK(has("sources.\"f\".extra: unknown field"));
  CHECK(has("sources.\"g\".transform: must be the path of a jq program"));
}

TEST_CASE("a payload is checked, then mapped to an order or an event") {
  source_config source;
  source.transform = compiled("{id: .ref, lines: .items}");
  source.signature = signed_by(signature_encoding::hex);
  source.events = source_events{"X-Topic", {{"gone", "cancel_order"}}};
  std::string body = R"({"ref": "W-1", "items": [{"id": "1"}]})";
  auto lim = default_limits();

  SECTION("without its signature, or with a wrong one: 401") {
    auto [none, why] = map_payload(source, body, lim, {});
    CHECK_FALSE(none);
    CHECK(why.status == 401);
    CHECK(why.error == R"(the signature header "X-Signature" is missing)");
    auto [wrong, why2] =
      map_payload(source, body, lim, header_list{{"x-signature", rfc_hex}});
    CHECK_FALSE(wrong);
    CHECK(why2.status == 401);
    CHECK(why2.error
          == R"(the signature in "X-Signature" does not match the body)");
    auto [right, why3] = map_payload(
      source, body, lim,
      header_list{{"X-Signature", sign_payload(*source.signature, body)}});
    CHECK(right);
  }
  source.signature.reset();
  SECTION("an order") {
    auto [p, why] = map_payload(source, body, lim, {});
    REQUIRE(p);
    CHECK(p->event.empty());
    CHECK(p->order_or_id == R"({"id":"W-1","lines":[{"id":"1"}]})");
  }
  SECTION("an event, by the topic header, for the id the program yields") {
    auto [p, why] =
      map_payload(source, body, lim, header_list{{"x-topic", "gone"}});
    REQUIRE(p);
    CHECK(p->event == "cancel_order");
    CHECK(p->order_or_id == "W-1");
    // A topic not in the map is an order.
    auto [o, why2] =
      map_payload(source, body, lim, header_list{{"X-Topic", "created"}});
    REQUIRE(o);
    CHECK(o->event.empty());
  }
  SECTION("over the limits (413) or not JSON (400): before jq runs") {
    auto small = lim;
    small.order_bytes = 10;
    auto [p, why] = map_payload(source, body, small, {});
    CHECK_FALSE(p);
    CHECK(why.status == 413);
    CHECK(why.error.find("order_bytes") != std::string::npos);
    std::string deep(100, '[');
    deep += std::string(100, ']');
    auto [q, why2] = map_payload(source, deep, lim, {});
    CHECK_FALSE(q);
    CHECK(why2.status == 413);
    CHECK(why2.error.find("deeper than the limit of 64 levels")
          != std::string::npos);
    auto [r, why3] = map_payload(source, "{nope", lim, {});
    CHECK_FALSE(r);
    CHECK(why3.status == 400);
    CHECK(why3.error.find("the payload: line 1, column 2") == 0);
  }
  SECTION("a payload the program cannot map: 400 with jq's message") {
    auto [p, why] = map_payload(source, "[1]", lim, {});
    CHECK_FALSE(p);
    CHECK(why.status == 400);
    CHECK(why.error == "t.jq: Cannot index array with string \"ref\"");
  }
}
