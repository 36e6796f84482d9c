#define CAF_SUITE supervisor_core
#include <caf/test/unit_test.hpp>

#include "protocols/supervision/supervisor_core.hpp"

using namespace troupe;
using namespace troupe::supervision;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

using ids = std::vector<size_t>;

supervisor_core make(strategy how, uint32_t max = 3, duration period = seconds(5)) {
  return supervisor_core{how,
                         intensity{max, period},
                         {{"a", restart_type::permanent},
                          {"b", restart_type::permanent},
                          {"c", restart_type::permanent},
                          {"d", restart_type::permanent}}};
}

} // namespace

CAF_TEST(one for one restarts only the child that exited) {
  auto s = make(strategy::one_for_one);
  time_point t{};
  auto e = s.on_exit(1, child_exit::crashed, t, "boom");
  CAF_CHECK(e.stop.empty());
  CAF_CHECK(e.start == ids{1});
  CAF_CHECK(!e.escalate);
  CAF_CHECK_EQUAL(s.restarts(1), 1u);
  CAF_CHECK_EQUAL(s.restarts(0), 0u);
  CAF_CHECK(s.state(1) == child_state::running);
}

CAF_TEST(one for all stops every sibling in reverse order and starts all once they are gone) {
  auto s = make(strategy::one_for_all);
  time_point t{};
  auto e = s.on_exit(1, child_exit::crashed, t, "boom");
  CAF_CHECK(e.stop == (ids{3, 2, 0}));
  CAF_CHECK(e.start.empty()); // not before the siblings are gone
  CAF_CHECK(s.state(0) == child_state::stopping);
  CAF_CHECK(s.state(1) == child_state::waiting);
  CAF_CHECK(s.on_exit(3, child_exit::crashed, t, "stopped").start.empty());
  CAF_CHECK(s.on_exit(0, child_exit::crashed, t, "stopped").start.empty());
  auto last = s.on_exit(2, child_exit::normal, t, "stopped");
  CAF_CHECK(last.start == (ids{0, 1, 2, 3}));
  // The expected exits of stopped siblings do not count toward the intensity.
  CAF_CHECK_EQUAL(s.total_restarts(), 1u);
  for (size_t k = 0; k < 4; ++k)
    CAF_CHECK(s.state(k) == child_state::running);
}

CAF_TEST(rest for one restarts the child and those started after it) {
  auto s = make(strategy::rest_for_one);
  time_point t{};
  auto e = s.on_exit(1, child_exit::crashed, t, "boom");
  CAF_CHECK(e.stop == (ids{3, 2}));
  CAF_CHECK(s.state(0) == child_state::running);
  s.on_exit(2, child_exit::crashed, t, "stopped");
  auto last = s.on_exit(3, child_exit::crashed, t, "stopped");
  CAF_CHECK(last.start == (ids{1, 2, 3}));
  // The last child has nobody after it: only itself.
  auto e2 = s.on_exit(3, child_exit::crashed, t, "boom");
  CAF_CHECK(e2.stop.empty());
  CAF_CHECK(e2.start == ids{3});
}

CAF_TEST(past its intensity a supervisor escalates naming the child) {
  auto s = make(strategy::one_for_one, 3, seconds(5));
  time_point t{};
  for (int i = 0; i < 3; ++i) {
    auto e = s.on_exit(2, child_exit::crashed, t + seconds(i), "killed");
    CAF_CHECK(e.start == ids{2});
  }
  auto e = s.on_exit(2, child_exit::crashed, t + seconds(3), "killed");
  CAF_REQUIRE(e.escalate);
  CAF_CHECK_EQUAL(*e.escalate,
                  "c exited (killed): restart 4 within 5000 ms, past the intensity of 3");
  CAF_CHECK(e.start.empty());
}

CAF_TEST(restarts older than the period are forgotten) {
  auto s = make(strategy::one_for_one, 2, seconds(5));
  time_point t{};
  for (int i = 0; i < 10; ++i) {
    auto e = s.on_exit(0, child_exit::crashed, t + seconds(3 * i), "killed");
    CAF_CHECK(!e.escalate);
  }
  CAF_CHECK_EQUAL(s.restarts(0), 10u);
}

CAF_TEST(a fatal exit escalates at once) {
  auto s = make(strategy::one_for_one, 100);
  auto e = s.on_exit(0, child_exit::fatal, time_point{}, "cannot sync the raft log");
  CAF_REQUIRE(e.escalate);
  CAF_CHECK_EQUAL(*e.escalate, "a failed: cannot sync the raft log");
}

CAF_TEST(restart types decide whether an exit is restarted) {
  supervisor_core s{strategy::one_for_one,
                    intensity{},
                    {{"perm", restart_type::permanent},
                     {"trans", restart_type::transient},
                     {"temp", restart_type::temporary}}};
  time_point t{};
  CAF_CHECK(s.on_exit(0, child_exit::normal, t, "done").start == ids{0});
  CAF_CHECK(s.on_exit(1, child_exit::normal, t, "done").start.empty());
  CAF_CHECK(s.state(1) == child_state::stopped);
  CAF_CHECK(s.on_exit(2, child_exit::crashed, t, "boom").start.empty());
  CAF_CHECK(s.state(2) == child_state::stopped);
  s.mark_running(1);
  CAF_CHECK(s.on_exit(1, child_exit::crashed, t, "boom").start == ids{1});
}

CAF_TEST(a temporary sibling stopped for a restart is not started again) {
  supervisor_core s{strategy::one_for_all,
                    intensity{},
                    {{"a", restart_type::permanent}, {"tmp", restart_type::temporary}}};
  time_point t{};
  auto e = s.on_exit(0, child_exit::crashed, t, "boom");
  CAF_CHECK(e.stop == ids{1});
  auto last = s.on_exit(1, child_exit::crashed, t, "stopped");
  CAF_CHECK(last.start == ids{0});
  CAF_CHECK(s.state(1) == child_state::stopped);
}

CAF_TEST(an exit already accounted for changes nothing) {
  auto s = make(strategy::one_for_all);
  time_point t{};
  s.on_exit(0, child_exit::crashed, t, "boom");
  // Child 0 waits for its siblings; a second report of its exit is stale.
  auto e = s.on_exit(0, child_exit::crashed, t, "boom");
  CAF_CHECK(e.stop.empty() && e.start.empty() && !e.escalate);
  CAF_CHECK_EQUAL(s.total_restarts(), 1u);
}

CAF_TEST(children added later are supervised like the first ones) {
  supervisor_core s{strategy::one_for_one, intensity{}, {}};
  auto k = s.add_child({"vnode-3", restart_type::permanent});
  CAF_CHECK_EQUAL(k, 0u);
  CAF_CHECK(s.on_exit(k, child_exit::crashed, time_point{}, "boom").start == ids{0});
}
