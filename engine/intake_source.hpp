#pragma once

// Order sources (SPEC §9): shops and partners post their own webhook
// payloads to POST /v1/intake/{source}. A source checks the payload's
// HMAC-SHA256 signature, tells an order from an event by a header, and
// maps the payload to a §4 order with a jq program compiled once, when the
// node config is read. What comes out goes through the normal intake.
//
//   {"sources": {"shopify": {
//      "transform": "sources/shopify.jq",
//      "signature": {"header": "X-Shopify-Hmac-Sha256",
//                    "secret_env": "SHOPIFY_SECRET", "encoding": "base64"},
//      "events": {"header": "X-Shopify-Topic",
//                 "map": {"orders/cancelled": "cancel_order"}}}}}

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <caf/expected.hpp>

#include "flows/diagnostics.hpp"
#include "flows/json.hpp"
#include "flows/limits.hpp"

namespace orca {

/// A compiled jq program. Runs are serialised: libjq's state is not shared
/// between threads.
class jq_transform {
public:
  /// Compiles `program`; the error holds jq's messages and names `origin`.
  static caf::expected<std::shared_ptr<jq_transform>>
  compile(const std::string& program, const std::string& origin);

  ~jq_transform();
  jq_transform(const jq_transform&) = delete;
  jq_transform& operator=(const jq_transform&) = delete;

  /// The one value the program yields for the JSON text `input`, as JSON
  /// text. An input jq cannot parse, a jq error, no value or more than one
  /// is an error with jq's message.
  caf::expected<std::string> run(std::string_view input) const;

  const std::string& origin() const {
    return origin_;
  }

private:
  struct state;
  explicit jq_transform(std::unique_ptr<state> s, std::string origin);
  std::unique_ptr<state> state_;
  std::string origin_;
};

enum class signature_encoding : uint8_t { hex, base64 };

/// How a source's payloads are signed: HMAC-SHA256 of the raw body with
/// `secret`, in `header`, hex or base64, with an optional "sha256=" prefix.
struct source_signature {
  std::string header;
  std::string secret;
  signature_encoding encoding = signature_encoding::hex;
};

/// A header whose value says a payload is an event, and which.
struct source_events {
  std::string header;
  /// header value -> event type (cancel_order cancels the order).
  std::map<std::string, std::string> map;
};

struct source_config {
  std::string transform_file; ///< as resolved against the config's folder
  std::shared_ptr<jq_transform> transform;
  std::optional<source_signature> signature;
  std::optional<source_events> events;
};

/// Reads the node config's "sources" object. Transform files are read and
/// compiled now, relative to `config_dir`; secrets are read from the
/// environment now. Problems go to `diags`, naming the field.
std::map<std::string, source_config>
parse_sources(const json_value& json, const std::string& config_dir,
              const limits& lim, diagnostics& diags);

/// The HMAC-SHA256 of `body` under `how.secret`, in `how.encoding`, as a
/// sender puts it in its header.
std::string sign_payload(const source_signature& how, std::string_view body);

/// Whether `signature` (a header's value) is the HMAC-SHA256 of `body`
/// under `how`; compared in constant time.
bool signature_matches(const source_signature& how, std::string_view signature,
                       std::string_view body);

/// What a source made of one payload.
struct intake_payload {
  /// The order's JSON text, or the event's order id.
  std::string order_or_id;
  /// Empty for an order; else the event type.
  std::string event;
};

/// A refusal: the HTTP status (400, 401, 413) and why.
struct intake_refusal {
  unsigned status;
  std::string error;
};

/// Checks and maps one payload: the signature (when the source has one),
/// §8's size and depth limits, the event header, the transform. Header
/// names in `headers` are compared without regard to case.
std::pair<std::optional<intake_payload>, intake_refusal>
map_payload(const source_config& source, std::string_view body,
            const limits& lim,
            const std::vector<std::pair<std::string, std::string>>& headers);

} // namespace orca
