// A worker's lease, as its membership agent holds it, readable by the actors that serve under
// it. The agent renews it from the answered heartbeats (protocols/ownership/lease.hpp); the
// vnodes check it before they hand anything to an instance, so that a worker that wakes from
// a pause longer than its lease handles nothing queued meanwhile, even before the agent's own
// tick has noticed and fenced it.
#pragma once

#include "protocols/clock.hpp"

#include <atomic>
#include <cstdint>

namespace troupe {

class node_lease {
public:
  /// From now on the lease is checked: a worker-only node's agent calls this at start. A node
  /// that is its own coordinator never does (it needs no lease from anyone).
  void enforce() {
    enforced_.store(true, std::memory_order_release);
  }

  /// The lease holds until `t` (the steady clock).
  void renew_until(time_point t) {
    until_.store(t.time_since_epoch().count(), std::memory_order_release);
  }

  void revoke() {
    until_.store(0, std::memory_order_release);
  }

  /// The incarnation this worker joined as (the log index of its join): views older than it
  /// may miss what happened while it was away, and are ignored.
  void set_incarnation(uint64_t x) {
    incarnation_.store(x, std::memory_order_release);
  }

  uint64_t incarnation() const {
    return incarnation_.load(std::memory_order_acquire);
  }

  bool valid(time_point now) const {
    return !enforced_.load(std::memory_order_acquire)
           || now.time_since_epoch().count() < until_.load(std::memory_order_acquire);
  }

private:
  std::atomic<bool> enforced_{false};
  std::atomic<duration::rep> until_{0};
  std::atomic<uint64_t> incarnation_{0};
};

} // namespace troupe
