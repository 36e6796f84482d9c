// The vnode host of a worker: runs one instance of every deployment on each vnode this worker
// owns, and delivers events to them. It follows the workload its coordinator pushes (the vnode
// map and the deployments, see protocols/cluster_state): instances start when a vnode arrives
// or a deployment is added, and stop when the vnode leaves or the deployment is removed. An
// instance that dies is started again after restart_delay.
//
// A vnode that moves between two live workers keeps its state (hinted handoff): the old owner
// asks each of its instances for a snapshot (troupe::snapshot_atom), stops it and ships the
// snapshot to the new owner, which starts the instance from it (troupe::restore_atom). Events
// that reach the new owner meanwhile wait in a buffer (at most handoff_buffer per instance,
// the rest refused and counted) and are delivered in order once the instance runs; events that
// still reach the old owner are passed on to the new one. An instance whose vnode comes from a
// crashed worker, or whose snapshot does not come within handoff_timeout, starts empty.
//
// Periodic snapshots: a deployment deployed with `--config snapshot-every-ms=N` has each of
// its instances' snapshots written every N ms to the cluster's KV namespace (key
// troupe/snapshots/<deployment>@<created>/<vnode>), and an instance that starts without a handoff (its
// old owner crashed) starts from the last of them.
//
// Ownership is fenced: a worker that loses its coordinator (a closed connection, or no
// heartbeat answer within two thirds of the failure timeout, before the coordinators can
// declare it down and give its vnodes away) stops every instance until it has joined again
// and received the workload anew.
//
// Messages:
//   (workload_atom, version, bytes)                  a new cluster view (state::encode_view)
//   (deliver_atom, deployment, vnode, event)  -> string   the instance's reply; an error when
//                                                    this worker does not serve that vnode
//   (deliver_batch_atom, deployment, vnodes, keys, payloads) -> uint64   events handed to
//                                                    their instances, in order (fire and forget)
//   (deliver_batch_atom, deployment, vnodes, keys, payloads, sender, seqs) -> vector<string>
//       at-least-once: answered once every instance handled its events (their replies, in
//       order); an event whose (sender, seq) an instance already handled is skipped
//   (handoff_atom, deployment, vnode, bytes, seen)    an instance's state from its old owner,
//                                                    with its at-least-once (sender, seq) table
//   (fence_atom)                                      this worker lost its coordinator: stop
//                                                    every instance until the next workload
//   (instances_atom) -> vector<string>               "deployment/vnode/state" per instance
//   (instances_atom, deployment, vnode) -> actor     that instance (invalid when none)
#pragma once

#include "actors/api/actor_types.hpp"
#include "actors/api/migrations.hpp"
#include "actors/inspect/actor_registry.hpp"
#include "actors/supervision/services.hpp"
#include "protocols/clock.hpp"

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/fwd.hpp>

#include <memory>
#include <string>

namespace troupe {

using workload_atom = caf::atom_constant<caf::atom("workload")>;
using deliver_atom = caf::atom_constant<caf::atom("deliver")>;
using instances_atom = caf::atom_constant<caf::atom("instances")>;
using fence_atom = caf::atom_constant<caf::atom("fence")>;
using handoff_atom = caf::atom_constant<caf::atom("handoff")>;
using kv_target_atom = caf::atom_constant<caf::atom("kv_target")>;

/// The deployment config key that asks for periodic snapshots, and where they are kept.
constexpr const char* snapshot_every_key = "snapshot-every-ms";
constexpr const char* snapshot_prefix = "troupe/snapshots/";

struct vnode_host_config {
  std::string node_name;  // this worker's member name: the owner name in the vnode map
  std::string data_dir;
  std::shared_ptr<const actor_types> types;
  // The node's services: in every instance's context (router, ingress, bus), where periodic
  // snapshots go (the ingress), where events for a moved vnode are passed on (the router).
  std::shared_ptr<service_directory> services;
  std::shared_ptr<actor_registry> registry;  // where instances are listed for the console
  std::shared_ptr<const migration_list> migrations;  // no instance starts before they are done
  duration restart_delay = milliseconds(500);
  duration handoff_timeout = std::chrono::seconds(3);  // how long a new owner waits for state
  size_t handoff_buffer = 10000;  // events buffered per instance while its state is on the way
};

caf::actor spawn_vnode_host(caf::actor_system& sys, vnode_host_config cfg,
                            std::shared_ptr<actor_stats> stats = nullptr);

} // namespace troupe
