// Thousands of seeded simulated Raft clusters under faults. A failing seed prints the exact
// command that replays it; `-- seed=N nodes=5 ...` after the test binary's own arguments runs
// just that configuration.
#define CAF_SUITE raft_sim
#include <caf/test/unit_test.hpp>

#include "tests/sim/raft_sim.hpp"
#include "tests/sim/sim_args.hpp"

#include <cstdlib>
#include <iostream>

using namespace troupe::sim;

namespace {


/// Runs `count` seeds of `base`; stops at the first failure and prints how to replay it.
void run_many(sim_options base, int count) {
  auto args = replay_args();
  bool replay = !args.empty();
  size_t committed = 0, ops = 0, unknown = 0, leaders = 0, gave_up = 0;
  for (int i = 0; i < (replay ? 1 : count); ++i) {
    auto o = base;
    o.seed = base.seed + static_cast<uint64_t>(i);
    if (replay)
      o = parse_options(args, base);
    auto rep = run_simulation(o);
    committed += rep.committed;
    ops += rep.ops_ok;
    unknown += rep.ops_unknown;
    leaders += rep.leaders;
    gave_up += rep.linearizability.gave_up ? 1 : 0;
    if (!rep.ok) {
      CAF_FAIL(rep.violation << "\n  replay: build/bin/troupe_sim_tests -s '^raft_sim$' -n -- "
                             << format_options(o));
    }
  }
  CAF_MESSAGE((replay ? 1 : count) << " runs: " << committed << " entries committed, " << ops
                                   << " client ops with known outcome, " << unknown
                                   << " unknown, " << leaders << " leaderships, " << gave_up
                                   << " histories too large to check fully");
  CAF_CHECK_GREATER(ops, 0u);
  CAF_CHECK_EQUAL(gave_up, 0u);
}

} // namespace

CAF_TEST(three nodes under crashes partitions and lossy links) {
  sim_options o;
  o.seed = 1;
  o.nodes = 3;
  run_many(o, seeds(2000));
}

CAF_TEST(five nodes under crashes partitions and lossy links) {
  sim_options o;
  o.seed = 100000;
  o.nodes = 5;
  run_many(o, seeds(1000));
}

CAF_TEST(flapping partitions and heavy duplication) {
  sim_options o;
  o.seed = 200000;
  o.nodes = 3;
  o.flapping = true;
  o.duplicate = 0.2;
  o.drop = 0.1;
  run_many(o, seeds(500));
}

CAF_TEST(frequent crashes that lose unsynced writes) {
  sim_options o;
  o.seed = 300000;
  o.nodes = 5;
  o.crash = 0.01;
  o.lose_unsynced = 0.9;
  o.restart = 0.05;
  run_many(o, seeds(500));
}
