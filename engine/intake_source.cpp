#include "engine/intake_source.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <mutex>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

extern "C" {
#include <jq.h>
#include <jv.h>
}

#include "engine/config_entries.hpp"
#include "flows/errc.hpp"

namespace orca {

// -- jq -----------------------------------------------------------------------

namespace {

/// libjq 1.6 keeps some state per process (its number formatting among
/// it), so every jq call of the node goes through this one lock.
std::mutex& jq_lock() {
  static std::mutex m;
  return m;
}

/// The text of a jq message value: a string as it is, anything else as
/// JSON. Consumes `value`.
std::string message_text(jv value) {
  if (jv_get_kind(value) == JV_KIND_STRING) {
    std::string text{
      jv_string_value(value),
      static_cast<std::size_t>(jv_string_length_bytes(jv_copy(value)))};
    jv_free(value);
    return text;
  }
  jv dumped = jv_dump_string(value, 0);
  std::string text = jv_string_value(dumped);
  jv_free(dumped);
  return text;
}

} // namespace

struct jq_transform::state {
  jq_state* jq = nullptr;
  /// What jq reported through its message callback (compile errors).
  std::string messages;

  ~state() {
    if (jq != nullptr)
      jq_teardown(&jq);
  }

  static void on_message(void* data, jv message) {
    auto* self = static_cast<state*>(data);
    if (!self->messages.empty())
      self->messages += "; ";
    self->messages += message_text(message);
  }
};

jq_transform::jq_transform(std::unique_ptr<state> s, std::string origin)
    : state_(std::move(s)), origin_(std::move(origin)) {
}

jq_transform::~jq_transform() {
  std::lock_guard<std::mutex> guard{jq_lock()};
  state_.reset();
}

caf::expected<std::shared_ptr<jq_transform>>
jq_transform::compile(const std::string& program, const std::string& origin) {
  std::lock_guard<std::mutex> guard{jq_lock()};
  auto s = std::make_unique<state>();
  s->jq = jq_init();
  if (s->jq == nullptr)
    return make_error(errc::invalid_config,
                      origin + ": jq could not start (out of memory)");
  jq_set_error_cb(s->jq, &state::on_message, s.get());
  // No module search path: libjq 1.6 fails an assertion (and the process)
  // on `import` or `include` without one; with an empty one they are
  // compile errors.
  jq_set_attr(s->jq, jv_string("JQ_LIBRARY_PATH"), jv_array());
  if (jq_compile(s->jq, program.c_str()) == 0) {
    auto why =
      s->messages.empty() ? std::string{"does not compile"} : s->messages;
    return make_error(errc::invalid_config, origin + ": " + why);
  }
  s->messages.clear();
  return std::shared_ptr<jq_transform>{new jq_transform{std::move(s), origin}};
}

caf::expected<std::string> jq_transform::run(std::string_view input) const {
  auto fail = [this](const std::string& why) -> caf::expected<std::string> {
    return make_error(errc::invalid_order, origin_ + ": " + why);
  };
  std::lock_guard<std::mutex> guard{jq_lock()};
  jv parsed = jv_parse_sized(input.data(), static_cast<int>(input.size()));
  if (!jv_is_valid(parsed)) {
    auto why = jv_invalid_has_msg(jv_copy(parsed))
      ? message_text(jv_invalid_get_msg(parsed))
      : (jv_free(parsed), std::string{"not JSON"});
    return fail("the payload is not JSON: " + why);
  }
  auto* jq = state_->jq;
  jq_start(jq, parsed, 0);
  jv first = jq_next(jq);
  if (!jv_is_valid(first)) {
    if (jv_invalid_has_msg(jv_copy(first)))
      return fail(message_text(jv_invalid_get_msg(first)));
    jv_free(first);
    if (jq_halted(jq)) {
      jv message = jq_get_error_message(jq);
      if (jv_get_kind(message) == JV_KIND_STRING)
        return fail("the program halted: " + message_text(message));
      jv_free(message);
      return fail("the program halted");
    }
    return fail("the program yielded no value");
  }
  jv second = jq_next(jq);
  if (jv_is_valid(second)) {
    jv_free(second);
    jv_free(first);
    return fail("the program yielded more than one value");
  }
  if (jv_invalid_has_msg(jv_copy(second))) {
    jv_free(first);
    return fail(message_text(jv_invalid_get_msg(second)));
  }
  jv_free(second);
  jv text = jv_dump_string(first, 0);
  std::string out = jv_string_value(text);
  jv_free(text);
  return out;
}

// -- signatures ---------------------------------------------------------------

namespace {

std::string lower(std::string_view text) {
  std::string out{text};
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  return text;
}

std::string encode(const unsigned char* bytes, unsigned size,
                   signature_encoding encoding) {
  if (encoding == signature_encoding::hex) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < size; ++i) {
      out += digits[bytes[i] >> 4];
      out += digits[bytes[i] & 0xf];
    }
    return out;
  }
  std::string out(4 * ((size + 2) / 3), '\0');
  auto n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes,
                           static_cast<int>(size));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

} // namespace

