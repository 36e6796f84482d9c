// Whether this node is the cluster's main worker (the Kibana RFC's main process): the one
// worker the coordinators' leader picked, under a lease, to run what must run once per
// cluster. True in a cluster of one. A worker that loses its coordinator stops being main at
// once (it fences itself, as it does for its vnodes), before the leader may pick another.
#pragma once

#include <cstdint>

namespace troupe {

/// True while this node is the main worker.
bool is_main_worker();

/// The fencing token of this node's term as main worker: the Raft log index of the
/// assignment (0 when it is not main). A later main worker always has a larger one.
uint64_t main_worker_epoch();

namespace detail {

/// Set by the node's vnode host as the cluster view says (epoch 0: not main).
void set_main_worker(uint64_t epoch);

} // namespace detail

} // namespace troupe
