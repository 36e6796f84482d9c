// A client's connection to any node: CAF's middleman `connect` with a timeout, never
// remote_actor(), which has none and blocks forever against a hung node.
#pragma once

#include "actors/endpoint.hpp"
#include "protocols/clock.hpp"

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include <string>

namespace troupe {

/// Returns the actor published at `target`, or an invalid handle with `problem` set.
caf::actor connect_node(caf::actor_system& sys, caf::scoped_actor& self, const endpoint& target,
                        duration timeout, std::string& problem);

} // namespace troupe
