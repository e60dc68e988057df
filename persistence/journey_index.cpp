#include "persistence/journey_index.hpp"

#include "persistence/keys.hpp"
#include "persistence/records.hpp"

namespace orca {

std::string journey_state_index_key(std::string_view journey_key,
                                    std::string_view record) {
  auto state = journey_state_in(record);
  if (!state)
    return {};
  return journey_state_key(journey_key,
                           static_cast<uint8_t>(visible_state(*state)));
}

} // namespace orca
