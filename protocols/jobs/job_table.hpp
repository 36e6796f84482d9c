// Shared work, after the Logstash design (../shared/seeds/001): durable queues of jobs that the
// leader hands to idle worker slots, takes back when a worker is lost or an attempt runs past
// its timeout, retries with exponential backoff and, after max_attempts, keeps as dead letters
// for an operator to retry.
//
// Two pure parts, as elsewhere in protocols/ (no clock: time is the leader's wall clock in ms,
// carried inside the commands so that every replica applies them alike):
//
//   job_table::apply(cmd)  what every replica applies from the Raft log, in log order;
//   plan(table, now_ms)    what the leader proposes next: hand-outs to idle slots, expiries of
//                          attempts past their timeout.
//
// Fencing: each attempt gets an epoch, unique in the table and never reused. A result counts
// only when it names the job's current running attempt; a handler that runs on after its
// attempt expired (a pause, a lost message) is refused, and learns so. So a job is done at
// most once, and every job ends done or dead once faults stop.
#pragma once

#include "protocols/jobs/task_table.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

namespace troupe::jobs {

struct queue_config {
  std::string name;
  std::string handler;            // the actor type that runs its jobs
  uint32_t slots_per_worker = 1;  // attempts of this queue one worker runs at once
  int64_t timeout_ms = 30000;     // an attempt running longer goes back to the queue
  uint32_t max_attempts = 3;      // then the job is dead (a dead letter)
  int64_t backoff_ms = 1000;      // delay before the 2nd attempt; doubles for each next one
  uint64_t keep_done = 100000;    // done jobs kept; the leader prunes the oldest beyond
};

/// Why a queue's configuration is refused ("" when it is fine).
std::string check_config(const queue_config& q);

enum class job_state : uint8_t { pending, running, done, dead };

const char* to_string(job_state s);

struct job {
  std::string id;
  std::string payload;
  uint64_t submitted = 0;       // submission order in its queue
  job_state state = job_state::pending;
  uint32_t attempts = 0;        // attempts started
  uint64_t epoch = 0;           // the current (or last) attempt's epoch, 0 before the first
  std::string worker;           // running: where
  int64_t submitted_ms = 0;
  int64_t started_ms = 0;       // when its (last) attempt was handed out
  int64_t ended_ms = 0;         // when its last attempt ended: done, failed or taken back
  int64_t not_before_ms = 0;    // pending after a failed attempt: the backoff
  std::string last_error;       // why the last attempt did not succeed
};

// -- commands, in log order ---------------------------------------------------------------------

struct create_queue_cmd { queue_config config; };
struct delete_queue_cmd { std::string queue; };
struct submit_cmd { std::string queue; std::string id; std::string payload; int64_t at_ms = 0; };
/// The leader hands job `id` to `worker`; refused unless the job is pending, past its backoff,
/// and the worker is up with a free slot of that queue.
struct assign_cmd { std::string queue; std::string id; std::string worker; int64_t at_ms = 0; };
/// A handler's result for attempt `epoch`.
struct finish_cmd {
  std::string queue; std::string id; uint64_t epoch = 0; bool ok = true; std::string error;
  int64_t at_ms = 0;
};
/// The leader takes attempt `epoch` back (its timeout passed).
struct expire_cmd { std::string queue; std::string id; uint64_t epoch = 0; int64_t at_ms = 0; };
/// A worker came up (offers its slots) or is lost (its attempts go back to their queues).
struct worker_cmd { std::string worker; bool up = true; int64_t at_ms = 0; };
/// Dead letters back to pending, attempts from zero: one job (`id`) or all of the queue.
struct retry_cmd { std::string queue; std::optional<std::string> id; int64_t at_ms = 0; };
/// The leader forgets the `count` done jobs of `queue` that ended first (beyond keep_done):
/// the table does not grow without end. A pruned id can be submitted again as a new job.
struct prune_cmd { std::string queue; uint64_t count = 0; int64_t at_ms = 0; };

/// A replicated set (state such as "files already processed"): add or remove `member`.
struct set_cmd { std::string set; std::string member; bool add = true; int64_t at_ms = 0; };

/// Why a set's name or member is refused ("" when fine).
std::string check_set(const std::string& set, const std::string& member);

using command = std::variant<create_queue_cmd, delete_queue_cmd, submit_cmd, assign_cmd,
                             finish_cmd, expire_cmd, worker_cmd, retry_cmd, start_task_cmd,
                             stop_task_cmd, place_task_cmd, set_cmd, prune_cmd>;

enum class outcome : uint8_t {
  ok,
  duplicate,      // a submit of an id the queue has (the same job: acknowledged again)
  no_queue,
  exists,         // a queue created twice with another configuration
  invalid,        // a configuration check_config refuses, an empty id
  not_pending,    // assign: the job is not waiting (or still backing off)
  no_slot,        // assign: the worker is not up or has no free slot of the queue
  stale_attempt,  // finish/expire: not the job's running attempt (fenced)
  no_job,
  no_task,        // stop/place of a task (or partition) that does not exist
  absent,         // set remove: not a member
};

const char* to_string(outcome o);

struct apply_result {
  outcome result = outcome::ok;
  uint64_t epoch = 0;        // assign: the attempt's epoch
  job_state state = job_state::pending;  // the job's state afterwards (job commands)
};

struct queue_counts {
  size_t pending = 0, running = 0, done = 0, dead = 0;  // done: ever, pruned ones included
  size_t pruned = 0;              // done jobs no longer kept
  int64_t oldest_pending_ms = 0;  // submission time of the oldest pending job (0: none)
};

class job_table {
public:
  apply_result apply(const command& c);

