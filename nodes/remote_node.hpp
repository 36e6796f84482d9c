// A client's connection to any node: CAF's middleman `connect` with a timeout, never
// remote_actor(), which has none and blocks forever against a hung node.
#pragma once

#include "actors/endpoint.hpp"
#include "actors/link/process_links.hpp"
#include "protocols/clock.hpp"
#include "protocols/membership/types.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/fwd.hpp>

#include <optional>
#include <string>
#include <vector>

namespace troupe {

/// The actor system of a client command (status, kv) and of tests that act as one: every
/// message type registered, the middleman loaded, two scheduler threads.
struct client_config : troupe_system_config {
  client_config();
};

/// Returns the actor published at `target`, or an invalid handle with `problem` set.
caf::actor connect_node(caf::actor_system& sys, caf::scoped_actor& self, const endpoint& target,
                        duration timeout, std::string& problem);

/// Tries `targets` in turn, starting at `*next`, until one connects; on return `*next` is the
/// index to try after that one (so callers rotate on failures). Returns an invalid handle when
/// none connects, with every problem in `problem`.
caf::actor connect_any(caf::actor_system& sys, caf::scoped_actor& self,
                       const std::vector<endpoint>& targets, duration timeout, size_t* next,
                       std::string& problem);

/// Asks `node` (any node's published actor) for its status. Returns nullopt, with the reason
/// in `problem` when given, when it does not answer within `timeout` or the answer is not a
/// status.
std::optional<membership::status_reply> request_status(caf::actor_system& sys,
                                                       caf::scoped_actor& self,
                                                       const caf::actor& node, duration timeout,
                                                       std::string* problem = nullptr);

} // namespace troupe
