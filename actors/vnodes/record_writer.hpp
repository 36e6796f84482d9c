// A worker's writer of instance records (internal to actors/vnodes): its vnode actors hand it
// the claims, appends and saves of their instances' records, and it proposes them to the
// cluster state through the node's door, gathering into one Raft entry what comes while
// earlier ones are on their way. Without it a batch of events over 64 vnodes made 64 Raft
// entries and 64 round trips to the leader.
#pragma once

#include "actors/supervision/services.hpp"
#include "protocols/cluster_state/instance_store.hpp"

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace troupe {

using record_op_atom = caf::atom_constant<caf::atom("rec_op")>;

/// (record_op_atom, command) -> (refusal, position, data): as raft_actor's instance_cmd_atom
/// answers each command (protocols/cluster_state/instance_store.hpp); an error when its outcome
/// is not known (the door is restarting, the leader did not answer in time).
using record_writer_actor = caf::typed_actor<
  caf::replies_to<record_op_atom, state::instance_cmd>::with<uint64_t, uint64_t, std::string>>;

struct record_writer_config {
  std::shared_ptr<service_directory> services;  // the node's door
  size_t max_in_flight = 2;        // proposals on their way at once; the rest wait and gather
  size_t max_batch_bytes = 1u << 20;  // of keys, payloads and snapshots in one proposal
};

record_writer_actor spawn_record_writer(caf::actor_system& sys, record_writer_config cfg);

} // namespace troupe

// Passed between actors of one node only, never serialized.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(troupe::state::instance_cmd)
