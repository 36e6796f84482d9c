#include "protocols/membership/failure_detector.hpp"

#include <algorithm>
#include <cmath>

namespace troupe::membership {

namespace {

double to_ms(duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

} // namespace

failure_detector::failure_detector(const detector_settings& cfg, time_point now)
  : cfg_(cfg), last_(now) {
  // Seed the history with the expected interval so the first verdicts are sane before any
  // rhythm has been observed.
  auto seed = to_ms(cfg_.interval);
  intervals_ms_.push_back(seed);
  sum_ = seed;
  sum_sq_ = seed * seed;
}

void failure_detector::heartbeat(time_point now) {
  if (now <= last_) // a reordered or same-instant heartbeat says nothing about the rhythm
    return;
  auto x = to_ms(now - last_);
  last_ = now;
  intervals_ms_.push_back(x);
  sum_ += x;
  sum_sq_ += x * x;
  if (intervals_ms_.size() > std::max<size_t>(cfg_.window, 1)) {
    auto old = intervals_ms_.front();
    intervals_ms_.pop_front();
    sum_ -= old;
    sum_sq_ -= old * old;
  }
}

double failure_detector::mean_ms() const {
  return sum_ / static_cast<double>(intervals_ms_.size());
}

double failure_detector::std_dev_ms() const {
  auto n = static_cast<double>(intervals_ms_.size());
  auto mean = sum_ / n;
  return std::sqrt(std::max(0.0, sum_sq_ / n - mean * mean));
}

double failure_detector::phi(time_point now) const {
  auto elapsed = to_ms(now - last_);
  if (elapsed <= 0)
    return 0;
  auto sigma = std::max(std_dev_ms(), to_ms(cfg_.min_std_dev));
  auto y = (elapsed - mean_ms()) / sigma;
  // Logistic approximation of the normal CDF (error < 0.01%), as in Akka's detector; it stays
  // finite far into the tail where 1 - erf() would round to zero.
  auto e = std::exp(-y * (1.5976 + 0.070566 * y * y));
  if (elapsed > mean_ms())
    return -std::log10(e / (1.0 + e));
  return -std::log10(1.0 - 1.0 / (1.0 + e));
}

verdict failure_detector::check(time_point now) const {
  if (now - last_ >= cfg_.timeout)
    return verdict::dead;
  if (phi(now) >= cfg_.phi_suspect)
    return verdict::suspect;
  return verdict::alive;
}

time_point failure_detector::next_change(time_point now) const {
  auto v = check(now);
  if (v == verdict::dead)
    return time_point::max();
  auto dead_at = last_ + cfg_.timeout;
  if (v == verdict::suspect)
    return dead_at;
  // Phi grows with the silence: the first millisecond at which it reaches the threshold.
  if (check(dead_at - milliseconds(1)) != verdict::suspect)
    return dead_at;
  auto lo = now;                       // alive here
  auto hi = dead_at - milliseconds(1); // suspect here
  while (hi - lo > milliseconds(1)) {
    auto mid = lo + (hi - lo) / 2;
    (check(mid) == verdict::alive ? lo : hi) = mid;
  }
  return hi;
}

} // namespace troupe::membership
