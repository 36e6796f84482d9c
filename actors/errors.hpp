// Every error category of Troupe's actors, registered with an actor system so that errors
// render as their text (nodes and clients both call this). The enums live with their modules:
// api/errors.hpp (routing_errc, bus_errc), raft/raft_errc.hpp, inspect/console_errc.hpp,
// supervision/service_errc.hpp, supervision/exit_errc.hpp.
#pragma once

#include <caf/error.hpp>
#include <caf/fwd.hpp>

#include <string>
#include <utility>

namespace troupe {

void add_error_categories(caf::actor_system_config& cfg);

/// A refusal with its code and the sentence a user reads.
template <class Code>
caf::error refuse(Code code, std::string why) {
  return caf::make_error(code, std::move(why));
}

} // namespace troupe
