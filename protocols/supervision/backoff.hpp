// Exponential backoff with a cap and jitter. The jitter is an input so tests stay deterministic.
#pragma once

#include "protocols/clock.hpp"

#include <cstdint>

namespace troupe::supervision {

class backoff {
public:
  backoff(duration initial, duration max, double multiplier = 2.0);

  /// Returns the next delay and advances. `jitter` in [0, 1) spreads the delay over
  /// [d/2, d) so that many nodes retrying at once do not retry in lockstep.
  duration next(double jitter);

  /// Starts over at the initial delay.
  void reset();

  /// Returns how many delays were handed out since the last reset.
  uint32_t attempts() const { return attempts_; }

private:
  duration initial_;
  duration max_;
  double multiplier_;
  duration current_;
  uint32_t attempts_ = 0;
};

} // namespace troupe::supervision
