// Leases that fence vnode owners, measured on each node's own monotonic clock: no two nodes'
// clocks are ever compared.
//
// A worker holds its lease for `lease` after it *sent* a heartbeat that its coordinator
// answered (the answer may come late; the send time is the earliest the coordinator could
// have vouched for it). It serves its vnodes only while the lease holds, and a coordinator
// answers heartbeats only while it is in touch with a Raft leader and the member is not down.
//
// The Raft leader moves the vnodes of a worker that went down only once reassign_after(lease)
// has passed on its own clock since it first saw the worker down. Between them, the two
// clocks may run at rates that differ from real time by up to max_clock_drift each; waiting
// lease * (1 + drift) / (1 - drift) covers the worst case (the worker's clock slow, the
// leader's fast), plus a millisecond for rounding.
#pragma once

#include "protocols/clock.hpp"

#include <chrono>

namespace troupe::ownership {

/// The largest rate error of a node's monotonic clock against real time (1%: NTP keeps
/// ordinary clocks within 500 ppm, and monotonic clocks are not stepped).
constexpr double max_clock_drift = 0.01;

/// How long the leader waits, on its own clock, after it saw an owner down before its vnodes
/// may move: longer than the owner's lease can last in real time.
inline duration reassign_after(duration lease, double drift = max_clock_drift) {
  auto scaled = std::chrono::duration_cast<duration>(lease * ((1.0 + drift) / (1.0 - drift)));
  return scaled + milliseconds(1);
}

} // namespace troupe::ownership
