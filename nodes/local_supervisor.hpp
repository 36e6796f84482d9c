// Local cluster mode (the Kibana RFC's clustering mode): the coordinator process starts N worker
// processes of its own binary and supervises them. A crashed worker is restarted with backoff;
// one that exits with the configuration-error code is not restarted and stops the node with
// that code; past the restart intensity the node gives up, naming the worker. Stopping sends
// SIGTERM to every worker, waits, then SIGKILLs what is left: no process outlives the node.
//
// A worker the membership marks down while its process still runs is hung: it is killed and
// restarted like a crash, so a deadlocked worker does not hold its place forever.
//
// A dedicated thread polls the children with waitpid(WNOHANG): blocking process calls stay off
// the actor threads, and the decisions themselves are the pure restart_policy.
#pragma once

#include "nodes/node_config.hpp"
#include "protocols/supervision/restart_policy.hpp"

#include <sys/types.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace troupe {

struct local_supervisor_config {
  std::string exe;                       // the binary to start (this one)
  node_config parent;                    // the coordinator's configuration
  uint16_t parent_port = 0;              // where workers join
  std::string cluster_id;
  supervision::restart_settings restart;
  duration shutdown_timeout = std::chrono::seconds(5);
  // How often it looks at a worker whose exit it cannot wait for (no pidfd: Linux < 5.3);
  // otherwise an exit, a due restart or the hung check wakes it, and it sleeps in between.
  duration poll_interval = milliseconds(20);
  // Called from the supervisor's thread when the node must stop.
  std::function<void(int code, const std::string& reason)> on_give_up;
  // Returns the pids of the members the coordinator holds `down`. A local worker among them
  // whose process still runs is hung (it stopped heartbeating but did not exit): it is
  // SIGKILLed and then restarted like any crash. Empty: no such check.
  std::function<std::vector<uint32_t>()> down_pids;
  duration hung_check_interval = milliseconds(250);
  // How long a down worker's process may still run before it counts as hung: one that gives
  // up is down a moment before it has exited. The node sets its failure timeout.
  duration hung_grace = std::chrono::seconds(1);
};

struct worker_process {
  uint32_t id = 0;
  std::string name;
  pid_t pid = 0;            // 0 while waiting to be restarted
  uint32_t restarts = 0;
};

class local_supervisor {
public:
  explicit local_supervisor(local_supervisor_config cfg);
  ~local_supervisor();

  /// Starts every worker and the supervising thread. Returns the problem, or "".
  std::string start();

  /// Stops every worker (SIGTERM, then SIGKILL after the shutdown timeout) and reaps them.
  void stop();

  /// Returns the workers as they are now.
  std::vector<worker_process> workers() const;

private:
  struct child;
  void loop();
  pid_t spawn(child& c, std::string& problem);
  void reap(child& c, int status, time_point now);
  void kill_hung();
  void wait_for_change(time_point next_hung_check);

  local_supervisor_config cfg_;
  mutable std::mutex mtx_;
  std::vector<std::unique_ptr<child>> children_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  int wake_fd_ = -1;  // an eventfd: stop() ends the supervisor's wait through it
};

} // namespace troupe
