// Seeded simulations of run-once migrations: the replicated table and the plan, driven by
// workers that crash, a leader that moves the main worker, and step commands that arrive late
// or never. Checks, after every step: migrations start only in order, a done migration never
// changes, a migration that is not idempotent has its effect at most once per operator retry,
// nothing is recorded under an epoch that is not the main worker's; and at the end, after a
// calm period, that every migration is done with every step of the resumable one applied.
#define CAF_SUITE migration_sim
#include <caf/test/unit_test.hpp>

#include "protocols/cluster_state/state_machine.hpp"

#include <map>
#include <optional>
#include <random>

using namespace troupe::state;
using op = migration_cmd::op;

namespace {

constexpr uint32_t backfill_steps = 3;

const std::vector<registered_migration>& list() {
  static const std::vector<registered_migration> l{
    {"m1-stamp", false}, {"m2-backfill", true}, {"m3-stamp", false}, {"m4-check", true}};
  return l;
}

/// A migration running on a worker: what the function has got to.
struct job {
  std::string id;
  uint64_t epoch = 0;
  uint32_t next_step = 1;  // m2-backfill: the next step to apply
  bool finishing = false;  // returned: waits for its outcome to be recorded
};

struct worker {
  std::string name;
  uint32_t incarnation = 0;  // the process, and the runs interrupted in it: the runner
  uint64_t lease = 0;  // the main worker epoch it believes it holds (0: none): its fence
  std::optional<job> running{};
  bool starting = false;  // a start is in flight

  std::string runner() const { return name + "#" + std::to_string(incarnation); }
};

struct pending_cmd {
  migration_cmd cmd;
  std::string runner;  // who waits for the answer
  bool refuse = false; // a start that only takes over to record the failure that follows
};

struct sim {
  std::mt19937 rng;
  state_machine sm;
  uint64_t index = 0;
  std::vector<worker> workers{{"w1"}, {"w2"}, {"w3"}};
  std::vector<pending_cmd> in_flight;
  std::map<std::string, uint32_t> effects;   // stamp migrations: how often their effect ran
  std::map<std::string, uint32_t> retries;   // operator retries per migration
  std::map<uint32_t, uint32_t> steps_done;   // backfill step -> times applied
  std::string failure;                       // the first broken invariant

  explicit sim(uint32_t seed) : rng(seed) {
  }

  bool chance(uint32_t percent) { return rng() % 100 < percent; }

  apply_result apply(command c) {
    std::vector<member_change> changes;
    return sm.apply(c, ++index, changes);
  }

  void check(bool ok, const std::string& what) {
    if (!ok && failure.empty())
      failure = what;
  }

  /// The leader moves the main worker: the old one's lease runs out first (it fences itself
  /// before the leader may pick another), as in the real cluster.
  void move_main() {
    auto& next = workers[rng() % workers.size()];
    for (auto& w : workers)
      w.lease = 0;
    command c;
    c.body = main_worker_cmd{sm.main().epoch(), next.name};
    apply(c);
    next.lease = sm.main().epoch();
  }

  void crash(worker& w) {
    w.running.reset();
    w.starting = false;
    ++w.incarnation;
    // A restarted main worker under the same epoch still holds the lease (it rejoined in time).
  }

  void propose(worker& w, migration_cmd c, bool refuse = false) {
    c.node = w.name;
    in_flight.push_back({std::move(c), w.runner(), refuse});
  }

  worker* by_runner(const std::string& runner) {
    for (auto& w : workers)
      if (w.runner() == runner)
        return &w;
    return nullptr;
  }

