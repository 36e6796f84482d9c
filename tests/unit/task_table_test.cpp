// Long-running tasks and replicated sets in the shared-work core (protocols/jobs): placements
// spread over the up workers with as few moves as possible, fencing epochs that are never
// reused, lost workers' instances placed again, sets with their outcomes, and both kept by
// snapshots.
#define CAF_SUITE task_table
#include <caf/test/unit_test.hpp>

#include "protocols/cluster_state/state_machine.hpp"
#include "protocols/jobs/job_table.hpp"

#include <random>

using namespace troupe::jobs;

namespace {

task_spec spec(uint32_t n, std::string name = "t") {
  return task_spec{std::move(name), "poller", n, {{"topic", "orders"}}};
}

/// Applies the leader's plan until it has nothing more to place; the placements it made.
size_t settle(job_table& t, int64_t now = 10, const std::set<std::string>& held = {}) {
  size_t moves = 0;
  for (int round = 0; round < 10; ++round) {
    auto plan = plan_tasks(t.tasks(), t.workers_up(), held, now);
    if (plan.empty())
      return moves;
    for (auto& p : plan)
      if (t.apply(p).result == outcome::ok && !p.worker.empty())
        ++moves; // a placement (a revocation is the first half of a move)
  }
  CAF_FAIL("the plan did not settle in 10 rounds");
  return moves;
}

/// Instances per up worker of task `name` (every instance must be on an up worker).
std::map<std::string, size_t> spread(const job_table& t, const std::string& name = "t") {
  std::map<std::string, size_t> out;
  for (auto& w : t.workers_up())
    out[w] = 0;
  for (auto& inst : t.tasks().find(name)->instances) {
    CAF_CHECK(t.workers_up().count(inst.worker) == 1);
    out[inst.worker] += 1;
  }
  return out;
}

bool balanced(const std::map<std::string, size_t>& s) {
  size_t lo = SIZE_MAX, hi = 0;
  for (auto& [w, n] : s) {
    lo = std::min(lo, n);
    hi = std::max(hi, n);
  }
  return hi - lo <= 1;
}

} // namespace

CAF_TEST(a task is checked and started once) {
  job_table t;
  auto bad = spec(0);
  CAF_CHECK_EQUAL(check_task(bad), "a task has 1-1024 instances");
  CAF_CHECK(t.apply(start_task_cmd{bad, 1}).result == outcome::invalid);
  CAF_CHECK(t.apply(start_task_cmd{spec(4), 1}).result == outcome::ok);
  CAF_CHECK(t.apply(start_task_cmd{spec(4), 2}).result == outcome::duplicate);
  CAF_CHECK(t.apply(start_task_cmd{spec(5), 2}).result == outcome::exists);
  CAF_CHECK(t.apply(stop_task_cmd{"nope", 3}).result == outcome::no_task);
  CAF_CHECK(t.apply(stop_task_cmd{"t", 3}).result == outcome::ok);
  CAF_CHECK(t.tasks().tasks().empty());
}

CAF_TEST(instances spread over the up workers and a placement needs an up worker) {
  job_table t;
  t.apply(start_task_cmd{spec(5), 1});
  CAF_CHECK(plan_tasks(t.tasks(), t.workers_up(), {}, 5).empty()); // nowhere to go
  CAF_CHECK(t.apply(place_task_cmd{"t", 0, "w1", 5}).result == outcome::no_slot);
  t.apply(worker_cmd{"w1", true, 5});
  t.apply(worker_cmd{"w2", true, 5});
  CAF_CHECK(t.apply(place_task_cmd{"t", 9, "w1", 5}).result == outcome::no_task);
  CAF_CHECK_EQUAL(settle(t), 5u);
  auto s = spread(t);
  CAF_CHECK(balanced(s));
  CAF_CHECK_EQUAL(s["w1"] + s["w2"], 5u);
  // Every placement has its own epoch.
  std::set<uint64_t> epochs;
  for (auto& inst : t.tasks().find("t")->instances)
    epochs.insert(inst.epoch);
  CAF_CHECK_EQUAL(epochs.size(), 5u);
  CAF_CHECK(t.apply(place_task_cmd{"t", 0, t.tasks().find("t")->instances[0].worker, 6}).result
            == outcome::duplicate);
}

CAF_TEST(the instances of a lost worker are placed again under new epochs once its lease ran out) {
  job_table t;
  t.apply(worker_cmd{"w1", true, 1});
  t.apply(worker_cmd{"w2", true, 1});
  t.apply(start_task_cmd{spec(4), 1});
  settle(t);
  std::map<uint32_t, uint64_t> before;
  auto& insts = t.tasks().find("t")->instances;
  for (uint32_t i = 0; i < insts.size(); ++i)
    if (insts[i].worker == "w2")
      before[i] = insts[i].epoch;
  CAF_REQUIRE_EQUAL(before.size(), 2u);
  t.apply(worker_cmd{"w2", false, 20});
  // While its lease may still hold, w2 may still run them: they wait.
  CAF_CHECK_EQUAL(settle(t, 21, {"w2"}), 0u);
  for (auto& [i, e] : before)
    CAF_CHECK_EQUAL(insts[i].epoch, e);
  CAF_CHECK_EQUAL(settle(t, 22), 2u);
  for (auto& [i, e] : before) {
    CAF_CHECK_EQUAL(insts[i].worker, "w1");
    CAF_CHECK_GREATER(insts[i].epoch, e);
    CAF_CHECK_EQUAL(insts[i].placements, 2u);
  }
}

