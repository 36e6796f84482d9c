// Failure detection for one monitored peer: a phi-accrual detector (Hayashibara et al.; the
// shape Akka and Cassandra use) for the early "suspect" verdict, plus a hard timeout for "dead".
// Phi adapts to the observed heartbeat rhythm, so a slow but steady link is not suspected; the
// hard timeout guarantees an upper bound on detection that operators can configure and rely on.
#pragma once

#include "protocols/clock.hpp"

#include <cstddef>
#include <deque>

namespace troupe::membership {

enum class verdict : uint8_t { alive, suspect, dead };

struct detector_settings {
  duration interval = milliseconds(200);     // the expected heartbeat interval
  duration timeout = milliseconds(1500);     // silence after which the peer is dead
  double phi_suspect = 8.0;                  // phi at which the peer becomes suspect
  size_t window = 100;                       // heartbeat intervals remembered
  duration min_std_dev = milliseconds(50);   // floor: a perfectly regular rhythm is not a promise
};

class failure_detector {
public:
  /// Starts monitoring at `now`, as if a heartbeat had arrived then.
  failure_detector(const detector_settings& cfg, time_point now);

  /// Records a heartbeat that arrived at `now`.
  void heartbeat(time_point now);

  /// Returns the suspicion level at `now`: -log10 of the probability that a heartbeat
  /// still arrives this late, given the observed intervals.
  double phi(time_point now) const;

  /// Returns the verdict at `now`.
  verdict check(time_point now) const;

  /// Returns the earliest time (to the millisecond, not before `now`) at which, with no
  /// heartbeat in between, the verdict is worse than at `now`; time_point::max() when it is
  /// `dead` already. The time a timer needs to wake at, instead of polling.
  time_point next_change(time_point now) const;

  /// Returns the time of the last heartbeat.
  time_point last_heartbeat() const { return last_; }

  /// Returns the mean of the observed intervals in milliseconds.
  double mean_ms() const;

  /// Returns the standard deviation of the observed intervals in milliseconds (before the floor).
  double std_dev_ms() const;

private:
  detector_settings cfg_;
  time_point last_;
  std::deque<double> intervals_ms_;
  double sum_ = 0;
  double sum_sq_ = 0;
};

} // namespace troupe::membership
