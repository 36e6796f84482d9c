#define CAF_SUITE membership_table
#include <caf/test/unit_test.hpp>

#include "protocols/membership/membership_table.hpp"

using namespace troupe;
using namespace troupe::membership;
using std::chrono::milliseconds;

namespace {

member worker(const std::string& name, uint32_t pid, int64_t started = 1000) {
  member m;
  m.name = name;
  m.address = "127.0.0.1:" + std::to_string(30000 + pid);
  m.roles.worker = true;
  m.pid = pid;
  m.started_at_ms = started;
  return m;
}

struct fixture {
  table_settings cfg = [] {
    table_settings s;
    s.detector.interval = milliseconds(200);
    s.detector.timeout = milliseconds(1500);
    s.forget_after = std::chrono::seconds(60);
    return s;
  }();
  membership_table table{"cluster-1", cfg};
  time_point now{};

  member_state state_of(const std::string& name) {
    auto* m = table.find(name);
    CAF_REQUIRE(m != nullptr);
    return m->state;
  }

  uint64_t join_up(const member& m) {
    auto out = table.join(m, now, 0);
    CAF_REQUIRE(out.accepted);
    table.heartbeat(m.name, out.incarnation, now, 0);
    return out.incarnation;
  }

  /// Advances time in heartbeat-sized steps, with `name` (if any) heartbeating.
  void run_for(milliseconds d, const std::string& beating = {}, uint64_t inc = 0) {
    auto end = now + d;
    while (now < end) {
      now += milliseconds(50);
      if (!beating.empty() && (now.time_since_epoch() / milliseconds(50)) % 4 == 0)
        table.heartbeat(beating, inc, now, 0);
      table.tick(now, 0);
    }
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(membership_table_tests, fixture)

CAF_TEST(the local node is up at once and never suspected) {
  member self = worker("coord", 1);
  self.roles = {true, true};
  auto changes = table.add_local(self, now, 0);
  CAF_REQUIRE_EQUAL(changes.size(), 1u);
  CAF_CHECK(changes[0].to == member_state::up);
  run_for(milliseconds(10000));
  CAF_CHECK(state_of("coord") == member_state::up);
}

CAF_TEST(a join makes a member joining and its first heartbeat makes it up) {
  auto out = table.join(worker("w1", 10), now, 0);
  CAF_REQUIRE(out.accepted);
  CAF_CHECK(state_of("w1") == member_state::joining);
  auto hb = table.heartbeat("w1", out.incarnation, now, 0);
  CAF_CHECK(!hb.rejoin);
  CAF_REQUIRE_EQUAL(hb.changes.size(), 1u);
  CAF_CHECK(hb.changes[0].to == member_state::up);
  CAF_CHECK(state_of("w1") == member_state::up);
}

CAF_TEST(a retried join of the same process keeps its incarnation) {
  auto a = table.join(worker("w1", 10), now, 0);
  auto v = table.version();
  auto b = table.join(worker("w1", 10), now, 0);
  CAF_CHECK(b.accepted);
  CAF_CHECK_EQUAL(a.incarnation, b.incarnation);
  CAF_CHECK(b.changes.empty());
  CAF_CHECK_EQUAL(table.version(), v);
}

CAF_TEST(a live name cannot be taken by another process) {
  join_up(worker("w1", 10));
  auto out = table.join(worker("w1", 11), now, 0);
  CAF_CHECK(!out.accepted);
  CAF_CHECK(out.reject_reason.find("in use") != std::string::npos);
}

CAF_TEST(a silent member becomes suspect then down within the timeout) {
  auto inc = join_up(worker("w1", 10));
  run_for(milliseconds(1000), "w1", inc);
  CAF_CHECK(state_of("w1") == member_state::up);
  // Silence from here on.
  auto silent_since = now;
  bool saw_suspect = false;
  while (state_of("w1") != member_state::down) {
    CAF_REQUIRE(now - silent_since <= milliseconds(1550));
    now += milliseconds(50);
    for (auto& t : table.tick(now, 0))
      saw_suspect |= t.to == member_state::suspect;
  }
  CAF_CHECK(saw_suspect);
  CAF_CHECK_GREATER_OR_EQUAL(now - silent_since, milliseconds(1500));
}

CAF_TEST(heartbeats after suspicion bring the member back up) {
  auto inc = join_up(worker("w1", 10));
  run_for(milliseconds(1000), "w1", inc);
  now += milliseconds(800);
  table.tick(now, 0);
  CAF_CHECK(state_of("w1") == member_state::suspect);
  auto hb = table.heartbeat("w1", inc, now, 0);
  CAF_CHECK(!hb.rejoin);
  CAF_CHECK(state_of("w1") == member_state::up);
}

CAF_TEST(a down member is told to rejoin and gets a new incarnation) {
  auto inc = join_up(worker("w1", 10));
  auto lost = table.connection_lost("w1", inc, now, 0);
  CAF_REQUIRE_EQUAL(lost.size(), 1u);
  CAF_CHECK(lost[0].to == member_state::down);
  CAF_CHECK(table.heartbeat("w1", inc, now, 0).rejoin);
  // The restarted process (new pid) takes the name back.
  auto again = table.join(worker("w1", 12), now, 0);
  CAF_REQUIRE(again.accepted);
  CAF_CHECK_GREATER(again.incarnation, inc);
  CAF_REQUIRE_EQUAL(again.changes.size(), 1u);
  CAF_CHECK(again.changes[0].from == member_state::down);
  CAF_CHECK_EQUAL(table.find("w1")->pid, 12u);
}

CAF_TEST(a suspect member can be replaced by a restarted process) {
  auto inc = join_up(worker("w1", 10));
  run_for(milliseconds(400), "w1", inc);
  now += milliseconds(800);
  table.tick(now, 0);
  CAF_REQUIRE(state_of("w1") == member_state::suspect);
  CAF_CHECK(table.join(worker("w1", 11), now, 0).accepted);
}

CAF_TEST(a graceful leave is left not down and stale events are ignored) {
  auto inc = join_up(worker("w1", 10));
  auto out = table.leave("w1", inc, now, 0);
  CAF_REQUIRE_EQUAL(out.size(), 1u);
  CAF_CHECK(state_of("w1") == member_state::left);
  CAF_CHECK(table.connection_lost("w1", inc, now, 0).empty());
  run_for(milliseconds(3000));
  CAF_CHECK(state_of("w1") == member_state::left);
  // An event about an old incarnation changes nothing.
  auto inc2 = join_up(worker("w1", 11));
  CAF_CHECK(table.connection_lost("w1", inc, now, 0).empty());
  CAF_CHECK(table.leave("w1", inc, now, 0).empty());
  CAF_CHECK(state_of("w1") == member_state::up);
  CAF_CHECK(!table.heartbeat("w1", inc2, now, 0).rejoin);
}

CAF_TEST(gone members are forgotten after a while) {
  auto inc = join_up(worker("w1", 10));
  table.connection_lost("w1", inc, now, 0);
  run_for(milliseconds(59000));
  CAF_CHECK(table.find("w1") != nullptr);
  run_for(milliseconds(2000));
  CAF_CHECK(table.find("w1") == nullptr);
}

CAF_TEST(the view lists coordinators first then names in natural order) {
  member self = worker("zeta", 1);
  self.roles = {true, false};
  table.add_local(self, now, 0);
  for (auto n : {"n-worker-10", "n-worker-2", "n-worker-1"})
    join_up(worker(n, static_cast<uint32_t>(std::string{n}.size() * 7 + n[9])));
  auto v = table.snapshot();
  CAF_REQUIRE_EQUAL(v.members.size(), 4u);
  CAF_CHECK_EQUAL(v.members[0].name, "zeta");
  CAF_CHECK_EQUAL(v.members[1].name, "n-worker-1");
  CAF_CHECK_EQUAL(v.members[2].name, "n-worker-2");
  CAF_CHECK_EQUAL(v.members[3].name, "n-worker-10");
  CAF_CHECK_EQUAL(v.cluster_id, "cluster-1");
}

CAF_TEST(every change bumps the version) {
  auto v0 = table.version();
  auto inc = join_up(worker("w1", 10));
  auto v1 = table.version();
  CAF_CHECK_GREATER(v1, v0);
  table.heartbeat("w1", inc, now + milliseconds(200), 0);
  CAF_CHECK_EQUAL(table.version(), v1); // a heartbeat of an up member changes nothing visible
  table.leave("w1", inc, now, 0);
  CAF_CHECK_GREATER(table.version(), v1);
}

CAF_TEST_FIXTURE_SCOPE_END()

CAF_TEST(natural order) {
  CAF_CHECK(natural_less("a2", "a10"));
  CAF_CHECK(!natural_less("a10", "a2"));
  CAF_CHECK(natural_less("a", "b"));
  CAF_CHECK(natural_less("a", "a1"));
  CAF_CHECK(!natural_less("a1", "a1"));
  CAF_CHECK(natural_less("a01", "a001"));
}

CAF_TEST(ticking only at next change sees every transition polling every millisecond sees) {
  // Two tables with the same members: one ticked every millisecond, one only when
  // next_change says; w1 stops heartbeating, w2 goes silent later, w3 leaves.
  fixture polled;
  fixture woken;
  std::vector<std::pair<int64_t, std::string>> seen_polled;
  std::vector<std::pair<int64_t, std::string>> seen_woken;
  std::map<std::string, uint64_t> inc;
  for (auto* f : {&polled, &woken})
    for (auto* name : {"w1", "w2", "w3"})
      inc[name] = f->join_up(worker(name, 10));
  auto record = [](auto& seen, time_point t, const std::vector<transition>& changes) {
    for (auto& c : changes)
      seen.emplace_back(t.time_since_epoch() / milliseconds(1),
                        c.name + ":" + std::string{to_string(c.to)});
  };
  auto beat = [&](fixture& f, time_point t) {
    auto ms = t.time_since_epoch() / milliseconds(1);
    if (ms % 200 == 0) {
      if (ms <= 1000)
        f.table.heartbeat("w1", inc["w1"], t, 0);
      if (ms <= 3000)
        f.table.heartbeat("w2", inc["w2"], t, 0);
      f.table.heartbeat("w3", inc["w3"], t, 0);
    }
  };
  auto next_woken = woken.table.next_change(woken.now);
  for (int step = 1; step <= 6000; ++step) {
    auto t = time_point{} + milliseconds(step);
    beat(polled, t);
    record(seen_polled, t, polled.table.tick(t, 0));
    beat(woken, t);
    if (t.time_since_epoch() / milliseconds(1) % 200 == 0)
      next_woken = std::min(next_woken, woken.table.next_change(t)); // a heartbeat moves it
    if (t >= next_woken) {
      record(seen_woken, t, woken.table.tick(t, 0));
      next_woken = woken.table.next_change(t);
    }
  }
  CAF_CHECK_EQUAL(seen_woken, seen_polled);
  CAF_CHECK_GREATER_OR_EQUAL(seen_polled.size(), 4u); // w1 and w2 each suspect, then down
}
