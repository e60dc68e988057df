#include "flows/errc.hpp"

#include <caf/message.hpp>
#include <caf/sec.hpp>

namespace orca {

const char* to_string(errc code) {
  switch (code) {
    case errc::invalid_json: return "invalid_json";
    case errc::invalid_flow: return "invalid_flow";
    case errc::invalid_order: return "invalid_order";
    case errc::invalid_config: return "invalid_config";
    case errc::invalid_argument: return "invalid_argument";
    case errc::limit_exceeded: return "limit_exceeded";
    case errc::flow_exists: return "flow_exists";
    case errc::no_such_flow: return "no_such_flow";
    case errc::no_such_policy: return "no_such_policy";
    case errc::flow_is_published: return "flow_is_published";
    case errc::flow_not_published: return "flow_not_published";
    case errc::no_such_version: return "no_such_version";
    case errc::flow_not_paused: return "flow_not_paused";
    case errc::unknown_provider: return "unknown_provider";
    case errc::duplicate_order: return "duplicate_order";
    case errc::no_such_journey: return "no_such_journey";
    case errc::journey_not_failed: return "journey_not_failed";
    case errc::engine_stopped: return "engine_stopped";
    case errc::no_such_order: return "no_such_order";
    case errc::busy: return "busy";
    case errc::provider_taken: return "provider_taken";
    case errc::storage_failure: return "storage_failure";
    case errc::store_too_new: return "store_too_new";
    case errc::corrupt_record: return "corrupt_record";
    case errc::storage_full: return "storage_full";
    case errc::directory_in_use: return "directory_in_use";
    case errc::transaction_full: return "transaction_full";
    case errc::provider_failure: return "provider_failure";
    case errc::provider_timeout: return "provider_timeout";
    case errc::node_unreachable: return "node_unreachable";
    case errc::protocol_error: return "protocol_error";
    case errc::broken_invariant: return "broken_invariant";
  }
  return "unknown";
}

std::string describe(const caf::error& err) {
  if (!err)
    return "no error";
  const auto& ctx = err.context();
  if (ctx.size() == 1 && ctx.match_element<std::string>(0))
    return ctx.get_as<std::string>(0);
  if (err.category() == caf::atom("orca"))
    return to_string(static_cast<errc>(err.code()));
  if (err.category() == caf::atom("system"))
    return caf::to_string(static_cast<caf::sec>(err.code()));
  return caf::to_string(err);
}

uint8_t orca_code(const caf::error& err) {
  return err.category() == caf::atom("orca") ? err.code() : 0;
}

} // namespace orca
