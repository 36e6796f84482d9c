// The broadcast bus: one `bus` actor on every node (the Kibana RFC's broadcast between worker
// processes). Any actor publishes to a topic and subscribes to topics; topics live in
// namespaces, and a subscriber only sees what was published in its own namespace.
//
// - Not persisted (the default): the node's router sends the broadcast to every other member
//   (best effort; members that are down or unreachable count as drops), and to the
//   publishing node's own subscribers only with send_to_self.
// - Persisted: committed through Raft (protocols/cluster_state/bus_log), the last `keep` per
//   topic kept. Nodes learn the last index from the cluster view and fetch what their
//   subscribers have not seen (protocols/bus/delivery), so a subscriber gets every kept
//   broadcast once and in publish order, even one published before it subscribed or before
//   the whole cluster restarted.
//
// Messages:
//   (bus_publish_atom, ns, topic, payload, bool persist, bool send_to_self) -> uint64_t
//       the broadcast's log index when persisted (once committed), 0 otherwise
//   (bus_subscribe_atom, ns, topic, actor) -> uint64_t subscription id; the actor receives
//       (bus_message_atom, ns, topic, payload, uint64_t index, string origin) for each
//       broadcast, until it ends or unsubscribes
//   (bus_unsubscribe_atom, uint64_t id)
//   (bus_deliver_atom, full_topic, payload, origin)   a broadcast from another node's router
//   (workload_atom, version, bytes)                   a new cluster view (its bus head)
//   (bus_head_atom, uint64_t head)                    a new bus head alone
//   (metrics_atom) -> (names, values)
// Persisted broadcasts are proposed and fetched through the node's ingress; broadcasts that
// are not persisted leave through its router (both from the service directory).
//
// The subscriptions and each one's delivery cursor live in a bus_table that outlives the
// actor: a bus its supervisor restarts carries on with them, so subscribers neither lose
// their subscriptions nor get a persisted broadcast twice.
#pragma once

#include "actors/api/messages.hpp"
#include "actors/supervision/services.hpp"

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/fwd.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace troupe {

using bus_unsubscribe_atom = caf::atom_constant<caf::atom("bus_unsub")>;
using bus_deliver_atom = caf::atom_constant<caf::atom("bus_dlv")>;
using bus_fanout_atom = caf::atom_constant<caf::atom("bus_fan")>;
// (bus_head_atom, uint64_t head): only the last persisted broadcast's index changed (from a
// coordinator's Raft replica to its membership server, and on to the nodes' buses)
using bus_head_atom = caf::atom_constant<caf::atom("bus_head")>;
// (bus_fetch_atom, topics, afters) -> string: a coordinator's replica answers with
// state::encode_bus_fetch (what each topic kept after each index, and its head)
using bus_fetch_atom = caf::atom_constant<caf::atom("bus_fetch")>;

/// The bus's subscriptions, kept across restarts of the bus actor (opaque).
struct bus_table;

/// A new, empty table for the bus of `node_name`.
std::shared_ptr<bus_table> make_bus_table(const std::string& node_name);

struct bus_config {
  std::string node_name;
  std::shared_ptr<service_directory> services;  // router, ingress, membership
  std::shared_ptr<bus_table> table;             // made by spawn_bus when not given
  uint32_t keep = 100;          // persisted broadcasts kept per topic (--bus-keep)
  std::chrono::milliseconds timeout{10000}; // for a commit, a fetch, a fan-out
};

/// Returns "" when `ns` and `topic` make a valid topic name, else why not.
std::string check_topic(const std::string& ns, const std::string& topic);

struct actor_stats;

caf::actor spawn_bus(caf::actor_system& sys, bus_config cfg,
                     std::shared_ptr<actor_stats> stats = nullptr);

} // namespace troupe
