// `troupe ctl publish|subscribe|migrations` as a client runs them, against the node it is
// connected to (its bus and its migration actor).
//
//   publish TOPIC PAYLOAD [--namespace NS] [--persist] [--send-to-self]
//   subscribe TOPIC [--namespace NS] [--count N] [--wait DURATION]   one line per broadcast
//   migrations                 each registered migration and its state, cluster-wide
//   migrations retry [ID]      run a failed migration (every failed one without ID) again
#pragma once

#include "nodes/cli.hpp"

#include <caf/fwd.hpp>

#include <string>

namespace troupe {

/// Runs a bus or migrations command; returns the exit code: 0 done; 1 refused by the node
/// (bad topic, nothing to retry, fewer broadcasts than --count within --wait); 69 the node
/// could not answer; 77 refused for want of the console token.
int run_bus_command(caf::actor_system& sys, caf::scoped_actor& self, const caf::actor& node,
                    const ctl_command& cmd, const std::string& prefix);

} // namespace troupe
