// `troupe ctl queue|queues|jobs` as a client runs them (the shared work, docs/jobs.md):
//
//   queue create QUEUE HANDLER [--slots-per-worker N] [--timeout D] [--max-attempts N]
//                              [--backoff D]
//   queue delete QUEUE
//   queues                              every queue with its counts
//   jobs [show] QUEUE                   pending, running (by worker), done, dead, oldest age
//   jobs submit QUEUE PAYLOAD [--id ID] prints the job's id once it is durable
//   jobs submit QUEUE --stdin           one job per input line, in batches; prints each id
//   jobs dead QUEUE                     the dead letters
//   jobs retry QUEUE [ID]               a dead letter (every one without ID) back to the queue
//   jobs list QUEUE [STATE]             the jobs in STATE (default done), with their epochs
#pragma once

#include "nodes/cli.hpp"

#include <caf/fwd.hpp>

#include <string>

namespace troupe {

/// Runs a queue, queues or jobs command; returns the exit code: 0 done; 1 refused (no such
/// queue, a bad configuration, a job that is not dead); 64 bad input; 69 the cluster could
/// not answer; 77 refused for want of the console token or credential.
int run_jobs_command(caf::actor_system& sys, caf::scoped_actor& self, const caf::actor& node,
                     const ctl_command& cmd, const std::string& prefix);

} // namespace troupe
