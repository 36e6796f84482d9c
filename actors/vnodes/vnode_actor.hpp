// One vnode of a worker (internal to actors/vnodes): its instances (one per deployment that
// runs on it), the events that wait while its state is on the way, the at-least-once
// de-duplication tables, and its ownership, decided by protocols/ownership/vnode_owner. The
// `vnodes` supervisor spawns one per vnode this worker has owned, hands it its part of each
// cluster view and the events for it, and starts it again when it crashes.
//
// Its messages, all from the vnodes supervisor on this node, are vnode_actor below.
#pragma once

#include "actors/api/actor_types.hpp"
#include "actors/vnodes/record_writer.hpp"
#include "actors/vnodes/vnodes.hpp"
#include "protocols/cluster_state/deployments.hpp"
#include "protocols/ownership/vnode_owner.hpp"

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

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

/// A vnode actor's interface: vnodes_actor's messages for one vnode (the vnode id dropped).
using vnode_actor = caf::typed_actor<
  // Its part of a new view.
  caf::reacts_to<slot_view_atom, std::shared_ptr<const slot_info>>,
  // Stop everything (the lease ran out).
  caf::reacts_to<fence_atom>,
  caf::replies_to<deliver_atom, std::string, uint64_t, event>::with<std::string>,
  // (deployment, epoch, message): handed on to the instance, which answers the requester.
  caf::reacts_to<deliver_msg_atom, std::string, uint64_t, caf::message>,
  caf::replies_to<deliver_batch_atom, std::string, std::vector<uint64_t>, std::vector<std::string>,
                  std::vector<std::string>>::with<uint64_t>,
  caf::replies_to<deliver_batch_atom, std::string, std::vector<uint64_t>, std::vector<std::string>,
                  std::vector<std::string>, uint64_t,
                  std::vector<uint64_t>>::with<std::vector<std::string>>,
  caf::reacts_to<vnode_state_atom, uint64_t, std::vector<std::string>, std::vector<std::string>,
                 std::vector<std::string>>,
  caf::reacts_to<vnode_no_state_atom, uint64_t, std::string>,
  caf::reacts_to<vnode_request_atom, uint64_t, std::string>,
  caf::replies_to<instances_atom>::with<std::vector<std::string>>,
  caf::replies_to<instances_atom, std::string>::with<caf::actor>>;

/// What a vnode actor sends a deployment's instance. Instances are the users' actors,
/// dynamically typed: their handles are cast to this, and one without a handler answers
/// with an error.
using instance_actor = caf::typed_actor<caf::replies_to<event>::with<std::string>,
                                        caf::reacts_to<restore_atom, std::string>,
                                        caf::replies_to<snapshot_atom>::with<std::string>>;

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
  record_writer_actor writer;  // writes their instances' records (the vnodes actor's)
};

/// The name of vnode `slot`'s actor: "vnode-<id>", or "vnode-main" for the singletons.
std::string vnode_name(uint32_t slot);

/// The epoch a vnode actor serves under (0: it serves nothing), written by the actor after
/// each step of its ownership core and read by the vnodes supervisor, which hands an
/// at-most-once batch on without waiting for an answer: it counts the events of a vnode
/// that serves their epoch as accepted, as the vnode actor would.
using serving_gate = std::shared_ptr<std::atomic<uint64_t>>;

vnode_actor spawn_vnode_actor(caf::actor_system& sys, uint32_t slot,
                             std::shared_ptr<vnode_shared> shared, serving_gate gate,
                             std::shared_ptr<actor_stats> stats);

} // namespace troupe

// Passed between actors of one node only, never serialized.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<const troupe::slot_info>)
