#include "nodes/local_supervisor.hpp"

#include "actors/logging.hpp"
#include "nodes/cli.hpp"
#include "nodes/exit_codes.hpp"

#include <poll.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <random>

#include <spdlog/spdlog.h>

extern char** environ;

namespace troupe {

struct local_supervisor::child {
  worker_process info;
  supervision::restart_policy policy;
  time_point started{};
  time_point restart_at{};
  bool waiting = false;
  pid_t down_pid = 0;       // the process the membership holds down, since down_since
  time_point down_since{};
  int pidfd = -1;           // readable once the process has exited (-1: not available)
  child(uint32_t id, std::string name, const supervision::restart_settings& rs)
    : info{id, std::move(name), 0, 0}, policy(rs) {
  }
};

namespace {

std::string describe(int status) {
  if (WIFEXITED(status))
    return "exited with code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return std::string{"was killed by signal "} + std::to_string(WTERMSIG(status)) + " ("
           + strsignal(WTERMSIG(status)) + ")";
  return "ended (status " + std::to_string(status) + ")";
}

} // namespace

local_supervisor::local_supervisor(local_supervisor_config cfg)
  : cfg_(std::move(cfg)), wake_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  for (uint32_t k = 1; k <= cfg_.parent.workers; ++k)
    children_.push_back(std::make_unique<child>(
      k, cfg_.parent.name + "-worker-" + std::to_string(k), cfg_.restart));
}

local_supervisor::~local_supervisor() {
  stop();
  if (wake_fd_ >= 0)
    ::close(wake_fd_);
}

pid_t local_supervisor::spawn(child& c, std::string& problem) {
  auto args = local_worker_args(cfg_.parent, cfg_.parent_port, c.info.id, cfg_.cluster_id,
                                getpid());
  std::vector<char*> argv;
  std::string prog = "troupe";
  argv.push_back(prog.data());
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // The parent blocks SIGTERM/SIGINT to wait for them synchronously; the child must start
  // with a clean mask and default handlers. Its own process group keeps a terminal's Ctrl-C
  // away from it: the coordinator decides the order of shutdown.
  sigset_t empty;
  sigemptyset(&empty);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int s : {SIGTERM, SIGINT, SIGPIPE, SIGCHLD, SIGHUP})
    sigaddset(&defaults, s);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
                                    | POSIX_SPAWN_SETPGROUP);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, cfg_.exe.c_str(), nullptr, &attr, argv.data(), environ);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    problem = "cannot start " + c.info.name + " (" + cfg_.exe + "): " + std::strerror(rc);
    return 0;
  }
  c.started = clock_type::now();
  c.waiting = false;
  c.info.pid = pid;
  // Its exit wakes the supervisor at once, rather than at its next look (Linux 5.3+; without
  // it the supervisor looks every poll_interval).
  c.pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); // close-on-exec
  logging::get("supervisor")->info("started {} as pid {}", c.info.name, pid);
  return pid;
}

std::string local_supervisor::start() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    for (auto& c : children_) {
      std::string problem;
      if (spawn(*c, problem) == 0)
        return problem;
    }
  }
  thread_ = std::thread{[this] { loop(); }};
  return {};
}

void local_supervisor::reap(child& c, int status, time_point now) {
  auto log = logging::get("supervisor");
  auto what = describe(status);
  c.info.pid = 0;
  if (c.pidfd >= 0) {
    ::close(c.pidfd);
    c.pidfd = -1;
  }
  if (stopping_) {
    log->info("{} {}", c.info.name, what);
    return;
  }
  auto kind = supervision::exit_kind::crashed;
  if (WIFEXITED(status) && WEXITSTATUS(status) == exit_code::config)
    kind = supervision::exit_kind::config_error;
  else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    kind = supervision::exit_kind::clean;
  static thread_local std::minstd_rand rng{static_cast<uint32_t>(getpid())};
  auto d = c.policy.on_exit(kind, c.started, now,
                            std::uniform_real_distribution<double>{0, 1}(rng));
  switch (d.action) {
    case supervision::restart_decision::give_up_config:
      log->error("{} {} (configuration error): not restarting it", c.info.name, what);
      cfg_.on_give_up(exit_code::config,
                      c.info.name + " exited with a configuration error; see its log above");
      return;
    case supervision::restart_decision::give_up_intensity: {
      auto msg = c.info.name + " " + what + " after " + std::to_string(cfg_.restart.max_restarts)
                 + " restarts within " + format_duration(cfg_.restart.period)
                 + ": giving up (restart intensity reached)";
      log->error("{}", msg);
      cfg_.on_give_up(exit_code::software, msg);
      return;
    }
    case supervision::restart_decision::restart:
      ++c.info.restarts;
      c.waiting = true;
      c.restart_at = now + d.delay;
      log->warn("{} {}: restarting it in {} ms (restart {} within {})", c.info.name, what,
                std::chrono::duration_cast<milliseconds>(d.delay).count(),
                c.policy.recent_restarts(), format_duration(cfg_.restart.period));
      return;
  }
}

