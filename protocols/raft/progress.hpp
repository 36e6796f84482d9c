// The leader's view of one follower (etcd's Progress): what it has (match), what to send next,
// and how: probe one message at a time until the logs agree, then replicate with up to
// max_inflight messages in flight (pipelining), or wait for a snapshot to land.
#pragma once

#include "protocols/raft/types.hpp"

#include <deque>

namespace troupe::raft {

class progress {
public:
  enum class state : uint8_t { probe, replicate, snapshot };

  progress() = default;
  progress(index_t next, size_t max_inflight) : next_(next), max_inflight_(max_inflight) {
  }

  index_t match() const { return match_; }
  index_t next() const { return next_; }
  state current() const { return state_; }
  bool recent_active() const { return recent_active_; }
  void set_recent_active(bool b) { recent_active_ = b; }
  index_t pending_snapshot() const { return pending_snapshot_; }
  int snapshot_ticks() const { return snapshot_ticks_; }
  /// Ticks since the follower last acknowledged new entries.
  int stalled_ticks() const { return stalled_ticks_; }
  void tick() {
    ++snapshot_ticks_;
    ++stalled_ticks_;
  }

  /// True when no append may be sent now.
  bool paused() const;

  /// The follower acknowledged entries up to `n`. Returns false for a stale acknowledgement.
  bool maybe_update(index_t n);

  /// The follower rejected an append after `rejected`; its log ends at `hint`. Returns false
  /// for a stale rejection.
  bool maybe_decrease(index_t rejected, index_t hint);

  /// An append with entries up to `last` was sent.
  void sent(index_t last);

  /// A heartbeat was answered: the follower is alive. A probing follower may be sent the next
  /// probe; a replicating follower whose window is full gets one slot back, because appends in
  /// flight may all have been lost and only a new one (rejected at the gap) reveals it.
  void on_heartbeat_response();

  void become_probe();
  void become_replicate();
  void become_snapshot(index_t snap_index);

private:
  index_t match_ = 0;
  index_t next_ = 1;
  state state_ = state::probe;
  bool probe_sent_ = false;
  bool recent_active_ = false;
  index_t pending_snapshot_ = 0;
  int snapshot_ticks_ = 0;
  int stalled_ticks_ = 0;
  size_t max_inflight_ = 64;
  std::deque<index_t> inflight_;  // last index of each append in flight, ascending
};

} // namespace troupe::raft