std::string sign_payload(const source_signature& how, std::string_view body) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned size = 0;
  if (HMAC(EVP_sha256(), how.secret.data(), static_cast<int>(how.secret.size()),
           reinterpret_cast<const unsigned char*>(body.data()), body.size(),
           digest, &size)
      == nullptr)
    return {};
  return encode(digest, size, how.encoding);
}

bool signature_matches(const source_signature& how, std::string_view signature,
                       std::string_view body) {
  auto expected = sign_payload(how, body);
  if (expected.empty())
    return false;
  auto given = trimmed(signature);
  if (given.size() > 7 && lower(given.substr(0, 7)) == "sha256=")
    given.remove_prefix(7);
  std::string normal =
    how.encoding == signature_encoding::hex ? lower(given) : std::string{given};
  return normal.size() == expected.size()
    && CRYPTO_memcmp(normal.data(), expected.data(), expected.size()) == 0;
}

// -- the config ---------------------------------------------------------------

namespace {

/// The text of `path`, if it can be read and holds at most `max_bytes`
/// (a path such as /dev/zero must not fill memory).
std::optional<std::string> read_file(const std::string& path,
                                     std::size_t max_bytes) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return std::nullopt;
  std::string text(max_bytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad() || static_cast<std::size_t>(in.gcount()) > max_bytes)
    return std::nullopt;
  text.resize(static_cast<std::size_t>(in.gcount()));
  return text;
}

std::optional<source_signature> parse_signature(const json_value& json,
                                                const std::string& where,
                                                diagnostics& diags) {
  if (!json.IsObject()) {
    diags.add(where,
              "must be an object with \"header\", \"secret_env\" "
              "and \"encoding\"");
    return std::nullopt;
  }
  diags.reject_unknown_fields(json, where,
                              {"header", "secret_env", "encoding"});
  source_signature sig;
  auto header = json.FindMember("header");
  if (header == json.MemberEnd() || !header->value.IsString()
      || header->value.GetStringLength() == 0) {
    diags.add(field_of(where, "header"), "must name the signature's header");
    return std::nullopt;
  }
  sig.header = std::string{view_of(header->value)};
  auto env = json.FindMember("secret_env");
  if (env == json.MemberEnd() || !env->value.IsString()) {
    diags.add(field_of(where, "secret_env"),
              "must name the environment variable that holds the secret");
    return std::nullopt;
  }
  std::string variable{view_of(env->value)};
  const char* secret = std::getenv(variable.c_str());
  if (secret == nullptr || *secret == '\0') {
    diags.add(field_of(where, "secret_env"),
              "the environment variable " + quote(variable)
                + " is not set (or empty)");
    return std::nullopt;
  }
  sig.secret = secret;
  if (auto enc = json.FindMember("encoding"); enc != json.MemberEnd()) {
    auto name = enc->value.IsString() ? view_of(enc->value) : "";
    if (name == "hex") {
      sig.encoding = signature_encoding::hex;
    } else if (name == "base64") {
      sig.encoding = signature_encoding::base64;
    } else {
      diags.add(field_of(where, "encoding"), "must be \"hex\" or \"base64\"");
      return std::nullopt;
    }
  }
  return sig;
}

std::optional<source_events> parse_events(const json_value& json,
                                          const std::string& where,
                                          const limits& lim,
                                          diagnostics& diags) {
  if (!json.IsObject()) {
    diags.add(where, "must be an object with \"header\" and \"map\"");
    return std::nullopt;
  }
  diags.reject_unknown_fields(json, where, {"header", "map"});
  source_events events;
  auto header = json.FindMember("header");
  if (header == json.MemberEnd() || !header->value.IsString()
      || header->value.GetStringLength() == 0) {
    diags.add(field_of(where, "header"), "must name the topic's header");
    return std::nullopt;
  }
  events.header = std::string{view_of(header->value)};
  auto map = json.FindMember("map");
  if (map == json.MemberEnd() || !map->value.IsObject()) {
    diags.add(field_of(where, "map"),
              "must be an object of header value -> event type");
    return std::nullopt;
  }
  for (const auto& m : map->value.GetObject()) {
    std::string value{view_of(m.name)};
    auto at = field_of(field_of(where, "map"), value);
    if (!m.value.IsString()) {
      diags.add(at, "must be an event type (a string)");
      continue;
    }
    std::string type{view_of(m.value)};
    if (auto problem = name_problem(type, lim.name_bytes); !problem.empty()) {
      diags.add(at, "event type: " + problem);
      continue;
    }
    events.map[value] = std::move(type);
  }
  return events;
}

} // namespace

