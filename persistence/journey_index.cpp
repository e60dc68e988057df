#include "persistence/journey_index.hpp"

#include "persistence/keys.hpp"
#include "persistence/records.hpp"

namespace orca {

std::string journey_state_index_key(std::string_view journey_key,
                                    std::string_view record) {
  auto id = journey_id::from_key(journey_key);
  auto state = journey_state_in(record);
  if (!id || !state)
    return {};
  return journey_state_key(id->flow,
                           static_cast<uint8_t>(visible_state(*state)),
                           id->order_id, id->version);
}

} // namespace orca
