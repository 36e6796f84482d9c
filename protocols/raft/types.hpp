// Values of the Raft protocol: ids, entries, messages, persistent state and the Ready batch the
// state machine hands its driver. Plain C++; the codec maps them to raft.proto at the edge.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace troupe::raft {

using node_id = uint64_t;  // 0 means "none"
using term_t = uint64_t;
using index_t = uint64_t;

constexpr node_id no_node = 0;

enum class entry_type : uint8_t {
  normal = 0,  // a command for the state machine
  noop = 1,    // appended by a new leader to commit entries of earlier terms (Raft paper 5.4.2)
};

struct entry {
  term_t term = 0;
  index_t index = 0;
  entry_type type = entry_type::normal;
  std::string data;
};

enum class msg_type : uint8_t {
  pre_vote,         // "would you vote for me at term+1?" (does not change anyone's term)
  pre_vote_resp,
  vote,
  vote_resp,
  append,           // entries after (index, log_term), and the leader's commit
  append_resp,      // index: the follower's last matching index; reject + hint on mismatch
  heartbeat,        // commit + read-index context
  heartbeat_resp,
  snapshot,         // the leader's snapshot, for followers behind its compacted log
  timeout_now,      // leadership transfer: campaign now, ignoring the leader lease
};

/// Messages only a leader sends, carrying nothing it must have made durable first: a driver
/// may send them before it syncs the Ready they came in, so that the leader's fsync overlaps
/// its followers' (Raft thesis, 10.2.1); every other message leaves after the sync. Safe
/// because the leader counts an entry as its own only when a later Ready is processed, after
/// this one's sync. The real driver and the simulation both follow this rule.
inline bool sent_before_sync(msg_type t) {
  return t == msg_type::append || t == msg_type::heartbeat || t == msg_type::snapshot
         || t == msg_type::timeout_now;
}

/// Returns the message type's name for logs and transcripts.
const char* to_string(msg_type t);

struct snapshot_meta {
  index_t index = 0;
  term_t term = 0;
};

struct snapshot {
  snapshot_meta meta;
  std::string data;
};

struct message {
  msg_type type = msg_type::heartbeat;
  node_id from = no_node;
  node_id to = no_node;
  term_t term = 0;
  index_t index = 0;       // append: previous index; votes: candidate's last index; resp: see type
  term_t log_term = 0;     // append: previous term; votes: candidate's last term
  std::vector<entry> entries;
  index_t commit = 0;
  bool reject = false;
  index_t reject_hint = 0; // append_resp with reject: the follower's last index
  uint64_t context = 0;    // heartbeats: read-index request id; votes: 1 when forced by transfer
  std::optional<snapshot> snap;
};

/// What must survive a crash besides the log: Raft paper figure 2's persistent state plus the
/// commit index (so a restarted node re-applies no further than what it knows is committed).
struct hard_state {
  term_t term = 0;
  node_id vote = no_node;
  index_t commit = 0;

  bool operator==(const hard_state& o) const {
    return term == o.term && vote == o.vote && commit == o.commit;
  }
  bool operator!=(const hard_state& o) const { return !(*this == o); }
};

/// A linearizable read may be served once the local state machine applied `index`.
struct read_state {
  uint64_t context = 0;
  index_t index = 0;
};

/// Everything the driver must do after feeding the state machine, in this order:
/// 1. persist `snap` (if any), `hard` (if any) and `entries` (replacing any stored entries at
///    or after entries.front().index), durably;
/// 2. send `messages`;
/// 3. apply `snap` then `committed` to the state machine, serve `reads` once applied.
/// A driver takes the next Ready only after finishing this one.
struct ready {
  std::optional<hard_state> hard;
  std::optional<snapshot> snap;
  std::vector<entry> entries;
  std::vector<message> messages;
  std::vector<entry> committed;
  std::vector<read_state> reads;

  bool empty() const {
    return !hard && !snap && entries.empty() && messages.empty() && committed.empty()
           && reads.empty();
  }
};

/// What a restarting node loads from its storage.
struct restored_state {
  hard_state hard;
  std::optional<snapshot> snap;
  std::vector<entry> entries;  // consecutive, starting right after snap (or at 1)
};

enum class role : uint8_t { follower, pre_candidate, candidate, leader };

/// Returns "follower", "pre-candidate", "candidate" or "leader".
const char* to_string(role r);

struct config {
  node_id id = no_node;
  std::vector<node_id> voters;     // the whole group, this node included
  int election_ticks = 10;         // election timeout is random in [e, 2e) ticks
  int heartbeat_ticks = 1;
  size_t max_msg_entries = 512;    // batching: entries per append message
  size_t max_msg_bytes = 1 << 20;  // ... and their payload bytes (at least one entry is sent)
  size_t max_inflight = 64;        // pipelining: append messages in flight per follower
  bool pre_vote = true;
  bool check_quorum = true;
  uint64_t seed = 1;               // randomizes election timeouts (an input, for determinism)
};

/// Why a proposal or a read was not accepted.
enum class errc : uint8_t {
  none = 0,
  not_leader,
  transfer_in_progress,
  no_quorum,
};

const char* to_string(errc e);

struct propose_result {
  errc error = errc::none;
  index_t index = 0;  // where the entry went; done when an entry with this index and term applies
  term_t term = 0;
};

} // namespace troupe::raft
