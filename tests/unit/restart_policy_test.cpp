#define CAF_SUITE restart_policy
#include <caf/test/unit_test.hpp>

#include "protocols/supervision/restart_policy.hpp"

using namespace troupe;
using namespace troupe::supervision;
using std::chrono::milliseconds;
using std::chrono::seconds;

CAF_TEST(backoff doubles up to its cap and jitter stays within half to full) {
  backoff b{milliseconds(100), milliseconds(1000)};
  auto d1 = b.next(0.0);
  auto d2 = b.next(0.0);
  auto d3 = b.next(0.999);
  CAF_CHECK(d1 == milliseconds(50));
  CAF_CHECK(d2 == milliseconds(100));
  CAF_CHECK(d3 > milliseconds(390) && d3 < milliseconds(400));
  for (int i = 0; i < 10; ++i)
    CAF_CHECK(b.next(0.999) < milliseconds(1000));
  b.reset();
  CAF_CHECK(b.next(0.0) == milliseconds(50));
  CAF_CHECK_EQUAL(b.attempts(), 1u);
}

CAF_TEST(crashes are restarted until the intensity is reached) {
  restart_settings s;
  s.max_restarts = 5;
  s.period = seconds(60);
  restart_policy p{s};
  time_point t{};
  for (int i = 0; i < 5; ++i) {
    auto d = p.on_exit(exit_kind::crashed, t, t + seconds(1), 0.5);
    CAF_CHECK(d.action == restart_decision::restart);
    t += seconds(2);
  }
  auto d = p.on_exit(exit_kind::crashed, t, t + seconds(1), 0.5);
  CAF_CHECK(d.action == restart_decision::give_up_intensity);
}

CAF_TEST(restarts older than the period do not count) {
  restart_settings s;
  s.max_restarts = 2;
  s.period = seconds(10);
  restart_policy p{s};
  time_point t{};
  CAF_CHECK(p.on_exit(exit_kind::crashed, t, t, 0).action == restart_decision::restart);
  CAF_CHECK(p.on_exit(exit_kind::crashed, t, t + seconds(1), 0).action
            == restart_decision::restart);
  // Still inside the window of the restart at 1 s: a third one is refused.
  CAF_CHECK(p.on_exit(exit_kind::crashed, t, t + seconds(9), 0).action
            == restart_decision::give_up_intensity);
  // At 10.5 s the restart at 0 s has aged out, the one at 1 s still counts.
  CAF_CHECK(p.on_exit(exit_kind::crashed, t, t + milliseconds(10500), 0).action
            == restart_decision::restart);
  CAF_CHECK_EQUAL(p.recent_restarts(), 2u);
}

CAF_TEST(a configuration error is never restarted) {
  restart_policy p{restart_settings{}};
  time_point t{};
  CAF_CHECK(p.on_exit(exit_kind::config_error, t, t, 0).action
            == restart_decision::give_up_config);
}

CAF_TEST(a child that ran stably starts its backoff over) {
  restart_settings s;
  s.initial_backoff = milliseconds(100);
  s.max_backoff = seconds(10);
  s.stable_after = seconds(10);
  s.max_restarts = 100;
  restart_policy p{s};
  time_point t{};
  duration last{};
  for (int i = 0; i < 5; ++i)
    last = p.on_exit(exit_kind::crashed, t, t + seconds(1), 0).delay;
  CAF_CHECK(last == milliseconds(800));
  auto d = p.on_exit(exit_kind::crashed, t, t + seconds(30), 0).delay;
  CAF_CHECK(d == milliseconds(50));
}