std::map<std::string, source_config>
parse_sources(const json_value& json, const std::string& config_dir,
              const limits& lim, diagnostics& diags) {
  std::map<std::string, source_config> sources;
  for_each_entry(
    json, "sources", "source name", "source", lim.name_bytes, diags,
    [&](const std::string& name, const std::string& where,
        const json_value& value) {
      if (!value.IsObject()) {
        diags.add(where, "a source must be an object with a \"transform\"");
        return;
      }
      diags.reject_unknown_fields(value, where,
                                  {"transform", "signature", "events"});
      source_config source;
      auto transform = value.FindMember("transform");
      if (transform == value.MemberEnd() || !transform->value.IsString()
          || transform->value.GetStringLength() == 0) {
        diags.add(field_of(where, "transform"),
                  "must be the path of a jq program (relative to the config "
                  "file's folder)");
        return;
      }
      std::string file{view_of(transform->value)};
      source.transform_file = file.front() == '/' || config_dir.empty()
        ? file
        : config_dir + "/" + file;
      auto program = read_file(source.transform_file, lim.flow_bytes);
      if (!program) {
        diags.add(field_of(where, "transform"),
                  "cannot read " + quote(source.transform_file)
                    + " (or it is over flow_bytes)");
        return;
      }
      auto compiled = jq_transform::compile(*program, source.transform_file);
      if (!compiled) {
        diags.add(field_of(where, "transform"), describe(compiled.error()));
        return;
      }
      source.transform = std::move(*compiled);
      bool ok = true;
      if (auto sig = value.FindMember("signature"); sig != value.MemberEnd()) {
        source.signature =
          parse_signature(sig->value, field_of(where, "signature"), diags);
        ok = ok && source.signature.has_value();
      }
      if (auto ev = value.FindMember("events"); ev != value.MemberEnd()) {
        source.events =
          parse_events(ev->value, field_of(where, "events"), lim, diags);
        ok = ok && source.events.has_value();
      }
      if (ok)
        sources[name] = std::move(source);
    });
  return sources;
}

// -- one payload --------------------------------------------------------------

namespace {

std::string
header_value(const std::vector<std::pair<std::string, std::string>>& headers,
             const std::string& name) {
  auto wanted = lower(name);
  for (const auto& [key, value] : headers)
    if (lower(key) == wanted)
      return value;
  return {};
}

/// The order id an event payload names: the transform's string, or the
/// "id" string of the object it made.
std::optional<std::string> event_order_id(const std::string& mapped) {
  json_document doc;
  doc.Parse<json_parse_flags>(mapped.data(), mapped.size());
  if (doc.HasParseError())
    return std::nullopt;
  if (doc.IsString())
    return std::string{view_of(doc)};
  if (doc.IsObject() && doc.HasMember("id") && doc["id"].IsString())
    return std::string{view_of(doc["id"])};
  return std::nullopt;
}

} // namespace

std::pair<std::optional<intake_payload>, intake_refusal>
map_payload(const source_config& source, std::string_view body,
            const limits& lim,
            const std::vector<std::pair<std::string, std::string>>& headers) {
  auto refuse = [](unsigned status, std::string why) {
    return std::make_pair(std::optional<intake_payload>{},
                          intake_refusal{status, std::move(why)});
  };
  // The signature first, before the body is even parsed.
  if (source.signature) {
    auto given = header_value(headers, source.signature->header);
    if (given.empty())
      return refuse(401,
                    "the signature header " + quote(source.signature->header)
                      + " is missing");
    if (!signature_matches(*source.signature, given, body))
      return refuse(401,
                    "the signature in " + quote(source.signature->header)
                      + " does not match the body");
  }
  if (body.size() > lim.order_bytes)
    return refuse(413,
                  describe(too_large("the payload (order_bytes)", body.size(),
                                     lim.order_bytes)));
  // RapidJSON reads the payload before jq does: libjq 1.6 leaks memory on
  // some malformed inputs (found by fuzzing), and the depth limit is
  // checked on the way.
  if (auto doc = parse_json(body, "the payload", lim.json_depth); !doc)
    return refuse(doc.error() == errc::limit_exceeded ? 413 : 400,
                  describe(doc.error()));
  intake_payload out;
  if (source.events) {
    auto topic = header_value(headers, source.events->header);
    if (auto e = source.events->map.find(topic);
        !topic.empty() && e != source.events->map.end())
      out.event = e->second;
  }
  auto mapped = source.transform->run(body);
  if (!mapped)
    return refuse(400, describe(mapped.error()));
  if (out.event.empty()) {
    out.order_or_id = std::move(*mapped);
    return {std::move(out), {}};
  }
  auto id = event_order_id(*mapped);
  if (!id)
    return refuse(400,
                  source.transform->origin() + ": for the event "
                    + quote(out.event)
                    + ", the program must yield the order id or an "
                      "object with an \"id\" string, not "
                    + mapped->substr(0, 200));
  out.order_or_id = std::move(*id);
  return {std::move(out), {}};
}

} // namespace orca
