// `troupe status --connect HOST:PORT [--json]`: asks any node for the cluster's membership.
#pragma once

#include "nodes/cli.hpp"

namespace troupe {

/// Prints the status on stdout; on failure one line on stderr. Returns the exit code
/// (exit_code::unavailable when the node cannot be reached within the timeout).
int run_status(const status_command& cmd);

} // namespace troupe
