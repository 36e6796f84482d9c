// The router of a node: takes events for a deployment from clients (`troupe ctl send`,
// `request`) and the C++ API, picks the vnode (CRC32C of the key modulo the vnode count for
// hash routing, the next vnode in turn for round robin), finds its owner in the vnode map, and
// delivers to the owner's vnode host: the local one, or the owner's node over the cluster port.
// Every node has one; it follows the cluster view its node receives.
//
// Its messages are router_actor below. Errors are routing_errc codes with the problem as
// context: an unknown deployment, a vnode without owner ("no workers"), an owner that cannot
// be reached.
//
// At-least-once deployments: every event gets this router's sender id and the next sequence
// number, and the router keeps it until its instance has handled it: after a failure (the
// owner crashed, the vnode moved) it sends it again, to whichever worker owns the vnode by
// then, every retry_interval until delivery_deadline. Instances skip an event whose (sender,
// sequence) they already handled.
#pragma once

#include "actors/api/messages.hpp"
#include "actors/bus/bus_actor.hpp"
#include "actors/jobs/job_messages.hpp"
#include "actors/supervision/services.hpp"
#include "actors/vnodes/vnodes.hpp"
#include "actors/wire.hpp"
#include "protocols/clock.hpp"

#include <caf/actor.hpp>

#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <string>

namespace troupe {

using route_batch_atom = caf::atom_constant<caf::atom("route_bat")>;
using forward_atom = caf::atom_constant<caf::atom("rt_fwd")>;

struct actor_stats;

/// The router's interface.
using router_actor = caf::typed_actor<
  // (deployment, key, payload): the instance's reply.
  caf::replies_to<route_atom, std::string, std::string, std::string>::with<std::string>,
  // (deployment, keys, payloads): how many events were accepted, in order; fails as a whole,
  // naming the first problem, when some cannot be delivered.
  caf::replies_to<route_batch_atom, std::string, std::vector<std::string>,
                  std::vector<std::string>>::with<uint64_t>,
  // (deployment, vnode, event): to that vnode's current owner (an event passed on by a
  // worker that no longer owns the vnode).
  caf::replies_to<deliver_atom, std::string, uint32_t, event>::with<std::string>,
  // (deployment, key, message): a message of the user's own types to the instance `key`
  // routes to, at most once; the instance answers the requester (an error when the message
  // holds a type not registered with this node, or cannot be delivered).
  caf::reacts_to<route_msg_atom, std::string, std::string, caf::message>,
  // (worker, message): a vnode's hand-over message (vnodes_peer_actor's vnode_state,
  // vnode_no_state or vnode_request) to worker `worker`'s vnodes.
  caf::reacts_to<forward_atom, std::string, caf::message>,
  // (worker, message): the leader's job hand-outs and cancellations, to that worker's job
  // runner (actors/jobs/job_messages.hpp).
  caf::reacts_to<job_forward_atom, std::string, caf::message>,
  // (full topic, payload, origin): a broadcast that is not persisted, to every other member;
  // answers (sent, dropped).
  caf::replies_to<bus_fanout_atom, std::string, std::string, std::string>::with<uint64_t,
                                                                                uint64_t>,
  // A new cluster view (asked for with workload_pull_atom at start).
  workload_sig, metrics_sig>;

/// What a router sends another node (its published door, which hands it on) or, for vnodes
/// of its own node, its vnodes supervisor.
using peer_node_actor = vnodes_peer_actor::extend<
  caf::reacts_to<bus_deliver_atom, std::string, std::string, std::string>>;

/// The vnode of `key` among `vnodes` (CRC32C of the key, modulo).
uint32_t vnode_of(const std::string& key, uint32_t vnodes);

struct router_config {
  std::string node_name;
  // This node's services: its vnodes (local deliveries) and membership (the view at start).
  std::shared_ptr<service_directory> services;
  caf::actor resolver;    // answers (connect_atom, host, port) like CAF's middleman actor
  duration timeout = std::chrono::seconds(5);
  duration retry_interval = milliseconds(200);
  duration delivery_deadline = std::chrono::seconds(30);
};

/// The headers that carry an at-least-once event's identity.
constexpr const char* sender_header = "troupe-sender";
constexpr const char* sequence_header = "troupe-seq";

router_actor spawn_router(caf::actor_system& sys, router_config cfg,
                          std::shared_ptr<actor_stats> stats = nullptr);

} // namespace troupe
