#include "protocols/raft/progress.hpp"

#include <algorithm>

namespace troupe::raft {

bool progress::paused() const {
  switch (state_) {
    case state::probe:
      return probe_sent_;
    case state::replicate:
      return inflight_.size() >= max_inflight_;
    case state::snapshot:
      return true;
  }
  return true;
}

bool progress::maybe_update(index_t n) {
  bool updated = false;
  if (match_ < n) {
    match_ = n;
    updated = true;
    probe_sent_ = false;
    stalled_ticks_ = 0;
  }
  next_ = std::max(next_, n + 1);
  while (!inflight_.empty() && inflight_.front() <= n)
    inflight_.pop_front();
  return updated;
}

bool progress::maybe_decrease(index_t rejected, index_t hint) {
  if (state_ == state::replicate) {
    if (rejected <= match_) // stale: sent before a later success
      return false;
    next_ = match_ + 1;
    return true;
  }
  if (next_ - 1 != rejected) // a probe answer for an older probe
    return false;
  next_ = std::max<index_t>(1, std::min(rejected, hint + 1));
  probe_sent_ = false;
  return true;
}

void progress::on_heartbeat_response() {
  probe_sent_ = false;
  if (state_ == state::replicate && inflight_.size() >= max_inflight_)
    inflight_.pop_front();
}

void progress::sent(index_t last) {
  if (state_ == state::replicate) {
    next_ = last + 1;
    inflight_.push_back(last);
  } else if (state_ == state::probe) {
    probe_sent_ = true;
  }
}

void progress::become_probe() {
  stalled_ticks_ = 0;
  if (state_ == state::snapshot)
    next_ = std::max(match_ + 1, pending_snapshot_ + 1);
  else
    next_ = match_ + 1;
  state_ = state::probe;
  probe_sent_ = false;
  pending_snapshot_ = 0;
  inflight_.clear();
}

void progress::become_replicate() {
  stalled_ticks_ = 0;
  next_ = match_ + 1;
  state_ = state::replicate;
  probe_sent_ = false;
  pending_snapshot_ = 0;
  inflight_.clear();
}

void progress::become_snapshot(index_t snap_index) {
  state_ = state::snapshot;
  pending_snapshot_ = snap_index;
  snapshot_ticks_ = 0;
  probe_sent_ = false;
  inflight_.clear();
}

} // namespace troupe::raft