void local_supervisor::kill_hung() {
  // Ask without holding the lock: the answer comes from an actor and may take a moment.
  auto down = cfg_.down_pids();
  if (down.empty())
    return;
  std::lock_guard<std::mutex> guard{mtx_};
  auto now = clock_type::now();
  for (auto& c : children_) {
    if (c->info.pid == 0 || stopping_)
      continue;
    if (std::find(down.begin(), down.end(), static_cast<uint32_t>(c->info.pid)) == down.end()) {
      c->down_pid = 0;
      continue;
    }
    int status = 0;
    if (waitpid(c->info.pid, &status, WNOHANG) == c->info.pid) { // it crashed: not hung
      reap(*c, status, now);
      continue;
    }
    // A worker that gives up is down before its process has exited: it gets a grace period
    // to finish before it counts as hung.
    if (c->down_pid != c->info.pid) {
      c->down_pid = c->info.pid;
      c->down_since = now;
    }
    if (now - c->down_since < cfg_.hung_grace)
      continue;
    logging::get("supervisor")
      ->warn("{} (pid {}) is down but its process still runs (hung): killing it to restart it",
             c->info.name, c->info.pid);
    ::kill(c->info.pid, SIGKILL);
  }
}

void local_supervisor::loop() {
  auto next_hung_check = clock_type::now() + cfg_.hung_check_interval;
  while (!stopping_) {
    if (cfg_.down_pids && clock_type::now() >= next_hung_check) {
      kill_hung();
      next_hung_check = clock_type::now() + cfg_.hung_check_interval;
    }
    {
      std::lock_guard<std::mutex> guard{mtx_};
      auto now = clock_type::now();
      for (auto& c : children_) {
        if (stopping_)
          break;
        if (c->info.pid != 0) {
          int status = 0;
          auto rc = waitpid(c->info.pid, &status, WNOHANG);
          if (rc == c->info.pid)
            reap(*c, status, now);
        } else if (c->waiting && now >= c->restart_at) {
          std::string problem;
          if (spawn(*c, problem) == 0) {
            logging::get("supervisor")->error("{}", problem);
            cfg_.on_give_up(exit_code::software, problem);
            c->waiting = false;
          }
        }
      }
    }
    wait_for_change(next_hung_check);
  }
}

void local_supervisor::wait_for_change(time_point next_hung_check) {
  std::vector<pollfd> fds;
  if (wake_fd_ >= 0)
    fds.push_back({wake_fd_, POLLIN, 0});
  auto now = clock_type::now();
  duration timeout = cfg_.hung_check_interval;
  bool all_watched = wake_fd_ >= 0;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    for (auto& c : children_) {
      if (c->info.pid != 0 && c->pidfd >= 0)
        fds.push_back({c->pidfd, POLLIN, 0});
      else if (c->info.pid != 0)
        all_watched = false;
      else if (c->waiting)
        timeout = std::min(timeout, std::max(duration{0}, c->restart_at - now));
    }
  }
  if (cfg_.down_pids)
    timeout = std::min(timeout, std::max(duration{0}, next_hung_check - now));
  if (!all_watched)
    timeout = std::min(timeout, cfg_.poll_interval);
  // Rounded up: a restart due in 0.4 ms is not looked at before it is due.
  auto ms = std::chrono::ceil<milliseconds>(timeout).count();
  if (::poll(fds.data(), fds.size(), static_cast<int>(ms)) > 0 && wake_fd_ >= 0
      && (fds.front().revents & POLLIN)) {
    uint64_t n = 0;
    [[maybe_unused]] auto rc = ::read(wake_fd_, &n, sizeof(n));
  }
}

void local_supervisor::stop() {
  auto stopped_before = stopping_.exchange(true);
  if (!stopped_before && wake_fd_ >= 0) {
    uint64_t one = 1;
    [[maybe_unused]] auto rc = ::write(wake_fd_, &one, sizeof(one)); // ends the wait now
  }
  if (stopped_before) {
    if (thread_.joinable())
      thread_.join();
    return;
  }
  if (thread_.joinable())
    thread_.join();
  auto log = logging::get("supervisor");
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto& c : children_)
    if (c->info.pid != 0) {
      log->info("stopping {} (pid {})", c->info.name, c->info.pid);
      ::kill(c->info.pid, SIGTERM);
    }
  auto deadline = clock_type::now() + cfg_.shutdown_timeout;
  for (;;) {
    bool any = false;
    for (auto& c : children_) {
      if (c->info.pid == 0)
        continue;
      int status = 0;
      auto rc = waitpid(c->info.pid, &status, WNOHANG);
      if (rc == c->info.pid || (rc < 0 && errno == ECHILD))
        reap(*c, status, clock_type::now());
      else
        any = true;
    }
    if (!any)
      return;
    if (clock_type::now() >= deadline)
      break;
    std::this_thread::sleep_for(milliseconds(10));
  }
  for (auto& c : children_) {
    if (c->info.pid == 0)
      continue;
    log->warn("{} (pid {}) did not stop within {}: killing it", c->info.name, c->info.pid,
              format_duration(cfg_.shutdown_timeout));
    ::kill(c->info.pid, SIGKILL);
    int status = 0;
    waitpid(c->info.pid, &status, 0); // SIGKILL cannot be ignored: this returns promptly
    c->info.pid = 0;
  }
}

std::vector<worker_process> local_supervisor::workers() const {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<worker_process> out;
  for (auto& c : children_)
    out.push_back(c->info);
  return out;
}

} // namespace troupe
