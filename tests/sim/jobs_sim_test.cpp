// Thousands of seeded simulations of shared work (tests/sim/jobs_sim). A failing seed prints
// the command that replays it. The last test takes the fencing away (the leader trusts the
// job's current attempt over the one a worker reported) and expects a violation: it shows the
// checks can fail.
#define CAF_SUITE jobs_sim
#include <caf/test/unit_test.hpp>

#include "tests/sim/jobs_sim.hpp"
#include "tests/sim/sim_args.hpp"

using namespace troupe::sim;

namespace {

jobs_report run_many(jobs_options base, int count, jobs_options* failed) {
  auto args = replay_args();
  bool replay = !args.empty();
  jobs_report total;
  for (int i = 0; i < (replay ? 1 : count); ++i) {
    auto o = base;
    o.seed = base.seed + static_cast<uint64_t>(i);
    if (replay)
      o = parse_jobs_options(args, base);
    auto rep = run_jobs(o);
    if (!rep.ok) {
      *failed = o;
      return rep;
    }
    total.done += rep.done;
    total.dead += rep.dead;
    total.attempts += rep.attempts;
    total.fenced += rep.fenced;
    total.expired += rep.expired;
    total.crashes += rep.crashes;
    total.pauses += rep.pauses;
    total.leader_changes += rep.leader_changes;
  }
  return total;
}

} // namespace

CAF_TEST(every job ends done once or dead under crashes pauses losses and leader changes) {
  jobs_options o;
  o.seed = 1;
  jobs_options bad;
  auto rep = run_many(o, seeds(2000), &bad);
  if (!rep.ok)
    CAF_FAIL(rep.violation << "\n  replay: build/bin/troupe_sim_tests -s '^jobs_sim$' -n -- "
                           << format_options(bad));
  CAF_MESSAGE(seeds(2000) << " runs: " << rep.done << " jobs done, " << rep.dead << " dead, "
                          << rep.attempts << " attempts, " << rep.expired << " taken back, "
                          << rep.fenced << " stale results refused, " << rep.crashes
                          << " crashes, " << rep.pauses << " pauses, " << rep.leader_changes
                          << " leader changes");
  // The faults happened, and the fencing was needed.
  CAF_CHECK_GREATER(rep.fenced, 0u);
  CAF_CHECK_GREATER(rep.expired, 0u);
  CAF_CHECK_GREATER(rep.crashes, 0u);
  CAF_CHECK_GREATER(rep.pauses, 0u);
  CAF_CHECK_GREATER(rep.leader_changes, 0u);
}

CAF_TEST(without fencing a stale result counts) {
  jobs_options o;
  o.seed = 900000;
  o.leader_fences = false;
  jobs_options bad;
  auto rep = run_many(o, 200, &bad);
  CAF_CHECK(!rep.ok);
  CAF_MESSAGE("found: " << rep.violation);
}
