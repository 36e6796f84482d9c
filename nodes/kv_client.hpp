// `troupe kv put|get|del|list --connect HOST:PORT [--json]`: linearizable access to the
// cluster's KV namespace through any node.
#pragma once

#include "nodes/cli.hpp"

namespace troupe {

/// Runs one KV operation and prints its result. Exit codes: 0 done; 1 the key was absent or a
/// compare-and-set failed; 69 the cluster could not be reached or has no quorum.
int run_kv(const kv_command& cmd);

} // namespace troupe
