// Thousands of seeded simulations of vnode ownership under faults (tests/sim/ownership_sim).
// A failing seed prints the command that replays it. The last two tests take a rule away and
// expect the simulation to find two owners: they show the checks can fail.
#define CAF_SUITE ownership_sim
#include <caf/test/unit_test.hpp>

#include "tests/sim/ownership_sim.hpp"
#include "tests/sim/sim_args.hpp"

#include <cstdlib>

using namespace troupe::sim;

namespace {

/// Runs `count` seeds from `base`; returns the first failing report (ok when none fails).
ownership_report run_many(ownership_options base, int count, ownership_options* failed = nullptr) {
  auto args = replay_args();
  bool replay = !args.empty();
  ownership_report total;
  for (int i = 0; i < (replay ? 1 : count); ++i) {
    auto o = base;
    o.seed = base.seed + static_cast<uint64_t>(i);
    if (replay)
      o = parse_ownership_options(args, base);
    auto rep = run_ownership(o);
    total.moves += rep.moves;
    total.handoffs += rep.handoffs;
    total.events += rep.events;
    total.checks += rep.checks;
    if (!rep.ok) {
      if (failed)
        *failed = o;
      rep.moves = total.moves;
      return rep;
    }
  }
  return total;
}

} // namespace

CAF_TEST(one owner at a time under crashes pauses partitions and drifting clocks) {
  ownership_options o;
  o.seed = 1;
  ownership_options bad;
  auto rep = run_many(o, seeds(2000), &bad);
  if (!rep.ok)
    CAF_FAIL(rep.violation << "\n  replay: build/bin/troupe_sim_tests -s '^ownership_sim$' -n -- "
                           << format_options(bad));
  CAF_MESSAGE(seeds(2000) << " runs: " << rep.moves << " vnode moves, " << rep.handoffs
                          << " states handed over, " << rep.events << " events acknowledged, "
                          << rep.checks << " instants checked");
  CAF_CHECK_GREATER(rep.handoffs, 0u);
  CAF_CHECK_GREATER(rep.events, 0u);
}

CAF_TEST(a larger drift is covered by its margin) {
  ownership_options o;
  o.seed = 500000;
  o.drift = 0.05;
  ownership_options bad;
  auto rep = run_many(o, seeds(2000) / 4, &bad);
  if (!rep.ok)
    CAF_FAIL(rep.violation << "\n  replay: build/bin/troupe_sim_tests -s '^ownership_sim$' -n -- "
                           << format_options(bad));
}

CAF_TEST(without the lease margin a drifting clock gives a vnode two owners) {
  // With clocks 5% off, the leader's wait without the margin is 40 ms short of the lease.
  ownership_options o;
  o.seed = 1;
  o.drift = 0.05;
  o.lease_margin = false;
  ownership_options bad;
  auto rep = run_many(o, 3000, &bad); // a fixed budget: it stops at the first violation
  CAF_CHECK(!rep.ok);
  if (!rep.ok)
    CAF_MESSAGE("found: " << rep.violation << " (" << format_options(bad) << ")");
}

CAF_TEST(without the epoch order a late view gives a vnode two owners) {
  ownership_options o;
  o.seed = 1;
  o.epoch_order = false;
  ownership_options bad;
  auto rep = run_many(o, 3000, &bad); // a fixed budget: it stops at the first violation
  CAF_CHECK(!rep.ok);
  if (!rep.ok)
    CAF_MESSAGE("found: " << rep.violation << " (" << format_options(bad) << ")");
}
