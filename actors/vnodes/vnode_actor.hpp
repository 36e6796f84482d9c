// One vnode of a worker (internal to actors/vnodes): its instances (one per deployment that
// runs on it), the events that wait while its state is on the way, the at-least-once
// de-duplication tables, and its ownership, decided by protocols/ownership/vnode_owner. The
// `vnodes` supervisor spawns one per vnode this worker has owned, hands it its part of each
// cluster view and the events for it, and starts it again when it crashes.
//
// Messages (from the vnodes supervisor, on this node):
//   (slot_view_atom, shared_ptr<const slot_info>)   its part of a new view
//   (fence_atom)                                     stop everything (lease ran out)
//   (deliver_atom, deployment, epoch, event) -> string
//   (deliver_batch_atom, deployment, epochs, keys, payloads) -> uint64
//   (deliver_batch_atom, deployment, epochs, keys, payloads, sender, seqs) -> vector<string>
//   (vnode_state_atom, epoch, deployments, states, seen)
//   (vnode_no_state_atom, epoch, ask_instead)
//   (vnode_request_atom, epoch, requester)
//   (instances_atom) -> vector<string>
//   (instances_atom, deployment) -> actor
#pragma once

#include "actors/api/actor_types.hpp"
#include "actors/vnodes/vnodes.hpp"
#include "protocols/cluster_state/deployments.hpp"
#include "protocols/ownership/vnode_owner.hpp"

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/fwd.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

namespace troupe {

using slot_view_atom = caf::atom_constant<caf::atom("vn_view")>;

/// What a vnode actor needs of a cluster view.
struct slot_info {
  ownership::vnode_view view;                    // its owner, epoch, previous owner
  std::vector<state::deployment_spec> deployments;  // each runs one instance here
  std::string waiting_for;  // a migration the deployments wait for ("": none)
  uint64_t version = 0;     // of the cluster view
};

/// Counters every vnode actor of a node adds to (for GET /metrics).
struct vnode_counters {
  std::atomic<uint64_t> delivered{0};
  std::atomic<uint64_t> handoffs_sent{0};
  std::atomic<uint64_t> handoffs_received{0};
  std::atomic<uint64_t> buffer_refused{0};
  std::atomic<uint64_t> duplicates{0};
  std::atomic<uint64_t> buffered{0};
};

/// What every vnode actor of a node shares.
struct vnode_shared {
  vnodes_config cfg;
  vnode_counters counters;
};

/// The name of vnode `slot`'s actor: "vnode-<id>", or "vnode-main" for the singletons.
std::string vnode_name(uint32_t slot);

/// The epoch a vnode actor serves under (0: it serves nothing), written by the actor after
/// each step of its ownership core and read by the vnodes supervisor, which hands an
/// at-most-once batch on without waiting for an answer: it counts the events of a vnode
/// that serves their epoch as accepted, as the vnode actor would.
using serving_gate = std::shared_ptr<std::atomic<uint64_t>>;

caf::actor spawn_vnode_actor(caf::actor_system& sys, uint32_t slot,
                             std::shared_ptr<vnode_shared> shared, serving_gate gate,
                             std::shared_ptr<actor_stats> stats);

} // namespace troupe

// Passed between actors of one node only, never serialized.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<const troupe::slot_info>)
