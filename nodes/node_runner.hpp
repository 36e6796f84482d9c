// `troupe run`: brings a node up in order (pid file, data dir, actor system, membership actor,
// cluster port, HTTP port, local workers), waits for SIGTERM/SIGINT or a fatal event, and takes
// it down in the reverse order. Returns the process exit code.
#pragma once

#include "nodes/node_config.hpp"

namespace troupe {

int run_node(const node_config& cfg);

} // namespace troupe
