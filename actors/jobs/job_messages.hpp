// The messages of the shared work between the Raft leader and the workers' job runners
// (actors/jobs/job_runner.hpp). Light on purpose: the Raft actor, the router and the ingress
// include it.
#pragma once

#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>

#include <cstdint>
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

/// (job_run_atom, std::vector<job_handout>): attempts for the receiving worker to run.
using job_run_atom = caf::atom_constant<caf::atom("job_run")>;
/// (job_cancel_atom, queue, id, epoch): the leader took that attempt back (its timeout
/// passed): stop its handler; its result would be refused.
using job_cancel_atom = caf::atom_constant<caf::atom("job_cncl")>;
/// (job_forward_atom, worker, message): to a router, which hands the message (job_run or
/// job_cancel) to that worker's job runner (its own, or another node's through its door).
using job_forward_atom = caf::atom_constant<caf::atom("rt_jobfwd")>;

} // namespace troupe
