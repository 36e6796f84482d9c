// The membership actor of a coordinator. Who is in the cluster is part of the replicated
// state (protocols/cluster_state/member_registry.hpp): this actor proposes joins and state
// changes through its Raft replica and serves the view every replica applies. What stays local
// is failure detection of the members connected here: their heartbeats, closed connections
// and the failure detector decide their state, which this actor keeps the replicated state in
// line with (proposing again after a failed proposal, and marking down, after the failure
// timeout, members the replicated state says it holds but that are not connected here).
// It registers its own coordinator in the replicated state, and again whenever the state says
// otherwise (after the leader declared it lost).
//
// It starts serving on (start_atom, cluster_port, http_port), sent once the ports are bound.
// Its messages are membership_server_actor below; the frames carry a membership Envelope
// (see protocols/membership):
//   JoinRequest   -> JoinAccepted | JoinRejected   a worker joins once the join is committed;
//                                                  its sender is monitored
//   Heartbeat     -> HeartbeatAck                  rejoin=true when the incarnation is unknown;
//                                                  unanswered while the Raft replica has known
//                                                  no leader for longer than leader_grace
//   Leave         -> HeartbeatAck                  graceful departure: state `left`
//   StatusRequest -> StatusReply                   the view, with every coordinator's Raft state
// (frames reach it through the node's ingress). From inside the node it is the Raft replica's
// member listener (member_listener_actor), and a restarted service asks it for the current
// view (workload_pull_atom), which it sends to the asking actor as (workload_atom, ...).
// It pushes a View to every joined member whenever the view changes. A closed connection
// (down_msg) marks the member down at once; silence marks it suspect, then down, through the
// failure detector on a periodic tick.
#pragma once

#include "actors/raft/raft_actor.hpp"
#include "actors/supervision/services.hpp"
#include "actors/wire.hpp"
#include "protocols/clock.hpp"
#include "protocols/membership/membership_table.hpp"
#include "protocols/membership/types.hpp"

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

#include <functional>
#include <string>

namespace troupe {

struct actor_stats;

/// The membership server's interface: the membership protocol's frames, what the Raft
/// replica tells its member listener, and the node's own signals.
using membership_server_actor = member_listener_actor::extend<
  frame_sig,
  // (cluster_port, http_port): the ports are bound, start serving.
  caf::reacts_to<start_atom, uint16_t, uint16_t>,
  workload_pull_sig>;

struct membership_server_config {
  membership::member self;          // this node's own entry; address holds the bind host
  std::string cluster_id;
  membership::table_settings table;
  // The longest the server waits between two ticks (its housekeeping: registering itself,
  // reconciling with the replicated state); the failure detector's deadlines wake it sooner,
  // to the millisecond (membership_table::next_change), so an idle cluster is not polled.
  duration tick_interval = milliseconds(50);
  // The node's services: the Raft replica (holds the membership, serves KV) and those that
  // get the cluster view (router, bus, migrator, and the vnodes of a node that is also a
  // worker), looked up at each use since their supervisors may restart them.
  std::shared_ptr<service_directory> services;
  uint64_t raft_id = 0; // this coordinator's replica id
  duration request_timeout = std::chrono::seconds(5);  // proposals through Raft
  // How long heartbeats are still answered after the Raft replica stopped knowing a leader
  // (an election); past it, workers' leases are no longer renewed (see vouches()).
  duration leader_grace = milliseconds(500);
  uint32_t vnodes = 64;  // this node's --vnodes: it must match the cluster's
  // Called when the cluster state refuses this coordinator (its configuration does not match
  // the cluster's): the node must stop.
  std::function<void(const std::string& reason)> on_fatal;
  // Called when the cluster evicts this node (its link to another node went out of step).
  std::function<void(const std::string& reason)> on_evicted;
  // Answers (connect_atom, host, port): how an evicted member is told to restart.
  caf::actor resolver;
};

/// Spawns the membership server (counting its messages in `stats`, when given).
membership_server_actor spawn_membership_server(caf::actor_system& sys,
                                                membership_server_config cfg,
                                                std::shared_ptr<actor_stats> stats = nullptr);

} // namespace troupe
