// Raft as a pure state machine (after etcd-io/raft): ticks, messages and requests go in; a
// Ready comes out (state to persist, messages to send, entries to apply, reads to serve). No
// clock, no I/O, no threads: the coordinator actor drives it, and tests drive thousands of
// seeded simulated clusters through it.
//
// Implemented: leader election with randomized timeouts and pre-vote (a node returning from a
// partition does not disrupt a healthy leader), check-quorum (a leader that lost its majority
// steps down within an election timeout), log replication batched per message and pipelined
// per follower, commit only by a majority in the current term, snapshots with log compaction
// and snapshot transfer to followers behind the compacted log, linearizable reads by read-index,
// and leadership transfer. The voter set is static.
#pragma once

#include "protocols/raft/progress.hpp"
#include "protocols/raft/raft_log.hpp"
#include "protocols/raft/types.hpp"

#include <map>
#include <random>
#include <set>

namespace troupe::raft {

class raft {
public:
  /// Creates a node; `restored` is what its storage held (empty on first start).
  explicit raft(config cfg, restored_state restored = {});

  /// Advances logical time by one tick.
  void tick();

  /// How many of the next ticks can only advance counters if nothing else happens first: the
  /// tick after them may act (campaign, heartbeat, check the quorum, resend a snapshot). A
  /// driver may sleep that long and then make the ticks it owes, as long as it also makes them
  /// before stepping any message (a message reads and resets those counters).
  int quiet_ticks() const;

  /// Handles a message from a peer.
  void step(const message& m);

  /// Appends a command to the log (leader only).
  propose_result propose(std::string data);

  /// Asks for a linearizable read (leader only); its read_state comes in a later Ready with
  /// this context once a majority confirmed the leadership.
  errc read_index(uint64_t context);

  /// Hands leadership to `to` (leader only): it is brought up to date, then told to campaign.
  void transfer_leadership(node_id to);

  /// Starts an election now (tests, and a node that knows it is alone).
  void campaign();

  /// The driver applied everything up to `index` and took a snapshot `data` of that state:
  /// entries up to `index` are dropped, and the snapshot serves followers that fall behind.
  void compact(index_t index, std::string data);

  /// True when take_ready() would return something.
  bool has_ready() const;

  /// Returns the work accumulated since the last call (see `ready` for the driver's duties).
  ready take_ready();

  role current_role() const { return role_; }
  term_t term() const { return term_; }
  node_id id() const { return cfg_.id; }
  node_id leader() const { return leader_; }
  index_t commit_index() const { return commit_; }
  index_t last_index() const { return log_.last_index(); }
  const raft_log& log() const { return log_; }
  node_id transferee() const { return transferee_; }

  /// Leader: how far each voter's log is known to match ours (0 when not a leader).
  index_t match_of(node_id id) const {
    auto it = progress_.find(id);
    return role_ == role::leader && it != progress_.end() ? it->second.match() : 0;
  }

private:
  // -- role transitions, one function each --------------------------------------------------
  void become_follower(term_t term, node_id leader);
  void become_pre_candidate();
  void become_candidate();
  void become_leader();
  void start_campaign(bool pre, bool forced);

  // -- message handlers -----------------------------------------------------------------------
  void step_vote_request(const message& m);
  void step_vote_response(const message& m);
  void step_leader(const message& m);
  void handle_append(const message& m);
  void handle_heartbeat(const message& m);
  void handle_snapshot(const message& m);

  // -- leader helpers -------------------------------------------------------------------------
  void send(message m);
  bool send_append(node_id to, bool allow_empty = false);
  void broadcast_append();
  void broadcast_heartbeat(uint64_t context);
  bool maybe_commit();
  void append_own(std::vector<entry> es);
  bool check_quorum_active();
  void release_reads(uint64_t context);
  size_t quorum() const { return cfg_.voters.size() / 2 + 1; }
  bool committed_in_current_term() const;
  void reset_timers();

  config cfg_;
  std::mt19937_64 rng_;
  role role_ = role::follower;
  term_t term_ = 0;
  node_id vote_ = no_node;
  node_id leader_ = no_node;
  index_t commit_ = 0;
  raft_log log_;
  std::optional<snapshot> snapshot_;  // the latest snapshot, sent to lagging followers

  int election_elapsed_ = 0;
  int heartbeat_elapsed_ = 0;
  int randomized_timeout_ = 0;
  std::set<node_id> votes_granted_;
  std::set<node_id> votes_rejected_;
  std::map<node_id, progress> progress_;
  node_id transferee_ = no_node;
  int transfer_elapsed_ = 0;

  // Read-index requests waiting for a majority's heartbeat acknowledgement, in order.
  struct pending_read {
    uint64_t context;
    index_t index;
    std::set<node_id> acks;
  };
  std::vector<pending_read> pending_reads_;
  std::vector<uint64_t> reads_before_commit_;  // asked before this term's first commit
  uint64_t read_heartbeat_ = 0;                // context of the next read heartbeat round
  bool need_broadcast_ = false;                // proposals wait for take_ready() to batch

  // What the next Ready carries.
  hard_state emitted_hard_;
  index_t unstable_from_ = 1;      // first index not yet handed out for persistence
  index_t applied_handed_ = 0;     // last index handed out as committed
  std::optional<snapshot> unstable_snapshot_;
  std::vector<message> outbox_;
  std::vector<read_state> reads_;
};

} // namespace troupe::raft