  const std::map<std::string, queue_config>& queues() const { return queues_; }
  const job* find(const std::string& queue, const std::string& id) const;
  const std::map<std::string, job>* jobs_of(const std::string& queue) const;
  queue_counts counts(const std::string& queue) const;
  const std::set<std::string>& workers_up() const { return up_; }
  /// Attempts of `queue` running on `worker`.
  uint32_t running_on(const std::string& queue, const std::string& worker) const;
  /// The ids of the running jobs of `queue` (nullptr: no such queue).
  const std::set<std::string>* running_of(const std::string& queue) const;
  /// The pending jobs of `queue` as (submission order, id), oldest first.
  const std::set<std::pair<uint64_t, std::string>>* waiting_of(const std::string& queue) const;
  /// True when some job of some queue is pending or running: the leader has work to plan.
  bool busy() const;
  const task_table& tasks() const { return tasks_; }
  const std::map<std::string, std::set<std::string>>& sets() const { return sets_; }

  // -- snapshots ------------------------------------------------------------------------------

  /// One queue as a snapshot holds it.
  struct queue_image {
    queue_config config;
    uint64_t next_submitted = 1;
    std::vector<job> jobs;
    uint64_t pruned = 0;
  };
  std::vector<queue_image> images() const;
  uint64_t next_epoch() const { return next_epoch_; }
  /// Replaces the table; false (and the table unchanged) when the images contradict each
  /// other (a bad configuration, a duplicate id, a running job without a worker).
  bool restore(std::vector<queue_image> queues, std::set<std::string> up, uint64_t next_epoch,
               std::vector<task_state> tasks = {},
               std::map<std::string, std::set<std::string>> sets = {});

private:
  struct queue_state {
    std::map<std::string, job> jobs;
    uint64_t next_submitted = 1;
    std::map<std::string, uint32_t> running;  // worker -> attempts running
    // Indexes, so that the leader's plan and the counts do not walk the jobs that are over:
    std::set<std::pair<uint64_t, std::string>> waiting;  // pending: (submitted, id)
    std::set<std::string> live;                          // running: ids
    std::set<std::pair<int64_t, std::string>> done_order;  // done: (ended_ms, id)
    size_t in_state[4] = {0, 0, 0, 0};                   // jobs by job_state
    uint64_t pruned = 0;                                 // done jobs forgotten
  };

  /// Puts job `j` (of `qs`) in state `s`, keeping the indexes.
  static void move_to(queue_state& qs, job& j, job_state s);
  /// Adds a job (its state as it is) to the indexes of `qs`.
  static void index(queue_state& qs, const job& j);

  using attempt_end = std::function<void(const queue_config&, queue_state&, job&)>;
  /// Ends the running attempt `epoch` of a job with `end`; stale_attempt for any other.
  apply_result end_attempt(const std::string& queue, const std::string& id, uint64_t epoch,
                           const attempt_end& end);
  apply_result submit(const submit_cmd& c);
  apply_result assign(const assign_cmd& c);
  apply_result finish(const finish_cmd& c);
  apply_result expire(const expire_cmd& c);
  void worker(const worker_cmd& c);
  apply_result retry(const retry_cmd& c);
  apply_result task(const start_task_cmd& c);
  apply_result task(const stop_task_cmd& c);
  apply_result task(const place_task_cmd& c);
  apply_result set(const set_cmd& c);
  apply_result prune(const prune_cmd& c);
  /// Ends attempt of running job `j` without success: pending again after its backoff, or
  /// dead after its queue's max_attempts.
  void attempt_failed(const queue_config& q, queue_state& qs, job& j, int64_t at_ms,
                      std::string why);
  void stop_running(queue_state& qs, job& j);
  job* lookup(const std::string& queue, const std::string& id, queue_state*& qs,
              const queue_config*& q);

  std::map<std::string, queue_config> queues_;
  std::map<std::string, queue_state> state_;
  std::set<std::string> up_;
  uint64_t next_epoch_ = 1;
  task_table tasks_;
  std::map<std::string, std::set<std::string>> sets_;  // a set without members is not kept
};

/// The leader's next proposals at `now_ms`: an expiry for each attempt past its timeout, then
/// hand-outs of pending jobs (oldest first, past their backoff) to the free slots of the up
/// workers, spread over them. At most `max` commands.
std::vector<command> plan(const job_table& t, int64_t now_ms, size_t max = 1024);

} // namespace troupe::jobs
