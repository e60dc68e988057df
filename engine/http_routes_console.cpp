// The web console's routes: one page for `/`, `/flows/{name}` and
// `/orders/{id}` (the script draws what the path names), and its script and
// style sheet. Open without a token, as SPEC §7 says; the page asks for one
// when the node has tokens. The content security policy keeps the page to
// what this node serves.

#include "engine/http_call.hpp"

namespace orca::http_detail {

namespace {

http_response console_response(std::string_view body, const char* type) {
  http_response r;
  r.content_type = type;
  r.body = std::string{body};
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'none'; script-src 'self'; "
                         "style-src 'self'; img-src 'self' data:; "
                         "connect-src 'self'; form-action 'self'; "
                         "base-uri 'none'; frame-ancestors 'none'");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Cache-Control", "no-cache");
  return r;
}

} // namespace

void on_console_page(call& c) {
  c.done(console_response(console_page(), "text/html; charset=utf-8"));
}

void on_console_file(call& c) {
  const auto& name = c.params[0];
  if (const auto* file = console_file_named(name))
    c.done(console_response(file->text, file->content_type));
  else
    c.done(http_error(404, "no such console file: " + name));
}

} // namespace orca::http_detail
