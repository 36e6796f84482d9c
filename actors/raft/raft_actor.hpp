// The Raft actor of a coordinator: a thin shell around the pure `raft::raft`. It owns the
// timers (a tick every tick_interval, made lazily: it sleeps through the ticks that cannot act
// and makes them before anything reaches the replica), the durable storage (every Ready is synced before its
// messages leave), the links to its peers, and the KV state machine that committed entries
// feed.
//
// Peers reach each other through CAF's middleman `connect` (the transport seam: tests pass a
// stand-in). Raft messages travel as `raft_frame`s. A lost peer is re-resolved with backoff;
// Raft itself tolerates the messages lost meanwhile.
//
// Its messages (client requests, local or from other nodes, and its peers') are raft_actor
// below.
//
// On the leader it also watches the other coordinators: one not heard from for peer_timeout
// is proposed lost (holder_lost), which marks it and the members it holds down; members gone
// for member_forget_after are pruned.
// Writes are proposed on the leader and answered once applied; reads are linearizable
// (read-index). A follower forwards to the leader. With no leader known the request fails at
// once with "no quorum" instead of waiting.
#pragma once

#include "actors/api/messages.hpp"
#include "actors/bus/bus_actor.hpp"
#include "actors/raft/raft_errc.hpp"
#include "actors/endpoint.hpp"
#include "actors/supervision/services.hpp"
#include "actors/raft/raft_storage.hpp"
#include "actors/wire.hpp"
#include "protocols/clock.hpp"
#include "protocols/raft/types.hpp"

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/typed_actor.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace troupe {

struct actor_stats;

/// What `troupe status` shows of a coordinator's Raft replica.
struct raft_status {
  std::string role;
  uint64_t term = 0;
  uint64_t commit_index = 0;
  uint64_t applied_index = 0;
  uint64_t leader = 0;
  uint64_t id = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, raft_status& x) {
  return f(caf::meta::type_name("troupe.raft_status"), x.role, x.term, x.commit_index,
           x.applied_index, x.leader, x.id);
}

using kv_put_atom = caf::atom_constant<caf::atom("kv_put")>;
using kv_del_atom = caf::atom_constant<caf::atom("kv_del")>;
using kv_get_atom = caf::atom_constant<caf::atom("kv_get")>;
using kv_list_atom = caf::atom_constant<caf::atom("kv_list")>;
using kv_watch_atom = caf::atom_constant<caf::atom("kv_watch")>;
using raft_status_atom = caf::atom_constant<caf::atom("raft_stat")>;
using peer_hello_atom = caf::atom_constant<caf::atom("raft_helo")>;
using raft_status_all_atom = caf::atom_constant<caf::atom("raft_all")>;
using deployments_atom = caf::atom_constant<caf::atom("deploymts")>;
using vnodes_atom = caf::atom_constant<caf::atom("vnodes")>;
using member_listen_atom = caf::atom_constant<caf::atom("mem_lstn")>;
using member_view_atom = caf::atom_constant<caf::atom("mem_view")>;
// (member_changes_atom) -> JSON text: the member state changes this replica applied, newest
// last (at most member_history_max): [{"at_ms", "name", "incarnation", "from", "to", "cause"}]
using member_changes_atom = caf::atom_constant<caf::atom("mem_chgs")>;
// (leader_contact_atom, bool): to the member listener whenever this replica starts or stops
// knowing a leader (a follower that heard none for an election timeout knows none)
using leader_contact_atom = caf::atom_constant<caf::atom("ldr_cntct")>;
// (instance_cmd_atom, bytes) -> (refusals, positions, data): an encoded state::command holding
// an instances_cmd (protocols/cluster_state/instance_store.hpp), answered once applied, one
// entry per command: its state::instance_refusal (0: applied); applied, a claim's data is the
// record (state::encode_record) and an append's position its first event's; refused, the data
// says why. Only members send them (a worker's record_writer).
using instance_cmd_atom = caf::atom_constant<caf::atom("inst_cmd")>;
// (instances_view_atom, deployment or "") -> JSON, linearizable: the instance records kept
// (deployment, vnode, epoch, snapshot bytes, events logged since) without their contents.
using instances_view_atom = caf::atom_constant<caf::atom("inst_view")>;
// Shared work (protocols/jobs): jobs_cmd_atom and jobs_view_atom are in actors/api/messages.hpp
// (see kv_service_actor).

/// The KV and cluster-state service every node offers its clients: a coordinator's Raft
/// replica serves it, a worker's membership agent relays it to its coordinator. Writes are
/// answered once applied, reads are linearizable; errors are raft_errc codes.
using kv_service_actor = caf::typed_actor<
  // (key, value, expected revision or -1, client, sequence): (ok, revision)
  caf::replies_to<kv_put_atom, std::string, std::string, int64_t, uint64_t,
                  uint64_t>::with<bool, uint64_t>,
  // (key, expected revision or -1, client, sequence): (ok, revision)
  caf::replies_to<kv_del_atom, std::string, int64_t, uint64_t, uint64_t>::with<bool, uint64_t>,
  // (key): (found, value, mod revision, store revision)
  caf::replies_to<kv_get_atom, std::string>::with<bool, std::string, uint64_t, uint64_t>,
  // (prefix, limit): (keys, values, revision)
  caf::replies_to<kv_list_atom, std::string, uint64_t>::with<
    std::vector<std::string>, std::vector<std::string>, uint64_t>,
  // (prefix, after): (kinds, keys, values, revisions, revision): the events on keys under
  // `prefix` after revision `after`, in order; waits up to watch_wait for the first one (a
  // long poll). raft_errc::compacted (context: text, N) when the events after `after` are no
  // longer kept: read again and watch from revision N.
  caf::replies_to<kv_watch_atom, std::string, uint64_t>::with<
    std::vector<std::string>, std::vector<std::string>, std::vector<std::string>,
    std::vector<uint64_t>, uint64_t>,
  caf::replies_to<raft_status_atom>::with<raft_status>,
  // (bytes): (ok, incarnation, reason): proposes an encoded cluster state command
  // (protocols/cluster_state/commands.hpp: membership, deploy, undeploy, ...) and answers
  // once applied.
  caf::replies_to<state_cmd_atom, std::string>::with<bool, uint64_t, std::string>,
  // (topics, afters): state::encode_bus_fetch of what each topic kept after each index.
  caf::replies_to<bus_fetch_atom, std::vector<std::string>,
                  std::vector<uint64_t>>::with<std::string>,
  // The member state changes this replica applied (see member_changes_atom): a local read.
  caf::replies_to<member_changes_atom>::with<std::string>,
  // (topics, kept, last indexes) of the persisted broadcasts this replica keeps (a local read).
  caf::replies_to<bus_topics_atom>::with<std::vector<std::string>, std::vector<uint64_t>,
                                         std::vector<uint64_t>>,
  // (owners, epochs, version): the vnode map, linearizable.
  caf::replies_to<vnodes_atom>::with<std::vector<std::string>, std::vector<uint64_t>, uint64_t>,
  // (encoded deployments, version): linearizable.
  caf::replies_to<deployments_atom>::with<std::vector<std::string>, uint64_t>,
  // (bytes): (outcomes, epochs), once applied: a state::command holding a jobs_cmd
  // (protocols/cluster_state/commands.hpp) of queue changes, submits, retries or results;
  // each operation's jobs::outcome and, for a hand-out, its epoch, in order. The leader's own
  // operations (hand-outs, expiries) are refused from anyone else.
  caf::replies_to<jobs_cmd_atom, std::string>::with<std::vector<uint64_t>,
                                                    std::vector<uint64_t>>,
  // (queue or "", options): JSON, linearizable: every queue with its counts, or one queue in
  // detail (see jobs_view.hpp).
  caf::replies_to<jobs_view_atom, std::string, std::string>::with<std::string>,
  // Instance state (see instance_cmd_atom and instances_view_atom).
  caf::replies_to<instance_cmd_atom, std::string>::with<
    std::vector<uint64_t>, std::vector<uint64_t>, std::vector<std::string>>,
  caf::replies_to<instances_view_atom, std::string>::with<std::string>>;

/// A coordinator's Raft replica's interface: the KV service and what its node and its peers
/// say to it.
using raft_actor = kv_service_actor::extend<
  // This replica's status and every peer's that answers within peer_status_timeout.
  caf::replies_to<raft_status_all_atom>::with<std::vector<raft_status>>,
  // Before a graceful stop: a leader hands leadership to its most up-to-date connected
  // follower and answers once it is no longer leader (true) or after two election timeouts
  // (false).
  caf::replies_to<leave_atom>::with<bool>,
  // (listener, a member_listener_actor): it receives the cluster view now and after every
  // change, and whether a leader is known now and whenever that changes.
  caf::reacts_to<member_listen_atom, caf::actor>,
  // Once the node's ports are bound: start ticking and connecting to the peers.
  caf::reacts_to<start_atom>,
  // From a peer, through the node's door: true (this node runs a Raft replica; the peer
  // sends its Raft frames to the door, which hands them here).
  caf::replies_to<peer_hello_atom>::with<bool>,
  // A Raft message from a peer.
  caf::reacts_to<raft_frame>>;

/// What a Raft replica tells its member listener (the node's membership server).
using member_listener_actor = caf::typed_actor<
  // (version, bytes): the cluster view (state::encode_view: membership, vnode map,
  // deployments, ...)
  caf::reacts_to<member_view_atom, uint64_t, std::string>,
  // Whether this replica knows a leader (a follower that heard none for an election timeout
  // knows none).
  caf::reacts_to<leader_contact_atom, bool>,
  // Only the last persisted broadcast's index changed.
  caf::reacts_to<bus_head_atom, uint64_t>>;

struct raft_actor_config {
  raft::config raft;
  std::map<raft::node_id, endpoint> peers;  // every other voter and where it listens
  // Answers (connect_atom, host, port) like CAF's middleman actor (actors/link's connector);
  // the peer's door must answer (peer_hello_atom) with true.
  caf::actor resolver;
  std::string node_name;
  milliseconds tick_interval{25};
  milliseconds request_timeout{5000};
  // The largest key + value a KV put may carry: the wire's frame bound less room for the
  // request around it, so a write any node accepts can reach every replica.
  size_t max_kv_bytes = (4u << 20) - (64u << 10);
  size_t snapshot_every = 10000;  // applied entries between snapshots
  milliseconds watch_wait{4000};  // how long a watch waits for an event (below request_timeout)
  milliseconds peer_timeout{1500};         // leader: a coordinator silent this long is lost
  milliseconds peer_status_timeout{800};   // raft_status_all: how long to wait for peers
  milliseconds member_forget_after{3600 * 1000};  // gone members are pruned after this
  // A worker's lease (measured by the worker from a heartbeat's send time). The leader moves a
  // down worker's vnodes only ownership::reassign_after(vnode_lease) after it saw it down.
  milliseconds vnode_lease{1000};
  // The node's services: the leader hands jobs to workers through its router.
  std::shared_ptr<service_directory> services;
};

/// Spawns the Raft actor around storage that was already opened (and its replayed state), so
/// that storage errors stop the node before it joins anything. It starts ticking and
/// connecting to its peers on (start_atom).
/// A storage failure at run time (a write or fsync that fails) ends the actor with an
/// exit_errc::storage_failed error naming the file: the node stops with exit 74.
raft_actor spawn_raft_actor(caf::actor_system& sys, raft_actor_config cfg,
                            std::unique_ptr<raft::raft_storage> storage,
                            raft::restored_state restored,
                            std::shared_ptr<actor_stats> stats = nullptr);

} // namespace troupe
