#include "protocols/supervision/backoff.hpp"

#include <algorithm>

namespace troupe::supervision {

backoff::backoff(duration initial, duration max, double multiplier)
  : initial_(initial), max_(std::max(initial, max)), multiplier_(std::max(1.0, multiplier)),
    current_(initial) {
}

duration backoff::next(double jitter) {
  jitter = std::clamp(jitter, 0.0, 0.999999);
  auto d = current_;
  auto grown = std::chrono::duration_cast<duration>(current_ * multiplier_);
  current_ = std::min(grown, max_);
  ++attempts_;
  auto half = d / 2;
  return half + std::chrono::duration_cast<duration>(half * jitter);
}

void backoff::reset() {
  current_ = initial_;
  attempts_ = 0;
}

} // namespace troupe::supervision