  /// Applies one command in flight: the Raft log takes it, in whatever order they arrive.
  void deliver_one() {
    if (in_flight.empty())
      return;
    auto k = rng() % in_flight.size();
    auto p = std::move(in_flight[k]);
    in_flight.erase(in_flight.begin() + static_cast<std::ptrdiff_t>(k));
    auto before = sm.migrations().all();
    // What the table must refuse: anything not under the main worker's current epoch.
    bool fenced = p.cmd.epoch != sm.main().epoch() || p.cmd.node != sm.main().name();
    if (p.cmd.kind == op::start) {
      // Order: a start applies only after every earlier migration is done.
      bool earlier_done = true;
      for (auto& m : list()) {
        if (m.id == p.cmd.id)
          break;
        auto* r = sm.migrations().find(m.id);
        earlier_done = earlier_done && r && r->state == migration_state::done;
      }
      command c;
      c.body = p.cmd;
      auto res = apply(c);
      if (res.ok)
        check(earlier_done, p.cmd.id + " started before an earlier migration was done");
      check(!(res.ok && fenced), "a start under a stale epoch was applied");
      auto* w = by_runner(p.runner);
      if (w) {
        w->starting = false;
        if (res.ok && p.refuse) // taken over only to record it failed, once the start applied
          propose(*w, migration_cmd{op::fail, p.cmd.id, p.cmd.epoch, {}, "interrupted", 0});
        else if (res.ok)
          w->running = job{p.cmd.id, p.cmd.epoch,
                           res.reason.empty() ? 1u
                                              : static_cast<uint32_t>(std::stoul(res.reason)) + 1};
      }
    } else {
      command c;
      c.body = p.cmd;
      auto res = apply(c);
      check(!(res.ok && fenced), "a step under a stale epoch was applied");
      if (auto* w = by_runner(p.runner); w && w->running && w->running->id == p.cmd.id
                                         && (p.cmd.kind == op::done || p.cmd.kind == op::fail))
        w->running.reset();
    }
    for (auto& [id, r] : before)
      if (r.state == migration_state::done) {
        auto* now = sm.migrations().find(id);
        check(now && now->state == migration_state::done, id + " was done and changed");
      }
  }

  /// A worker that holds the lease and runs nothing asks the plan what to do.
  void plan(worker& w) {
    if (w.running || w.starting)
      return;
    auto p = plan_migrations(list(), sm.migrations(), w.lease, w.runner());
    using action = migration_plan::action;
    if (p.what == action::run || p.what == action::refuse) {
      w.starting = true;
      propose(w, migration_cmd{op::start, p.id, w.lease, {}, w.runner(), 0},
              p.what == action::refuse);
    }
  }

  /// A running migration does one piece of work, if it still holds its lease.
  void work(worker& w) {
    if (!w.running || w.running->finishing)
      return;
    auto& j = *w.running;
    if (w.lease != j.epoch) // still_main() is false: it returns interrupted()
      return interrupt(w);
    if (j.id == "m2-backfill") {
      if (j.next_step <= backfill_steps) {
        ++steps_done[j.next_step]; // idempotent: applying a step again is harmless
        propose(w, migration_cmd{op::checkpoint, j.id, j.epoch, {}, std::to_string(j.next_step),
                                 0});
        ++j.next_step;
        return;
      }
    } else if (j.id != "m4-check") {
      ++effects[j.id];
      check(effects[j.id] <= 1 + retries[j.id],
            j.id + " is not idempotent and its effect ran " + std::to_string(effects[j.id])
              + " times with " + std::to_string(retries[j.id]) + " retries");
    }
    if (j.id == "m4-check" && chance(30)) {
      propose(w, migration_cmd{op::fail, j.id, j.epoch, {}, "check failed", 0});
    } else {
      propose(w, migration_cmd{op::done, j.id, j.epoch, {}, {}, 0});
    }
    j.finishing = true;
  }

  /// A command whose request fails (no quorum, a lost link): the runner learns it did not
  /// apply. A start is tried again later; a save that failed interrupts the migration (the
  /// next run, as another runner, takes it over); done and fail are sent again.
  void fail_one() {
    if (in_flight.empty())
      return;
    auto k = rng() % in_flight.size();
    auto p = std::move(in_flight[k]);
    in_flight.erase(in_flight.begin() + static_cast<std::ptrdiff_t>(k));
    auto* w = by_runner(p.runner);
    if (!w)
      return; // nobody waits for it any more
    switch (p.cmd.kind) {
      case op::start:
        w->starting = false;
        break;
      case op::checkpoint:
        interrupt(*w);
        break;
      default:
        in_flight.push_back(std::move(p));
        break;
    }
  }

