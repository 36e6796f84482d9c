// The task instances a worker runs (actors/api/tasks.hpp), kept by its job runner: the leader
// sends the full list of what this worker is to run (task_assign, on every change and every
// second); the host starts what is missing, fences what is no longer there or holds an older
// epoch, starts an instance that died again after restart_delay, and fences everything while
// the worker's lease does not hold (it may have been declared lost: its partitions may then
// be placed elsewhere). No CAF actor of its own: the runner passes in how to spawn and fence.
#pragma once

#include "actors/jobs/job_messages.hpp"

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace troupe {

class task_host {
public:
  using clock_type = std::chrono::steady_clock;
  /// Starts an instance (an invalid handle when its type is unknown here).
  using spawn_fn = std::function<caf::actor(const task_assignment&)>;
  /// Tells an instance it no longer runs (fenced_atom) and stops it after a grace.
  using fence_fn = std::function<void(const caf::actor&, const task_assignment&)>;

  task_host(spawn_fn spawn, fence_fn fence,
            std::chrono::milliseconds restart_delay = std::chrono::milliseconds(1000));

  /// The leader's list for this worker. Starts nothing while `may_run` is false. `generation`
  /// is the worker's incarnation: an instance started under another is fenced (the worker
  /// was seen lost meanwhile, and its partitions may have run elsewhere).
  void assign(std::vector<task_assignment> wanted, bool may_run, uint64_t generation,
              clock_type::time_point now);

  /// The actor `who` stopped: when it is an instance that still runs here, it starts again
  /// after restart_delay (at a tick). True when it was one of ours.
  bool on_down(const caf::actor_addr& who, clock_type::time_point now);

  /// Periodically: restarts that are due; with `may_run` false, fences every instance, and
  /// those of another generation.
  void tick(bool may_run, uint64_t generation, clock_type::time_point now);

  bool empty() const { return hosted_.empty(); }
  size_t running() const;
  uint64_t started() const { return started_; }
  uint64_t fenced() const { return fenced_; }

private:
  struct hosted {
    task_assignment a;
    caf::actor actor;                  // invalid while it waits for a restart
    clock_type::time_point restart_at{};
    uint64_t generation = 0;           // the worker's incarnation it was started under
  };
  using key = std::pair<std::string, uint32_t>;  // (task, partition)

  void start(hosted& h, uint64_t generation, clock_type::time_point now);

  spawn_fn spawn_;
  fence_fn fence_;
  std::chrono::milliseconds restart_delay_;
  std::map<key, hosted> hosted_;
  uint64_t started_ = 0, fenced_ = 0;
};

} // namespace troupe
