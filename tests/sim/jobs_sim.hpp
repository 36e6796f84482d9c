// A seeded simulation of shared work (protocols/jobs): the replicated job table as one
// authority (the Raft group: linearizable, its leader changing now and then, proposals in
// flight lost with it), the leader's plan, and workers with slots that run handlers, over a
// network that delays, drops, duplicates and reorders. Workers crash (and are restarted),
// pause past the timeout and come back with results of attempts that were taken from them.
//
// Checked after every step: no submitted job is lost; a job's result counts at most once, and
// only for its running attempt (never for one that expired or was taken back); attempts stay
// within max_attempts; no worker runs more attempts of a queue than its slots. At the end,
// after a calm period: every job is done or dead, and every job whose handler always fails is
// dead.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace troupe::sim {

struct jobs_options {
  uint64_t seed = 1;
  int workers = 3;
  int slots = 2;
  int jobs = 40;               // submitted at random times during the faults
  int64_t timeout_ms = 400;
  uint32_t max_attempts = 5;
  int fault_ms = 6000;         // faults happen during this time
  int calm_ms = 30000;         // then none: everything must settle
  double drop = 0.05;          // per message
  double duplicate = 0.03;     // per message
  bool leader_fences = true;   // the leader proposes the epoch the worker reported (false: the
                               // job's current one, the bug that lets a stale result count)
};

struct jobs_report {
  bool ok = true;
  std::string violation;
  uint64_t done = 0;          // jobs done
  uint64_t dead = 0;          // jobs dead
  uint64_t attempts = 0;      // attempts handed out
  uint64_t fenced = 0;        // results refused as stale
  uint64_t expired = 0;       // attempts taken back (timeout or lost worker)
  uint64_t crashes = 0;
  uint64_t pauses = 0;
  uint64_t leader_changes = 0;
};

/// Returns a one-line form of the options that parse_jobs_options reads back (for replay).
std::string format_options(const jobs_options& o);

/// Reads "seed=5 workers=3 ..." pairs over `base`. Unknown keys are ignored.
jobs_options parse_jobs_options(const std::vector<std::string>& args, jobs_options base = {});

jobs_report run_jobs(const jobs_options& o);

} // namespace troupe::sim
