// Run-once migrations in the replicated state: commands go through the state machine and its
// encoding, as the Raft actor applies them. The table fences every step by the main worker's
// epoch, so a main worker that lost its lease records nothing.
#define CAF_SUITE migration_table
#include <caf/test/unit_test.hpp>

#include "protocols/cluster_state/state_machine.hpp"

using namespace troupe::state;
using op = migration_cmd::op;

namespace {

struct fixture {
  state_machine sm;
  uint64_t index = 0;

  apply_result run(command c) {
    command back;
    if (!decode(encode(c), back))
      CAF_FAIL("a command does not survive its encoding");
    std::vector<member_change> changes;
    return sm.apply(back, ++index, changes);
  }

  /// Makes `name` the main worker; returns its epoch.
  uint64_t make_main(const std::string& name) {
    command c;
    c.body = main_worker_cmd{sm.main().epoch(), name};
    if (!run(c).ok)
      CAF_FAIL("the main worker assignment was refused");
    return sm.main().epoch();
  }

  apply_result step(op kind, const std::string& id, uint64_t epoch, const std::string& node,
                    const std::string& data = {}) {
    command c;
    c.body = migration_cmd{kind, id, epoch, node, data, 1000};
    return run(c);
  }

  migration_state state_of(const std::string& id) const {
    auto* r = sm.migrations().find(id);
    return r ? r->state : migration_state::pending;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(migration_table_tests, fixture)

CAF_TEST(the main worker starts checkpoints and finishes a migration once) {
  auto e = make_main("w1");
  CAF_CHECK(step(op::start, "001", e, "w1").ok);
  CAF_CHECK(!step(op::start, "001", e, "w1").ok); // not twice in one epoch
  CAF_CHECK(step(op::checkpoint, "001", e, "w1", "3").ok);
  CAF_CHECK(step(op::done, "001", e, "w1").ok);
  CAF_CHECK(state_of("001") == migration_state::done);
  auto r = step(op::start, "001", e, "w1");
  CAF_CHECK(!r.ok);
  CAF_CHECK_EQUAL(r.reason, "migration 001 is already done");
  auto* rec = sm.migrations().find("001");
  CAF_REQUIRE(rec != nullptr);
  CAF_CHECK_EQUAL(rec->checkpoint, "3");
  CAF_CHECK_EQUAL(rec->attempts, 1u);
}

CAF_TEST(a worker that is not main or holds an old epoch is fenced) {
  auto e1 = make_main("w1");
  CAF_CHECK(!step(op::start, "001", e1, "w2").ok); // not the main worker
  CAF_CHECK(step(op::start, "001", e1, "w1").ok);
  CAF_CHECK(step(op::checkpoint, "001", e1, "w1", "2").ok);
  auto e2 = make_main("w2");
  // The old main worker may still be running its function: nothing it says is recorded.
  auto r = step(op::checkpoint, "001", e1, "w1", "5");
  CAF_CHECK(!r.ok);
  CAF_CHECK(r.reason.find("fenced") == 0);
  CAF_CHECK(!step(op::done, "001", e1, "w1").ok);
  // The new one takes it over and resumes from the last checkpoint recorded under the lease.
  auto taken = step(op::start, "001", e2, "w2");
  CAF_CHECK(taken.ok);
  CAF_CHECK_EQUAL(taken.reason, "2");
  CAF_CHECK_EQUAL(taken.incarnation, 2u); // the attempt it begins
  auto* rec = sm.migrations().find("001");
  CAF_REQUIRE(rec != nullptr);
  CAF_CHECK_EQUAL(rec->node, "w2");
  CAF_CHECK_EQUAL(rec->attempts, 2u);
  CAF_CHECK_EQUAL(rec->checkpoint, "2");
  CAF_CHECK(step(op::done, "001", e2, "w2").ok);
}

CAF_TEST(a failed migration waits for a retry and the table survives a snapshot) {
  auto e = make_main("w1");
  CAF_CHECK(step(op::start, "002", e, "w1").ok);
  CAF_CHECK(step(op::fail, "002", e, "w1", "disk full").ok);
  CAF_CHECK(state_of("002") == migration_state::failed);
  CAF_CHECK(!step(op::start, "002", e, "w1").ok);
  state_machine copy;
  CAF_REQUIRE(copy.restore(sm.snapshot()));
  auto* rec = copy.migrations().find("002");
  CAF_REQUIRE(rec != nullptr);
  CAF_CHECK_EQUAL(rec->error, "disk full");
  CAF_CHECK(rec->state == migration_state::failed);
  cluster_view view;
  CAF_REQUIRE(decode_view(encode_view(sm), view));
  CAF_CHECK(view.migrations.find("002") != nullptr);
  CAF_CHECK(!step(op::retry, "001", 0, "").ok); // never failed
  CAF_CHECK(step(op::retry, "", 0, "").ok);
  CAF_CHECK(state_of("002") == migration_state::pending);
  CAF_CHECK_EQUAL(sm.migrations().find("002")->error, "disk full"); // kept until it succeeds
  CAF_CHECK(step(op::start, "002", e, "w1").ok);
  CAF_CHECK(step(op::done, "002", e, "w1").ok);
  CAF_CHECK(sm.migrations().find("002")->error.empty());
}

CAF_TEST(the plan runs migrations in order resumes idempotent ones and stops at a failure) {
  using action = migration_plan::action;
  std::vector<registered_migration> list{{"001", true}, {"002", false}, {"003", true}};
  CAF_CHECK(plan_migrations(list, sm.migrations(), 0, "p1").what == action::wait); // not main
  auto e1 = make_main("w1");
  auto p = plan_migrations(list, sm.migrations(), e1, "p1");
  CAF_CHECK(p.what == action::run);
  CAF_CHECK_EQUAL(p.id, "001");
  CAF_CHECK(step(op::start, "001", e1, "w1", "p1").ok);
  CAF_CHECK(plan_migrations(list, sm.migrations(), e1, "p1").what == action::wait); // running here
  // The same worker restarted under the same epoch: another process takes it over.
  CAF_CHECK(plan_migrations(list, sm.migrations(), e1, "p2").what == action::run);
  CAF_CHECK(!step(op::start, "001", e1, "w1", "p1").ok);
  CAF_CHECK(step(op::start, "001", e1, "w1", "p2").ok);
  CAF_CHECK(step(op::done, "001", e1, "w1").ok);
  CAF_CHECK_EQUAL(first_pending(list, sm.migrations()), "002");
  CAF_CHECK(step(op::start, "002", e1, "w1", "p2").ok);
  // The main worker dies in the middle of 002, which is not idempotent: the next one refuses.
  auto e2 = make_main("w2");
  p = plan_migrations(list, sm.migrations(), e2, "p3");
  CAF_CHECK(p.what == action::refuse);
  CAF_CHECK_EQUAL(p.id, "002");
  CAF_CHECK(step(op::start, "002", e2, "w2", "p3").ok);
  CAF_CHECK(step(op::fail, "002", e2, "w2", p.reason).ok);
  p = plan_migrations(list, sm.migrations(), e2, "p3");
  CAF_CHECK(p.what == action::blocked);
  CAF_CHECK_EQUAL(p.id, "002");
  CAF_CHECK(plan_migrations(list, sm.migrations(), 0, "p9").what == action::blocked);
  CAF_CHECK(step(op::retry, "002", 0, "").ok);
  CAF_CHECK(plan_migrations(list, sm.migrations(), e2, "p3").what == action::run);
  CAF_CHECK(step(op::start, "002", e2, "w2", "p3").ok);
  CAF_CHECK(step(op::done, "002", e2, "w2").ok);
  CAF_CHECK(step(op::start, "003", e2, "w2", "p3").ok);
  CAF_CHECK(step(op::done, "003", e2, "w2").ok);
  CAF_CHECK(plan_migrations(list, sm.migrations(), e2, "p3").what == action::all_done);
  CAF_CHECK(first_pending(list, sm.migrations()).empty());
}

CAF_TEST_FIXTURE_SCOPE_END()
