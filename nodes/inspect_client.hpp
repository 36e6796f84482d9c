// The console's inspection commands as a client runs them: `troupe ctl actors|inspect|tree|
// spawn|tell|ask|kill|logs` (and the same lines typed into `troupe console`).
//
// The client asks the node it is connected to for the members, then talks to each member's
// inspector directly at the member's address: a command about the whole cluster (actors, tree)
// asks every live member; a command about one actor finds the member that has it, from its id
// ("<node>/<n>") or, for a name, by asking every member.
#pragma once

#include "nodes/cli.hpp"

#include <caf/fwd.hpp>

#include <string>

namespace troupe {

/// Runs an inspection command against `node` (the connected node's published actor). Returns
/// the exit code: 0 done; 1 unknown actor or a refusal by the actor; 64 bad input; 69 the
/// node asked for could not be reached; 77 refused for want of the console token.
int run_inspect(caf::actor_system& sys, caf::scoped_actor& self, const caf::actor& node,
                const ctl_command& cmd, const std::string& prefix);

} // namespace troupe
