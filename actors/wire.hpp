// The protocol messages as CAF values inside a node: the bytes of an encoded membership
// Envelope (frame) or Raft message (raft_frame). On the wire (actors/link) they travel as
// their own envelope types (TYPE_MEMBERSHIP, TYPE_RAFT), decoded at the edge (design rule 7).
#pragma once

#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace troupe {

struct frame {
  std::string bytes;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, frame& x) {
  return f(caf::meta::type_name("troupe.frame"), x.bytes);
}

/// Raft messages between coordinators (an encoded raft.proto Message).
struct raft_frame {
  std::string bytes;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, raft_frame& x) {
  return f(caf::meta::type_name("troupe.raft_frame"), x.bytes);
}

/// A frame carries one encoded protocol message; a request gets one frame back.
using frame_sig = caf::replies_to<frame>::with<frame>;
/// A member the membership protocol talks to (a coordinator's server, a worker's agent).
using frame_peer = caf::typed_actor<frame_sig>;

// Local (same-process) signals. Atoms hold at most 10 characters.
using tick_atom = caf::atom_constant<caf::atom("t_tick")>;
using leave_atom = caf::atom_constant<caf::atom("t_leave")>;
using start_atom = caf::atom_constant<caf::atom("t_start")>;
using retry_atom = caf::atom_constant<caf::atom("t_retry")>;
/// (workload_pull_atom): a service that (re)started asks the node's membership actor for the
/// current cluster view; it arrives as (workload_atom, version, bytes) when there is one.
using workload_pull_atom = caf::atom_constant<caf::atom("t_wlpull")>;
/// (workload_atom, version, bytes): a new cluster view, pushed by the node's membership actor
/// to the services that follow it (router, bus, migrator, vnodes).
using workload_atom = caf::atom_constant<caf::atom("workload")>;
using workload_sig = caf::reacts_to<workload_atom, uint64_t, std::string>;
using workload_pull_sig = caf::reacts_to<workload_pull_atom>;
/// (metrics_atom) -> (vector<string> names, vector<uint64_t> values): an actor's counters and
/// gauges for GET /metrics. A name is "metric" or "metric;label;value".
using metrics_atom = caf::atom_constant<caf::atom("t_metrics")>;

/// The message every service answers for GET /metrics (part of each role's typed interface).
using metrics_sig =
  caf::replies_to<metrics_atom>::with<std::vector<std::string>, std::vector<uint64_t>>;
/// What a metrics handler returns.
using metrics_result = caf::result<std::vector<std::string>, std::vector<uint64_t>>;

/// Registers every message type Troupe sends, in one place: every node, client and test
/// system calls it (a missing registration in CAF fails only at run time, and quietly).
void register_types(caf::actor_system_config& cfg);

} // namespace troupe
