// A worker's vnodes: one actor per vnode (vnode_actor.hpp), under the `vnodes` supervisor of
// the node's tree. Each vnode actor owns its deployment instances, its hand-over buffer, its
// at-least-once de-duplication tables and its ownership epoch; its decisions are the pure
// core protocols/ownership/vnode_owner. The supervisor follows the cluster view the node's
// membership pushes (the vnode map, the main worker, the deployments, the migrations), gives
// each vnode actor its part of it, hands it the events routed to it, and starts it again
// when it crashes. Singletons live in one more vnode actor (`vnode-main`) owned by the main
// worker.
//
// Ownership is fenced: nothing is handed to an instance while this worker's lease has run
// out (the node lease, renewed by its membership agent), and a fenced worker stops every
// instance until the next view confirms its vnodes. A view older than this worker's join
// (its incarnation) is ignored: it may not show the moves made while the worker was gone.
//
// Its messages are vnodes_actor below: what other nodes send it (vnodes_peer_actor, through
// their router and this node's ingress) and what this node's own services send it.
#pragma once

#include "actors/api/actor_types.hpp"
#include "actors/api/event.hpp"
#include "actors/api/migrations.hpp"
#include "actors/inspect/actor_registry.hpp"
#include "actors/supervision/services.hpp"
#include "actors/wire.hpp"
#include "protocols/clock.hpp"

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace troupe {

struct actor_stats;

using deliver_atom = caf::atom_constant<caf::atom("deliver")>;
using deliver_batch_atom = caf::atom_constant<caf::atom("deliv_bat")>;
using deliver_msg_atom = caf::atom_constant<caf::atom("deliv_msg")>;
using instances_atom = caf::atom_constant<caf::atom("instances")>;
using fence_atom = caf::atom_constant<caf::atom("fence")>;
using vnode_state_atom = caf::atom_constant<caf::atom("vn_state")>;
using vnode_no_state_atom = caf::atom_constant<caf::atom("vn_nostate")>;
using vnode_request_atom = caf::atom_constant<caf::atom("vn_request")>;

/// What a worker's vnodes take from other nodes (routers and the old owners of vnodes).
using vnodes_peer_actor = caf::typed_actor<
  // (deployment, vnode, epoch, event): the instance's reply; an error when this worker does
  // not serve the vnode (an event for a vnode that moved is passed on to the new owner once).
  caf::replies_to<deliver_atom, std::string, uint32_t, uint64_t, event>::with<std::string>,
  // (deployment, vnode, epoch, message): a message of the user's own types, handed on to the
  // instance with the request it came with: the instance answers the requester itself.
  caf::reacts_to<deliver_msg_atom, std::string, uint32_t, uint64_t, caf::message>,
  // (deployment, vnodes, epochs, keys, payloads): at-most-once, handed to their instances in
  // order, fire and forget; answers how many were accepted.
  caf::replies_to<deliver_batch_atom, std::string, std::vector<uint32_t>, std::vector<uint64_t>,
                  std::vector<std::string>, std::vector<std::string>>::with<uint64_t>,
  // The same with (sender, seqs): at-least-once, answered once every instance handled its
  // events (their replies, in order); an event whose (sender, seq) was handled is skipped.
  caf::replies_to<deliver_batch_atom, std::string, std::vector<uint32_t>, std::vector<uint64_t>,
                  std::vector<std::string>, std::vector<std::string>, uint64_t,
                  std::vector<uint64_t>>::with<std::vector<std::string>>,
  // (vnode, epoch, deployments, states, seen): a vnode's state from its old owner.
  caf::reacts_to<vnode_state_atom, uint32_t, uint64_t, std::vector<std::string>,
                 std::vector<std::string>, std::vector<std::string>>,
  // (vnode, epoch, ask_instead): the old owner has none (ask the other).
  caf::reacts_to<vnode_no_state_atom, uint32_t, uint64_t, std::string>,
  // (vnode, epoch, requester): the new owner asks for a vnode's state.
  caf::reacts_to<vnode_request_atom, uint32_t, uint64_t, std::string>>;

/// The vnodes supervisor's interface.
using vnodes_actor = vnodes_peer_actor::extend<
  // A new cluster view (state::encode_view).
  workload_sig,
  // Lost its coordinator: stop everything.
  caf::reacts_to<fence_atom>,
  // "deployment/vnode/running" per instance.
  caf::replies_to<instances_atom>::with<std::vector<std::string>>,
  // (deployment, vnode): that instance (invalid when none).
  caf::replies_to<instances_atom, std::string, uint32_t>::with<caf::actor>,
  metrics_sig>;

/// The key prefix of a node problem (node_problems.hpp) "deployment D needs a type this node
/// does not have", followed by the deployment's name.
constexpr const char* missing_type_key = "missing-type/";

/// The vnode id of the singletons' actor (the main worker owns it).
constexpr uint32_t main_slot = 0xFFFFFFFFu;

/// The deployment config key that asks for periodic snapshots (saved to the instance records).
constexpr const char* snapshot_every_key = "snapshot-every-ms";

struct vnodes_config {
  std::string node_name;  // this worker's member name: the owner name in the vnode map
  std::string data_dir;
  std::shared_ptr<const actor_types> types;
  // The node's services: in every instance's context (router, ingress, bus); where periodic
  // snapshots go (the ingress); where states and misrouted events go (the router); the lease.
  std::shared_ptr<service_directory> services;
  std::shared_ptr<actor_registry> registry;  // vnode actors and instances are listed there
  std::shared_ptr<const migration_list> migrations;  // no instance starts before they are done
  duration lease = milliseconds(1000);  // the cluster's worker lease (hand-over waits)
  duration restart_delay = milliseconds(500);
  size_t handoff_buffer = 10000;  // events buffered per vnode while its state is on the way
};

vnodes_actor spawn_vnodes(caf::actor_system& sys, vnodes_config cfg,
                          std::shared_ptr<actor_stats> stats = nullptr);

} // namespace troupe
