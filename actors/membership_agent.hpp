// The membership actor of a worker-only node: joins a coordinator, heartbeats, notices when the
// coordinator is gone (closed connection or unanswered heartbeats) and rejoins with backoff and
// a new incarnation. It caches the view the coordinator pushes and answers StatusRequest frames
// with it, so `troupe status` works against any node.
//
// It starts joining on (start_atom, cluster_port, http_port), sent once the ports are bound.
// Its messages are membership_agent_actor below.
#pragma once

#include "actors/endpoint.hpp"
#include "actors/log_roller.hpp"
#include "actors/raft/raft_actor.hpp"
#include "actors/supervision/services.hpp"
#include "actors/wire.hpp"
#include "protocols/clock.hpp"
#include "protocols/membership/types.hpp"

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

#include <functional>
#include <string>
#include <vector>

namespace troupe {

struct actor_stats;

/// The membership agent's interface. The KV service (the requests of kv_relay.hpp) is relayed
/// to the coordinator, with this node's console token.
using membership_agent_actor = kv_service_actor::extend<
  // From the coordinator: View on every change; Workload and BusHead, handed to the node's
  // router, bus, migrator and vnodes (their current incarnations); StatusRequest (through the
  // node's ingress) -> StatusReply.
  frame_sig,
  // (cluster_port, http_port): the ports are bound, start joining.
  caf::reacts_to<start_atom, uint16_t, uint16_t>,
  // A restarted service asks for the last view.
  workload_pull_sig,
  // A graceful stop. With a vnode host, the member first becomes `leaving` so that its vnodes
  // move away with their state (at most drain_timeout), then it leaves (`left`).
  caf::replies_to<leave_atom>::with<bool>,
  // The log file is the coordinator's: relayed there.
  caf::replies_to<log_rotate_atom>::with<std::string>>;

struct membership_agent_config {
  membership::member self;                  // address holds the bind host
  std::vector<endpoint> coordinators;
  uint32_t vnodes = 64;                     // this node's --vnodes, checked by the cluster
  // The node's services: the vnodes get the pushed workload and are fenced when the link is
  // lost; the router, bus and migrator get the workload too.
  std::shared_ptr<service_directory> services;
  std::string console_token;                // sent with writes relayed to the coordinator
  bool ship_logs = false;                   // log lines go to the coordinator's log-roller
  duration drain_timeout = std::chrono::seconds(5);  // graceful stop: longest hand-over
  // Answers (connect_atom, host, port) -> (node_id, strong_actor_ptr, set<string>): CAF's
  // middleman actor in production, a stand-in in deterministic tests (the transport seam).
  caf::actor resolver;
  duration heartbeat_interval = milliseconds(200);
  duration failure_timeout = milliseconds(1500);
  duration connect_timeout = std::chrono::seconds(2);
  duration backoff_initial = milliseconds(100);
  duration backoff_max = std::chrono::seconds(5);
  uint32_t seed = 1;                        // jitter of the rejoin backoff
  // Called on the actor's thread when the process must stop (its supervisor is gone).
  std::function<void(const std::string& reason)> on_fatal;
  // Called when the cluster evicts this node (its link to another node went out of step).
  std::function<void(const std::string& reason)> on_evicted;
  // Called when the cluster refuses this node for good (a configuration mismatch).
  std::function<void(const std::string& reason)> on_refused;
  // When set, `is_orphaned()` is asked on every tick; true stops the node through on_fatal.
  std::function<bool()> is_orphaned;
};

/// Spawns the membership agent (counting its messages in `stats`, when given); it starts
/// joining on start_atom.
membership_agent_actor spawn_membership_agent(caf::actor_system& sys,
                                              membership_agent_config cfg,
                                              std::shared_ptr<actor_stats> stats = nullptr);

} // namespace troupe
