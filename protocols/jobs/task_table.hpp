// Long-running tasks, after the Logstash design (../shared/seeds/001): a task is N instances of
// an actor type (a Kafka consumer per partition, an HTTP poller, a prospector) that run until
// stopped. The leader places the instances over the workers that are up, a fair share each;
// when a worker is lost its instances are placed elsewhere, and when the workers change (a join,
// a leave) it moves instances until every worker has its share again. Each placement gets a
// fencing epoch, unique in the shared-work state and never reused: an instance knows its
// partition (its number and the count) and its epoch. A worker runs its instances only while
// its lease holds, and the leader places a lost worker's instances elsewhere only once that
// lease has run out, as it does with vnodes: one partition never runs twice at once.
//
// Pure, like job_table: apply() is what every replica applies from the log, plan_tasks() what
// the leader proposes next. The workers that are up and the epoch counter are the job table's
// (job_table holds a task_table and passes them in).
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace troupe::jobs {

struct task_spec {
  std::string name;
  std::string type;                           // the actor type each instance runs
  uint32_t instances = 1;                     // partitions 0 .. instances-1
  std::map<std::string, std::string> config;  // handed to every instance (context::config)
};

/// True for a name of the shared work (queue, handler, task, type, set): 1-64 letters,
/// digits, '-', '_' or '.'.
bool valid_name(const std::string& s);

/// Why a task's specification is refused ("" when it is fine).
std::string check_task(const task_spec& t);

struct task_instance {
  std::string worker;      // where it was placed ("" before the first placement)
  uint64_t epoch = 0;      // its current (or last) placement's fencing epoch
  int64_t placed_ms = 0;
  uint32_t placements = 0; // how many times it was placed (1 + moves and restarts elsewhere)
  int64_t revoked_ms = 0;  // being moved: taken from `worker` then (0: not); placed again
                           // elsewhere only after the drain, once that worker has stopped it
};

struct task_state {
  task_spec spec;
  int64_t started_ms = 0;
  std::vector<task_instance> instances;  // by partition number
};

struct start_task_cmd { task_spec spec; int64_t at_ms = 0; };
struct stop_task_cmd { std::string name; int64_t at_ms = 0; };
/// The leader places partition `instance` of task `name` on `worker` (a new epoch); refused
/// unless the worker is up. With `worker` "" it revokes the placement instead (the first half
/// of a move between live workers): its worker stops the instance, and the partition is placed
/// again only after the drain.
struct place_task_cmd { std::string name; uint32_t instance = 0; std::string worker; int64_t at_ms = 0; };

class task_table {
public:
  const std::map<std::string, task_state>& tasks() const { return tasks_; }
  const task_state* find(const std::string& name) const;

  /// 0: started, 1: the same task was started already, 2: another task has that name,
  /// 3: invalid (check_task).
  int start(const start_task_cmd& c);
  /// False when there is no such task.
  bool stop(const stop_task_cmd& c);
  /// 0: placed or revoked (`epoch` is the new one), 1: already there (or revoked), 2: no such
  /// task or partition, 3: the worker is not up.
  int place(const place_task_cmd& c, const std::set<std::string>& up, uint64_t& next_epoch,
            uint64_t& epoch);
  /// The highest epoch any instance holds (snapshots check the counter is past it).
  uint64_t highest_epoch() const;
  /// Replaces the table; false (unchanged) when a task is invalid or its instances do not
  /// match its count.
  bool restore(std::vector<task_state> tasks);

private:
  std::map<std::string, task_state> tasks_;
};

/// The leader's placements at `now_ms`: each task's partitions spread over the `up` workers
/// so that their counts differ by at most one, moving as few as it can (an instance stays on
/// a worker that is up and within its share). An instance on a worker that is not up is placed
/// elsewhere, unless that worker is `held`: it went down but its lease has not run out, so it
/// may still run the instance (it stops them when its lease ends), and two must never run.
///
/// A move between two live workers is two steps, so that a partition never runs on both: the
/// placement is revoked first (its worker hears its list without it and stops it), and the
/// partition is placed on the new worker `drain_ms` after the revocation, time enough for the
/// old worker to have stopped it, or, if it cannot hear, to be seen lost and held.
std::vector<place_task_cmd> plan_tasks(const task_table& t, const std::set<std::string>& up,
                                       const std::set<std::string>& held, int64_t now_ms,
                                       int64_t drain_ms = 0);

} // namespace troupe::jobs
