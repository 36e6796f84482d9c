// The messages of the shared work between the Raft leader and the workers' job runners
// (actors/jobs/job_runner.hpp). Light on purpose: the Raft actor, the router and the ingress
// include it.
#pragma once

#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace troupe {

/// One attempt of a job, as the leader hands it to a worker once the hand-out is committed.
struct job_handout {
  std::string queue;
  std::string id;
  uint64_t epoch = 0;     // the attempt's fencing epoch: its result counts only with it
  std::string payload;
  std::string handler;    // the actor type that runs it
  int64_t timeout_ms = 0; // the queue's timeout: the leader takes the attempt back after it
  uint32_t attempt = 0;   // 1 for the first
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_handout& x) {
  return f(caf::meta::type_name("troupe.job_handout"), x.queue, x.id, x.epoch, x.payload,
           x.handler, x.timeout_ms, x.attempt);
}

/// One instance of a long-running task, as the leader tells the worker that is to run it.
struct task_assignment {
  std::string task;
  std::string type;       // the actor type it runs
  uint32_t instance = 0;  // its partition, 0 .. count-1
  uint32_t count = 1;
  uint64_t epoch = 0;     // its placement's fencing epoch
  std::map<std::string, std::string> config;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, task_assignment& x) {
  return f(caf::meta::type_name("troupe.task_assignment"), x.task, x.type, x.instance, x.count,
           x.epoch, x.config);
}

/// (task_assign_atom, std::vector<task_assignment>): every task instance the receiving
/// worker is to run now (the leader sends it when placements change and every second): the
/// worker starts what it lacks and stops what is not in it.
using task_assign_atom = caf::atom_constant<caf::atom("task_asgn")>;

/// (job_run_atom, std::vector<job_handout>): attempts for the receiving worker to run.
using job_run_atom = caf::atom_constant<caf::atom("job_run")>;
/// (job_cancel_atom, queue, id, epoch): the leader took that attempt back (its timeout
/// passed): stop its handler; its result would be refused.
using job_cancel_atom = caf::atom_constant<caf::atom("job_cncl")>;
/// (job_forward_atom, worker, message): to a router, which hands the message (job_run or
/// job_cancel, task_assign) to that worker's job runner (its own, or another node's through its door).
using job_forward_atom = caf::atom_constant<caf::atom("rt_jobfwd")>;

} // namespace troupe
