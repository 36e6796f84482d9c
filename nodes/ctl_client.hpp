// `troupe ctl --connect HOST:PORT,... <command> [--json]`: operating the cluster through any
// node, one command per call, for people and scripts.
#pragma once

#include "nodes/cli.hpp"

#include <caf/fwd.hpp>

namespace troupe {

/// Runs one ctl command. Exit codes: 0 done; 1 refused by the cluster (the reason on stderr);
/// 69 the cluster could not be reached or has no quorum.
int run_ctl(const ctl_command& cmd);

/// Runs one ctl command in an actor system the caller keeps (the console's session).
int run_ctl(const ctl_command& cmd, caf::actor_system& sys);

} // namespace troupe
