#include "actors/wire.hpp"

#include <caf/actor_system_config.hpp>

namespace troupe {

void register_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<frame>("troupe.frame");
}

} // namespace troupe
