// The Raft actor's state and the functions its parts share (internal to actors/raft/): the
// actor itself (raft_actor.cpp), its links to peers and status gathering (raft_peers.cpp), its
// reads and watches (raft_reads.cpp), and what it does as leader (raft_leader.cpp).
#pragma once

#include "actors/owed_promises.hpp"

#include "actors/endpoint.hpp"
#include "actors/jobs/jobs_view.hpp"
#include "actors/logging.hpp"
#include "actors/raft/raft_actor.hpp"
#include "protocols/cluster_state/state_machine.hpp"
#include "protocols/raft/raft.hpp"
#include "protocols/supervision/backoff.hpp"

#include <caf/typed_event_based_actor.hpp>
#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>
#include <spdlog/spdlog.h>

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace troupe::raft_detail {

namespace r = troupe::raft;

using flush_atom = caf::atom_constant<caf::atom("r_flush")>;
using peer_retry_atom = caf::atom_constant<caf::atom("r_peer")>;
using watch_timeout_atom = caf::atom_constant<caf::atom("r_wtime")>;

struct peer_link {
  endpoint ep;
  caf::actor handle;
  bool connecting = false;
  uint64_t generation = 0;
  std::optional<supervision::backoff> backoff;
};

struct pending_read {
  std::optional<jobs::view_request> jobs;  // a view of the shared work
  std::optional<std::string> instances;    // the instance records (of one deployment, or all)
  bool deployments = false;
  bool vnodes = false;
  bool list = false;
  bool watch = false;
  uint64_t after = 0;  // watch: events after this revision
  std::string key;  // key, or prefix for list
  size_t limit = 0;
  caf::response_promise promise;
};

struct down_since {
  uint64_t incarnation = 0;
  time_point since{};  // this leader's clock
};

/// How a write is answered once applied.
enum class reply_shape : uint8_t {
  kv,      // (ok, revision)
  member,  // a cluster-state command: (ok, incarnation, reason)
  jobs,    // a jobs batch: (outcomes, epochs)
  instance,  // an instance command: (ok, pos, data)
};

struct pending_write {
  r::term_t term = 0;
  reply_shape shape = reply_shape::kv;
  caf::response_promise promise;
};

struct raft_actor_state {
  raft_actor_config cfg;
  owed_promises owed;  // requests relayed to the leader, answered as this replica exits
  std::unique_ptr<r::raft> node;
  std::unique_ptr<r::raft_storage> storage;
  state::state_machine sm;
  r::index_t applied = 0;
  r::index_t last_snapshot = 0;
  std::map<r::node_id, peer_link> peers;
  std::map<r::index_t, pending_write> writes;
  member_listener_actor member_listener;                  // the node's membership server
  uint64_t member_version_sent = 0;
  uint64_t vnode_version_sent = 0;
  uint64_t deployments_version_sent = 0;
  uint64_t bus_head_sent = 0;
  uint64_t moves_based_on = 0;                     // leader: last rebalance proposed against
  time_point moves_proposed_at{};
  // Leader: the commit index the placement was last found balanced at, with no lease running:
  // until something commits, every tick would find the same (no work while idle).
  uint64_t balanced_at = 0;
  uint64_t main_based_on = UINT64_MAX;             // leader: last main worker change proposed
  time_point main_proposed_at{};
  bool member_view_sent = false;
  std::map<r::node_id, time_point> last_heard;    // leader: the last message from each peer
  std::map<r::node_id, time_point> lost_proposed; // leader: holder_lost in flight since
  std::map<std::string, down_since> down_seen;    // leader: when it first saw each member down
  time_point last_prune_check{};
  // Leader, shared work: the index of the hand-outs and expiries last proposed (planning
  // waits for them to apply, so that no job is planned twice) and whether a job or a worker
  // changed since the last plan.
  r::index_t jobs_plan_index = 0;
  time_point jobs_plan_at{};
  bool jobs_dirty = true;
  time_point tasks_pushed_at{};   // leader: the task lists last sent to the workers
  int tasks_empty_pushes = 0;     // ... and how many more to send once no task is left
  std::vector<caf::response_promise> stepping_down;  // leave_atom: answered on losing the lead
  std::map<uint64_t, pending_read> reads_waiting;             // read context -> read
  std::vector<std::pair<r::index_t, pending_read>> reads_ready;  // confirmed, wait for apply
  std::map<uint64_t, pending_read> watches;                      // parked until an event
  uint64_t next_watch = 1;
  uint64_t next_read = 1;
  bool flush_scheduled = false;
  // Ticks are counted from tick_origin; the replica sleeps through those quiet_ticks() says
  // cannot act (a follower waits out its election timeout, a leader its heartbeat period):
  // an idle group wakes a few times a second instead of every tick.
  time_point tick_origin{};
  uint64_t ticks_made = 0;
  uint64_t tick_armed = 0;  // the earliest tick a timer is on its way for (0: none)
  r::role last_role = r::role::follower;
  r::node_id last_leader = r::no_node;
  bool failed = false;
  bool started = false;
  std::minstd_rand rng{1};
  std::shared_ptr<spdlog::logger> log = logging::get("raft");
  // The member state changes applied here, for the web view (a crashed worker is down for a
  // few hundred ms only: a page that polls would miss it, this history does not).
  struct member_change_seen {
    int64_t at_ms = 0;
    state::member_change change;
  };
  std::deque<member_change_seen> member_history;
  static constexpr size_t member_history_max = 200;

  static inline const char* name = "troupe.raft";
};

// Besides its interface, the replica tells itself to tick, to flush (one fsync per mailbox
// drain), to connect a peer again, to end a watch that saw no event, and to stop waiting
// for a leadership transfer.
using raft_impl = raft_actor::extend<
  caf::reacts_to<tick_atom, uint64_t>, caf::reacts_to<flush_atom>,
  caf::reacts_to<peer_retry_atom, r::node_id, uint64_t>,
  caf::reacts_to<watch_timeout_atom, uint64_t>,
  caf::reacts_to<leave_atom, bool>>;
using raft_class = raft_impl::stateful_base<raft_actor_state>;
using raft_ptr = raft_class*;

/// A reply's error: `x` with its text (or `text` when given).
inline caf::error failure(raft_errc x, std::string text = {}) {
  return caf::make_error(x, text.empty() ? std::string{text_of(x)} : std::move(text));
}

inline void schedule_flush(raft_ptr self) {
  // One flush per mailbox drain: everything that arrived together shares one fsync.
  if (!self->state.flush_scheduled) {
    self->state.flush_scheduled = true;
    self->send(self, flush_atom::value);
  }
}

// -- raft_peers.cpp ---------------------------------------------------------------------------

/// Sends a Raft message to its peer, connecting first when there is no link (Raft tolerates
/// the loss meanwhile).
void send_raft(raft_ptr self, const r::message& m);

/// Resolves peer `id` and asks it for its Raft actor; retries with backoff on failure.
void connect_peer(raft_ptr self, r::node_id id);

/// Forgets the link to peer `id` and schedules a reconnection.
void peer_lost(raft_ptr self, r::node_id id, const std::string& why);

/// This replica's status.
raft_status own_status(raft_actor_state& st);

/// Collects this replica's status and every connected peer's that answers in time.
caf::response_promise all_status(raft_ptr self);

// -- raft_reads.cpp ---------------------------------------------------------------------------

/// Answers a watch if it has events (or `force`, with none); returns whether it answered.
bool answer_watch(raft_ptr self, pending_read& w, bool force);

/// Answers the parked watches that have events now.
void serve_watches(raft_ptr self);

/// Answers the reads whose read index is applied.
void serve_reads(raft_ptr self);

/// Starts a linearizable read (leader only): answered once its read index is applied.
caf::response_promise read(raft_ptr self, pending_read rd);

// -- raft_leader.cpp --------------------------------------------------------------------------

/// Proposes what the leader itself decides; nobody waits for the answer.
void propose_own(raft_ptr self, const state::command& cmd);

/// Leader: declares silent coordinators lost, places the vnodes, prunes long-gone members.
void leader_duties(raft_ptr self);

/// Leader: true while leader_duties waits on the clock (a down member's lease running out, a
/// placement not yet balanced): it then runs every tick, as failover times depend on it.
bool leader_has_timed_work(raft_ptr self);

// -- raft_jobs.cpp ----------------------------------------------------------------------------

/// Leader, before a jobs batch applies: the worker of each attempt it may expire ("" for the
/// other operations), to tell them once it has.
std::vector<std::string> jobs_expiring(raft_ptr self, const state::jobs_cmd& c);

/// After a jobs batch applied: the leader sends the committed hand-outs and expiries to their
/// workers' job runners.
void jobs_applied(raft_ptr self, const state::jobs_cmd& c,
                  const std::vector<jobs::apply_result>& results,
                  const std::vector<std::string>& expiring);

/// Leader: sends every up worker the task instances it is to run (task_assign), at once with
/// `now_too`, else at most once a second.
void push_tasks(raft_ptr self, bool now_too);

/// Leader: proposes the next hand-outs and expiries (protocols/jobs plan) when a job or a
/// worker changed, or on a tick while jobs run or wait; one proposal in flight at a time.
void plan_jobs(raft_ptr self, bool tick);

/// The replica, with the ticks it is owed by now made first: everything that reaches it
/// (messages, proposals, reads, transfers) goes through here, as tests/sim drives it.
r::raft& replica(raft_ptr self);

/// Makes sure a timer wakes the replica at the next tick that may act.
void arm_tick(raft_ptr self);

} // namespace troupe::raft_detail