  /// The migration returned interrupted(): its worker's next run is a new runner.
  void interrupt(worker& w) {
    w.running.reset();
    ++w.incarnation;
  }

  void operator_retry() {
    for (auto& [id, r] : sm.migrations().all())
      if (r.state == migration_state::failed) {
        ++retries[id];
        command c;
        c.body = migration_cmd{op::retry, id, 0, {}, {}, 0};
        apply(c);
        return;
      }
  }

  void step(bool calm) {
    auto r = rng() % 100;
    if (!calm && r < 4)
      move_main();
    else if (!calm && r < 8)
      crash(workers[rng() % workers.size()]);
    else if (!calm && r < 10)
      fail_one();
    else if (r < 40)
      deliver_one();
    else if (r < 70)
      plan(workers[rng() % workers.size()]);
    else if (r < 95)
      work(workers[rng() % workers.size()]);
    else
      operator_retry();
  }
};

} // namespace

CAF_TEST(random crashes and main worker changes never break the run once guarantees) {
  auto seeds = std::getenv("TROUPE_SIM_SEEDS") ? std::stoul(std::getenv("TROUPE_SIM_SEEDS"))
                                               : 2000ul;
  size_t finished = 0, resumed = 0, refused = 0;
  for (uint32_t seed = 1; seed <= seeds; ++seed) {
    sim s{seed};
    s.move_main();
    for (int i = 0; i < 300 && s.failure.empty(); ++i)
      s.step(false);
    // Calm: no crash, no change of main worker, no loss; an operator retries what failed.
    for (int i = 0; i < 3000 && s.failure.empty(); ++i) {
      s.step(true);
      if (plan_migrations(list(), s.sm.migrations(), 1, "x").what
          == migration_plan::action::all_done)
        break;
    }
    if (!s.failure.empty())
      CAF_FAIL("seed " << seed << ": " << s.failure);
    auto done = plan_migrations(list(), s.sm.migrations(), 1, "x").what
                == migration_plan::action::all_done;
    if (!done) {
      std::string why;
      for (auto& [id, r] : s.sm.migrations().all())
        why += id + "=" + to_string(r.state) + "@" + std::to_string(r.epoch) + "/" + r.runner
               + " ";
      for (auto& w : s.workers)
        why += w.runner() + (w.running ? " running " + w.running->id : "")
               + (w.starting ? " starting" : "") + " lease " + std::to_string(w.lease) + "; ";
      why += "main " + s.sm.main().name() + "@" + std::to_string(s.sm.main().epoch())
             + ", in flight " + std::to_string(s.in_flight.size());
      CAF_FAIL("seed " << seed << ": not every migration was done after the calm period: "
                       << why);
    }
    for (uint32_t k = 1; k <= backfill_steps; ++k)
      if (s.steps_done[k] == 0)
        CAF_FAIL("seed " << seed << ": backfill step " << k << " never ran");
    ++finished;
    if (s.sm.migrations().find("m2-backfill")->attempts > 1)
      ++resumed;
    for (auto id : {"m1-stamp", "m3-stamp"})
      if (s.retries[id] > 0)
        ++refused;
  }
  CAF_MESSAGE(finished << " seeds finished; the backfill was taken over in " << resumed
                       << ", a stamp was refused after an interruption in " << refused);
  CAF_CHECK_EQUAL(finished, seeds);
  CAF_CHECK_GREATER(resumed, seeds / 20);  // the seeds exercised takeovers...
  CAF_CHECK_GREATER(refused, seeds / 50);  // ... and refusals of interrupted stamps
}
