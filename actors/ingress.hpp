// The ingress: the entrance of a node. Other nodes, clients (`troupe ctl`, `kv`, `status`,
// `console`) and the node's own user actors talk to the node through it; it checks the console
// token on commands that change anything and hands each message to the service that handles
// it, as the service directory has it now. It keeps no state, so the services behind it
// restart without the entrance closing.
//
// What is published on the cluster port is the door (spawn_door), which lives as long as the
// node and hands every message to the ingress of the moment. A remote handle to the door never
// dies while the node runs, so the ingress can be killed and started again by its supervisor
// without any client or peer losing its handle: a request that was in the dead ingress's
// mailbox is answered with an error (CAF bounces it), and the next reaches the new one. (A
// republished actor would not do: CAF 0.17 drops, without an answer, a request sent to the
// proxy of a remote actor that died, so the client would wait for its timeout.)
//
// What goes where:
//   frame (membership protocol)            -> membership (server or agent)
//   peer_hello_atom -> bool, raft_frame    the Raft replica (coordinators), from Raft peers
//                                          only (raft_peers): anyone else's is refused,
//                                          counted (not_permitted) and logged
//   KV, cluster-state commands, bus fetches, vnodes, deployments, raft status
//                                          -> the Raft replica on a coordinator; a worker's
//                                             membership agent relays them to its coordinator
//   route, route_batch                     -> router
//   deliver, deliver_batch, handoff, instances -> vnodes
//   console commands (actors_atom ...)     -> inspector
//   bus publish, subscribe, deliver        -> bus
//   migrations_atom                        -> migrator
//   log_roller_atom -> actor, log_rotate_atom   the log-roller here, else (a worker) through
//                                          its coordinator
#pragma once

#include "actors/endpoint.hpp"
#include "actors/supervision/services.hpp"

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/fwd.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace troupe {

struct actor_stats;

struct ingress_config {
  std::shared_ptr<service_directory> services;
  std::string console_token;  // commands that change anything need it ("": none)
  bool coordinator = false;   // runs a Raft replica: KV goes there directly
  // The coordinator group (--peers): Raft messages are taken only from a node that says it is
  // a coordinator at one of these addresses (the group's other members).
  std::vector<endpoint> raft_peers;
  // Tests (--fault-injection): (inject_fault_atom, "drop"|"duplicate"|"corrupt") garbles the
  // next frame this node sends to another node. Unset: the message is refused.
  std::function<bool(const std::string&)> inject_fault;
};

using inject_fault_atom = caf::atom_constant<caf::atom("t_inject")>;

caf::actor spawn_ingress(caf::actor_system& sys, ingress_config cfg,
                         std::shared_ptr<actor_stats> stats = nullptr);

/// The actor published on the node's port: it hands every message to the ingress of the moment
/// (its reply goes straight to the sender), or answers "restarting: try again" while there is
/// none. It lives until the node stops it.
caf::actor spawn_door(caf::actor_system& sys, std::shared_ptr<service_directory> services);

} // namespace troupe
