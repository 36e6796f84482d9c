// The job runner of a worker: it runs the attempts the Raft leader hands it (job_run, after
// the hand-out is committed) and reports their results through the node's entrance, batched:
// while one report is on its way the next results gather, so a busy worker costs about one
// commit per batch rather than one per job.
//
// Each attempt starts one instance of the queue's handler type (an actor type registered on
// the node), sends it the job as a troupe::event (actors/api/jobs.hpp), and reports success
// (a string reply) or failure (an error, the handler's death, a timeout). The handler lives
// until its report is answered: when the cluster refused the result (the attempt had been
// taken back: a timeout, its worker seen lost) or the leader cancels the attempt while it
// runs, the handler gets (jobs::fenced_atom, id, epoch) and fence_grace to stop on its own.
//
// It also runs the worker's task instances (actors/api/tasks.hpp) through a task_host, which
// holds them to the leader's list and to the worker's lease.
//
// Its messages are job_runner_actor below; job_run and job_cancel reach it through the node's
// ingress (from another node's router) or its own router.
#pragma once

#include "actors/api/actor_types.hpp"
#include "actors/jobs/job_messages.hpp"
#include "actors/supervision/services.hpp"
#include "actors/wire.hpp"

#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace troupe {

using job_runner_actor = caf::typed_actor<
  // Attempts to run (the leader's committed hand-outs).
  caf::reacts_to<job_run_atom, std::vector<job_handout>>,
  // (queue, id, epoch): the leader took the attempt back.
  caf::reacts_to<job_cancel_atom, std::string, std::string, uint64_t>,
  // Every task instance this worker is to run now (actors/jobs/task_host.hpp).
  caf::reacts_to<task_assign_atom, std::vector<task_assignment>>,
  metrics_sig>;

struct job_runner_config {
  std::string node_name;
  std::string data_dir;
  std::shared_ptr<const actor_types> types;
  std::shared_ptr<service_directory> services;  // the ingress, where reports go
  std::chrono::milliseconds report_timeout{10000};
  std::chrono::milliseconds report_retry{200};  // after a report that was not applied
  std::chrono::milliseconds report_give_up{60000};
  std::chrono::milliseconds fence_grace{1000};
  std::chrono::milliseconds task_check{250};     // lease checks and restarts of instances
  std::chrono::milliseconds task_restart{1000};  // an instance that died starts again after
};

struct actor_stats;

job_runner_actor spawn_job_runner(caf::actor_system& sys, job_runner_config cfg,
                                  std::shared_ptr<actor_stats> stats = nullptr);

} // namespace troupe
