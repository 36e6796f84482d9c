#define CAF_SUITE failure_detector
#include <caf/test/unit_test.hpp>

#include "protocols/membership/failure_detector.hpp"

using namespace troupe;
using namespace troupe::membership;
using std::chrono::milliseconds;

namespace {

detector_settings settings() {
  detector_settings s;
  s.interval = milliseconds(200);
  s.timeout = milliseconds(1500);
  s.phi_suspect = 8.0;
  s.min_std_dev = milliseconds(50);
  return s;
}

/// Feeds `fd` `beats` heartbeats 200 ms apart after `t`, which ends at the last one.
void steady(failure_detector& fd, time_point& t, int beats) {
  for (int i = 0; i < beats; ++i) {
    t += milliseconds(200);
    fd.heartbeat(t);
  }
}

} // namespace

CAF_TEST(a steady rhythm keeps the peer alive and phi low) {
  time_point t0{};
  failure_detector fd{settings(), t0};
  auto t = t0;
  steady(fd, t, 50);
  CAF_CHECK_EQUAL(fd.mean_ms(), 200.0);
  CAF_CHECK_EQUAL(fd.std_dev_ms(), 0.0);
  CAF_CHECK(fd.check(t + milliseconds(150)) == verdict::alive);
  CAF_CHECK_LESS(fd.phi(t + milliseconds(200)), 1.0);
}

CAF_TEST(phi grows with silence and crosses the suspect threshold before the hard timeout) {
  time_point t0{};
  failure_detector fd{settings(), t0};
  auto t = t0;
  for (int i = 0; i < 20; ++i) {
    t += milliseconds(200);
    fd.heartbeat(t);
  }
  double last = 0;
  for (int ms = 0; ms <= 1000; ms += 50) {
    auto p = fd.phi(t + milliseconds(ms));
    CAF_CHECK_GREATER_OR_EQUAL(p, last);
    last = p;
  }
  // With mean 200 ms and sigma floored at 50 ms, phi passes 8 about 5.5 sigma out.
  CAF_CHECK(fd.check(t + milliseconds(400)) == verdict::alive);
  CAF_CHECK(fd.check(t + milliseconds(600)) == verdict::suspect);
  CAF_CHECK(fd.check(t + milliseconds(1499)) == verdict::suspect);
  CAF_CHECK(fd.check(t + milliseconds(1500)) == verdict::dead);
}

CAF_TEST(an irregular rhythm widens the tolerance) {
  time_point t0{};
  auto steady_t = t0;
  auto jitter_t = t0;
  failure_detector steady{settings(), t0};
  failure_detector jittery{settings(), t0};
  for (int i = 0; i < 40; ++i) {
    steady_t += milliseconds(200);
    steady.heartbeat(steady_t);
    jitter_t += milliseconds(i % 2 == 0 ? 50 : 350);
    jittery.heartbeat(jitter_t);
  }
  CAF_CHECK_GREATER(jittery.std_dev_ms(), 100.0);
  CAF_CHECK_LESS(jittery.phi(jitter_t + milliseconds(500)),
                 steady.phi(steady_t + milliseconds(500)));
}

CAF_TEST(the window forgets old intervals) {
  auto s = settings();
  s.window = 10;
  time_point t{};
  failure_detector fd{s, t};
  for (int i = 0; i < 10; ++i) {
    t += milliseconds(1000);
    fd.heartbeat(t);
  }
  for (int i = 0; i < 10; ++i) {
    t += milliseconds(100);
    fd.heartbeat(t);
  }
  CAF_CHECK_EQUAL(fd.mean_ms(), 100.0);
}

CAF_TEST(reordered heartbeats do not move time backwards) {
  time_point t{};
  failure_detector fd{settings(), t};
  fd.heartbeat(t + milliseconds(200));
  fd.heartbeat(t + milliseconds(100));
  CAF_CHECK(fd.last_heartbeat() == t + milliseconds(200));
}

CAF_TEST(next change is the first millisecond the verdict worsens) {
  time_point t0{};
  failure_detector fd{settings(), t0};
  auto t = t0;
  steady(fd, t, 20);
  // Alive now: next is when it becomes suspect, before the hard timeout.
  auto at = fd.next_change(t + milliseconds(10));
  CAF_CHECK(fd.check(at) == verdict::suspect);
  CAF_CHECK(fd.check(at - milliseconds(1)) == verdict::alive);
  CAF_CHECK(at < t + milliseconds(1500));
  // Suspect: next is the hard timeout; dead: nothing more.
  CAF_CHECK(fd.next_change(at) == t + milliseconds(1500));
  CAF_CHECK(fd.check(t + milliseconds(1500)) == verdict::dead);
  CAF_CHECK(fd.next_change(t + milliseconds(1500)) == time_point::max());
  // A heartbeat moves it on.
  fd.heartbeat(t + milliseconds(200));
  CAF_CHECK(fd.next_change(t + milliseconds(210)) > at);
}