CAF_TEST(a join moves only what the share of the newcomer needs) {
  job_table t;
  t.apply(worker_cmd{"w1", true, 1});
  t.apply(worker_cmd{"w2", true, 1});
  t.apply(start_task_cmd{spec(6), 1});
  settle(t);
  t.apply(worker_cmd{"w3", true, 2});
  // 3 and 3 become 2, 2 and 2: exactly two move, both to the newcomer.
  CAF_CHECK_EQUAL(settle(t, 3), 2u);
  auto s = spread(t);
  CAF_CHECK_EQUAL(s["w3"], 2u);
  CAF_CHECK(balanced(s));
  // A leave: the leaver's two are spread over the others.
  t.apply(worker_cmd{"w1", false, 4});
  CAF_CHECK_EQUAL(settle(t, 5), 2u);
  CAF_CHECK(balanced(spread(t)));
}

CAF_TEST(a move between live workers revokes first and places only after the drain) {
  job_table t;
  t.apply(worker_cmd{"w1", true, 1});
  t.apply(start_task_cmd{spec(2), 1});
  settle(t);
  t.apply(worker_cmd{"w2", true, 100});
  auto first = plan_tasks(t.tasks(), t.workers_up(), {}, 100, 1000);
  CAF_REQUIRE_EQUAL(first.size(), 1u);
  CAF_CHECK_EQUAL(first[0].worker, ""); // revoked on w1 first
  CAF_REQUIRE(t.apply(first[0]).result == outcome::ok);
  auto& inst = t.tasks().find("t")->instances[first[0].instance];
  CAF_CHECK_EQUAL(inst.revoked_ms, 100);
  CAF_CHECK(plan_tasks(t.tasks(), t.workers_up(), {}, 600, 1000).empty()); // still draining
  auto second = plan_tasks(t.tasks(), t.workers_up(), {}, 1100, 1000);
  CAF_REQUIRE_EQUAL(second.size(), 1u);
  CAF_CHECK_EQUAL(second[0].worker, "w2");
  auto before = inst.epoch;
  CAF_REQUIRE(t.apply(second[0]).result == outcome::ok);
  CAF_CHECK_GREATER(inst.epoch, before);
  CAF_CHECK_EQUAL(inst.revoked_ms, 0);
}

CAF_TEST(random joins and losses always settle balanced with unique epochs) {
  for (uint32_t seed = 1; seed <= 300; ++seed) {
    std::mt19937 rng{seed};
    job_table t;
    t.apply(start_task_cmd{spec(1 + rng() % 12, "a"), 0});
    t.apply(start_task_cmd{spec(1 + rng() % 5, "b"), 0});
    std::set<uint64_t> seen;
    for (int step = 0; step < 30; ++step) {
      auto w = "w" + std::to_string(rng() % 5);
      t.apply(worker_cmd{w, rng() % 3 != 0, step});
      settle(t, step);
      if (t.workers_up().empty())
        continue;
      for (auto name : {"a", "b"}) {
        CAF_CHECK(balanced(spread(t, name)));
        for (auto& inst : t.tasks().find(name)->instances)
          seen.insert(inst.epoch);
      }
    }
    // No epoch was handed out twice: the counter is past every one of them.
    CAF_CHECK_LESS(*seen.rbegin(), t.next_epoch());
  }
}

CAF_TEST(a set says what it held before each change) {
  job_table t;
  CAF_CHECK(t.apply(set_cmd{"done", "a.txt", true, 1}).result == outcome::ok);
  CAF_CHECK(t.apply(set_cmd{"done", "a.txt", true, 2}).result == outcome::duplicate);
  CAF_CHECK(t.apply(set_cmd{"done", "b.txt", false, 3}).result == outcome::absent);
  CAF_CHECK(t.apply(set_cmd{"bad name", "x", true, 3}).result == outcome::invalid);
  CAF_CHECK(t.apply(set_cmd{"done", "", true, 3}).result == outcome::invalid);
  CAF_CHECK_EQUAL(t.sets().at("done").size(), 1u);
  CAF_CHECK(t.apply(set_cmd{"done", "a.txt", false, 4}).result == outcome::ok);
  CAF_CHECK(t.sets().empty()); // an empty set is not kept
}

CAF_TEST(tasks and sets are part of the snapshot and go through the log encoding) {
  using namespace troupe::state;
  state_machine sm;
  std::vector<member_change> changes;
  uint64_t index = 0;
  auto run = [&](std::vector<troupe::jobs::command> ops) {
    jobs_cmd c{std::move(ops)};
    troupe::state::command back;
    CAF_REQUIRE(decode(encode(troupe::state::command{0, 0, c}), back));
    return sm.apply(back, ++index, changes).jobs;
  };
  auto r = run({start_task_cmd{spec(3), 1}, set_cmd{"seen", "x", true, 1},
                set_cmd{"seen", "y", true, 1}, stop_task_cmd{"zz", 1}});
  CAF_REQUIRE_EQUAL(r.size(), 4u);
  CAF_CHECK(r[0].result == outcome::ok);
  CAF_CHECK(r[3].result == outcome::no_task);
  auto* t = sm.jobs().tasks().find("t");
  CAF_REQUIRE(t != nullptr);
  CAF_CHECK_EQUAL(t->spec.config.at("topic"), "orders");
  state_machine copy;
  CAF_REQUIRE(copy.restore(sm.snapshot()));
  CAF_CHECK_EQUAL(copy.jobs().sets().at("seen").size(), 2u);
  auto* c = copy.jobs().tasks().find("t");
  CAF_REQUIRE(c != nullptr);
  CAF_CHECK_EQUAL(c->instances.size(), 3u);
  CAF_CHECK_EQUAL(c->spec.type, "poller");
}
