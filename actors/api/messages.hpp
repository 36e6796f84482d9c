// The messages a user's actor exchanges with its node through the public API (send.hpp,
// bus.hpp, singleton.hpp): the atoms that open them. The node's services define the rest of
// their vocabulary in their own headers, which users never include.
#pragma once

#include <caf/atom.hpp>

namespace troupe {

/// (route_atom, deployment, key, payload) -> string: an event to a deployment, routed by key
using route_atom = caf::atom_constant<caf::atom("route")>;

/// (route_msg_atom, deployment, key, caf::message) -> what the instance replies: a message of
/// the user's own types (registered on every node with node::add_message_type), routed by key
/// like an event, at most once; see send.hpp
using route_msg_atom = caf::atom_constant<caf::atom("route_msg")>;

/// (state_cmd_atom, encoded command) -> (bool ok, uint64_t index, string reason): a change of
/// the cluster state (deploy, undeploy, ...), committed through Raft
using state_cmd_atom = caf::atom_constant<caf::atom("state_cmd")>;

/// (jobs_cmd_atom, encoded command) -> (outcomes, epochs): a batch of shared-work operations
/// (submits, queue changes, retries, results), committed through Raft (see jobs.hpp)
using jobs_cmd_atom = caf::atom_constant<caf::atom("jobs_cmd")>;

/// (jobs_view_atom, queue or set, what) -> JSON: the shared work at a linearizable read (queues,
/// jobs, tasks, a set's members; see actors/jobs/jobs_view.hpp)
using jobs_view_atom = caf::atom_constant<caf::atom("jobs_view")>;

/// (bus_publish_atom, ns, topic, payload, persist, send_to_self) -> uint64_t index
using bus_publish_atom = caf::atom_constant<caf::atom("bus_pub")>;
/// (bus_subscribe_atom, ns, topic, subscriber)
using bus_subscribe_atom = caf::atom_constant<caf::atom("bus_sub")>;
/// (bus_message_atom, ns, topic, payload, index, origin): a broadcast, to a subscriber
using bus_message_atom = caf::atom_constant<caf::atom("bus_msg")>;

} // namespace troupe
