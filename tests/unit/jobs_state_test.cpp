// Shared work in the replicated state: job batches through the log's encoding, workers' slots
// following the membership, and the job table in snapshots.
#define CAF_SUITE jobs_state
#include <caf/test/unit_test.hpp>

#include "protocols/cluster_state/state_machine.hpp"
#include "tests/unit/state_log.hpp"

using namespace troupe::state;
namespace ms = troupe::membership;
namespace jb = troupe::jobs;

namespace {

struct fixture : troupe::state::testing::state_log {

  std::vector<jb::outcome> batch(std::vector<jb::command> ops) {
    std::vector<jb::outcome> out;
    for (auto& r : apply(command{0, 0, jobs_cmd{std::move(ops)}}).jobs)
      out.push_back(r.result);
    return out;
  }

  /// Joins worker `name` and, when `up`, makes it up.
  void worker(const std::string& name, bool up = true) {
    ms::member m;
    m.name = name;
    m.address = "127.0.0.1:9" + std::to_string(index);
    m.roles.worker = true;
    auto res = apply(command{0, 0, member_join_cmd{m, "c1", 0, 5, {}}});
    CAF_REQUIRE(res.ok);
    if (up)
      set(name, ms::member_state::up);
  }

  void set(const std::string& name, ms::member_state to) {
    auto* r = sm.members().find(name);
    CAF_REQUIRE(r != nullptr);
    CAF_REQUIRE(apply(command{0, 0, member_state_cmd{name, r->info.incarnation, to, "test", 50}}).ok);
  }

  const jb::job& job(const std::string& id) {
    auto* j = sm.jobs().find("q", id);
    CAF_REQUIRE(j != nullptr);
    return *j;
  }
};

const jb::queue_config queue{"q", "sleep-job", 1, 1000, 3, 100};

using outcomes = std::vector<jb::outcome>;

} // namespace

CAF_TEST_FIXTURE_SCOPE(jobs_state_tests, fixture)

CAF_TEST(a batch of job operations is one entry and each gets its result) {
  CAF_CHECK_EQUAL(batch({jb::create_queue_cmd{queue}}), outcomes{jb::outcome::ok});
  CAF_CHECK_EQUAL(batch({jb::submit_cmd{"q", "a", "10", 1}, jb::submit_cmd{"q", "b", "", 1},
                         jb::submit_cmd{"q", "a", "10", 2}, jb::submit_cmd{"z", "c", "", 2}}),
                  (outcomes{jb::outcome::ok, jb::outcome::ok, jb::outcome::duplicate,
                            jb::outcome::no_queue}));
  CAF_CHECK_EQUAL(job("a").payload, "10");
  // The membership decides which workers are up: a worker_cmd in a batch is not carried.
  command c{0, 0, jobs_cmd{{jb::worker_cmd{"w9", true, 3}}}};
  command back;
  CAF_REQUIRE(decode(encode(c), back));
  CAF_CHECK(std::get<jobs_cmd>(back.body).ops.empty());
  auto refused = sm.apply(c, ++index, changes);
  CAF_REQUIRE_EQUAL(refused.jobs.size(), 1u);
  CAF_CHECK_EQUAL(refused.jobs.front().result, jb::outcome::invalid);
  CAF_CHECK(sm.jobs().workers_up().empty());
}

CAF_TEST(a worker offers its slots while it is live and gives its attempts back when not) {
  batch({jb::create_queue_cmd{queue}, jb::submit_cmd{"q", "a", "", 1}});
  worker("w1", false); // joining: not live yet
  CAF_CHECK_EQUAL(batch({jb::assign_cmd{"q", "a", "w1", 10}}), outcomes{jb::outcome::no_slot});
  set("w1", ms::member_state::up);
  CAF_CHECK_EQUAL(batch({jb::assign_cmd{"q", "a", "w1", 10}}), outcomes{jb::outcome::ok});
  auto epoch = job("a").epoch;
  set("w1", ms::member_state::down);
  CAF_CHECK(job("a").state == jb::job_state::pending);
  CAF_CHECK(job("a").last_error.find("w1 was lost") != std::string::npos);
  CAF_CHECK_EQUAL(job("a").not_before_ms, 50 + 100); // the member change's time, then backoff
  CAF_CHECK_EQUAL(batch({jb::finish_cmd{"q", "a", epoch, true, "", 60}}),
                  outcomes{jb::outcome::stale_attempt});
}

CAF_TEST(the job table is part of the snapshot) {
  batch({jb::create_queue_cmd{queue}, jb::submit_cmd{"q", "a", "x", 1},
         jb::submit_cmd{"q", "b", "y", 2}, jb::submit_cmd{"q", "c", "fail", 3}});
  worker("w1");
  batch({jb::assign_cmd{"q", "a", "w1", 10}});
  batch({jb::finish_cmd{"q", "a", job("a").epoch, true, "", 20},
         jb::assign_cmd{"q", "b", "w1", 20}});
  state_machine copy;
  CAF_REQUIRE(copy.restore(sm.snapshot()));
  CAF_CHECK_EQUAL(copy.jobs().next_epoch(), sm.jobs().next_epoch());
  CAF_CHECK(copy.jobs().workers_up() == sm.jobs().workers_up());
  CAF_CHECK_EQUAL(copy.jobs().running_on("q", "w1"), 1u);
  for (auto id : {"a", "b", "c"}) {
    auto& x = *copy.jobs().find("q", id);
    auto& y = job(id);
    CAF_CHECK(x.state == y.state);
    CAF_CHECK_EQUAL(x.epoch, y.epoch);
    CAF_CHECK_EQUAL(x.payload, y.payload);
    CAF_CHECK_EQUAL(x.worker, y.worker);
    CAF_CHECK_EQUAL(x.submitted, y.submitted);
  }
  // The restored table goes on as the original: the running attempt's result counts once.
  std::vector<member_change> none;
  auto r = copy.apply(command{0, 0, jobs_cmd{{jb::finish_cmd{"q", "b", job("b").epoch, true, "", 30}}}},
                      100, none);
  CAF_REQUIRE_EQUAL(r.jobs.size(), 1u);
  CAF_CHECK_EQUAL(r.jobs.front().result, jb::outcome::ok);
  // A snapshot from before shared work restores an empty table.
  state_machine fresh;
  CAF_REQUIRE(copy.restore(fresh.snapshot()));
  CAF_CHECK(copy.jobs().queues().empty());
}

CAF_TEST_FIXTURE_SCOPE_END()
