// `troupe run`: brings a node up in order (pid file, data dir, actor system, membership actor,
// cluster port, HTTP port, local workers), waits for SIGTERM/SIGINT or a fatal event, and takes
// it down in the reverse order. Returns the process exit code.
#pragma once

#include "actors/api/actor_types.hpp"
#include "actors/api/migrations.hpp"
#include "nodes/node_config.hpp"

#include <memory>

namespace troupe {

/// Runs a node; a node with the worker role runs deployments of the actor types in `types`.
int run_node(const node_config& cfg, std::shared_ptr<const actor_types> types,
             std::shared_ptr<const migration_list> migrations = nullptr);

} // namespace troupe
