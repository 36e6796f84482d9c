// `troupe ctl --connect HOST:PORT,... <command> [--json]`: operating the cluster through any
// node, one command per call, for people and scripts.
#pragma once

#include "nodes/cli.hpp"

namespace troupe {

/// Runs one ctl command. Exit codes: 0 done; 1 refused by the cluster (the reason on stderr);
/// 69 the cluster could not be reached or has no quorum.
int run_ctl(const ctl_command& cmd);

} // namespace troupe
