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
// Its messages are bus_actor below. Persisted broadcasts are proposed and fetched through the node's ingress; broadcasts that
// are not persisted leave through its router (both from the service directory).
//
// The subscriptions and each one's delivery cursor live in a bus_table that outlives the
// actor: a bus its supervisor restarts carries on with them, so subscribers neither lose
// their subscriptions nor get a persisted broadcast twice.
#pragma once

#include "actors/api/messages.hpp"
#include "actors/supervision/services.hpp"
#include "actors/wire.hpp"

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

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
// (bus_topics_atom) -> (topics, kept, last indexes): the persisted topics a coordinator's
// replica keeps, how many broadcasts of each and the log index of each one's last (the web view)
using bus_topics_atom = caf::atom_constant<caf::atom("bus_topics")>;

/// The bus's interface.
using bus_actor = caf::typed_actor<
  // (ns, topic, payload, persist, send_to_self): the broadcast's log index when persisted
  // (once committed), 0 otherwise; bus_errc on failure.
  caf::replies_to<bus_publish_atom, std::string, std::string, std::string, bool,
                  bool>::with<uint64_t>,
  // (ns, topic, subscriber): the subscription's id; the subscriber (a bus_subscriber, the
  // sender when invalid) receives each broadcast until it ends or unsubscribes.
  caf::replies_to<bus_subscribe_atom, std::string, std::string, caf::actor>::with<uint64_t>,
  caf::reacts_to<bus_unsubscribe_atom, uint64_t>,
  // (full topic, payload, origin): a broadcast from another node's router.
  caf::reacts_to<bus_deliver_atom, std::string, std::string, std::string>,
  // A new cluster view: its bus head.
  workload_sig,
  // A new bus head alone.
  caf::reacts_to<bus_head_atom, uint64_t>,
  metrics_sig>;

/// What a subscriber gets: (bus_message_atom, ns, topic, payload, index, origin).
using bus_subscriber = caf::typed_actor<
  caf::reacts_to<bus_message_atom, std::string, std::string, std::string, uint64_t, std::string>>;

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

bus_actor spawn_bus(caf::actor_system& sys, bus_config cfg,
                    std::shared_ptr<actor_stats> stats = nullptr);

} // namespace troupe
