// Every error category of Troupe's actors, registered with an actor system so that errors
// render as their text (nodes and clients both call this). The enums live with their modules:
// api/errors.hpp (routing_errc, bus_errc), raft/raft_errc.hpp, inspect/console_errc.hpp,
// supervision/service_errc.hpp, supervision/exit_errc.hpp.
#pragma once

#include <caf/fwd.hpp>

namespace troupe {

void add_error_categories(caf::actor_system_config& cfg);

} // namespace troupe
