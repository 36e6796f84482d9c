#include "actors/jobs/job_runner.hpp"

#include "actors/api/counted_actor.hpp"
#include "actors/api/jobs.hpp"
#include "actors/api/tasks.hpp"
#include "actors/jobs/task_host.hpp"
#include "actors/logging.hpp"
#include "protocols/cluster_state/commands.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <spdlog/spdlog.h>

#include <deque>
#include <map>

namespace troupe {

namespace {

using job_flush_atom = caf::atom_constant<caf::atom("job_flush")>;
using job_stop_atom = caf::atom_constant<caf::atom("job_stop")>;
using task_check_atom = caf::atom_constant<caf::atom("task_chk")>;
using clock_type = std::chrono::steady_clock;

using job_key = std::pair<std::string, std::string>; // (queue, id)

struct attempt {
  job_handout h;
  caf::actor handler;
  bool reported = false;  // its result waits for, or is in, a report
};

struct result {
  std::string queue;
  std::string id;
  uint64_t epoch = 0;
  bool ok = true;
  std::string error;
  clock_type::time_point at{};
};

struct job_runner_state {
  job_runner_config cfg;
  std::map<job_key, attempt> running;
  std::map<std::string, std::shared_ptr<const context>> contexts;  // one per queue
  std::deque<result> waiting;       // results not yet reported
  std::vector<result> in_flight;    // the report on its way
  bool reporting = false;           // a report (or its retry timer) is on its way
  uint64_t started = 0, succeeded = 0, failed = 0, fenced = 0, refused = 0;
  std::unique_ptr<task_host> tasks;
  bool task_checking = false;       // a task_check timer is on its way
  bool stopping = false;            // exiting: fenced instances are stopped at once
  std::shared_ptr<spdlog::logger> log;
  static inline const char* name = "troupe.job_runner";
};

using job_runner_impl = job_runner_actor::extend<caf::reacts_to<job_flush_atom>,
                                                 caf::reacts_to<job_stop_atom, caf::actor>,
                                                 caf::reacts_to<task_check_atom>>;
using job_runner_class = job_runner_impl::stateful_base<job_runner_state>;
using runner_ptr = job_runner_class*;

void flush(runner_ptr self);

/// Why an attempt failed, for people: the text a handler gave its error, else CAF's rendering.
std::string reason_of(runner_ptr self, const caf::error& err) {
  auto& ctx = err.context();
  if (ctx.size() == 1 && ctx.match_element<std::string>(0))
    return ctx.get_as<std::string>(0);
  if (ctx.size() == 1 && ctx.match_element<caf::message>(0)) {
    auto& inner = ctx.get_as<caf::message>(0);
    if (inner.size() >= 1 && inner.match_element<std::string>(0))
      return inner.get_as<std::string>(0);
  }
  return self->system().render(err);
}

/// The handler is done with: stopped now.
void stop_handler(runner_ptr self, const caf::actor& h) {
  if (h)
    self->send_exit(h, caf::exit_reason::user_shutdown);
}

/// The attempt no longer counts: its handler hears so, and is stopped after the grace.
void fence(runner_ptr self, attempt& a) {
  ++self->state.fenced;
  if (!a.handler)
    return;
  caf::anon_send(a.handler, jobs::fenced_atom::value, a.h.id, a.h.epoch);
  self->delayed_send(self, self->state.cfg.fence_grace, job_stop_atom::value, a.handler);
}

/// Attempt `epoch` of job `key` ended: its result waits for the next report.
void ended(runner_ptr self, const job_key& key, uint64_t epoch, bool ok, std::string error) {
  auto& st = self->state;
  auto it = st.running.find(key);
  if (it == st.running.end() || it->second.h.epoch != epoch || it->second.reported)
    return;
  it->second.reported = true;
  ok ? ++st.succeeded : ++st.failed;
  st.waiting.push_back(result{key.first, key.second, epoch, ok, std::move(error),
                              clock_type::now()});
  flush(self);
}

std::shared_ptr<const context> context_of(runner_ptr self, const std::string& queue) {
  auto& st = self->state;
  auto& c = st.contexts[queue];
  if (!c) {
    auto ctx = std::make_shared<context>();
    ctx->config = {{"queue", queue}};
    ctx->data_dir = st.cfg.data_dir;
    ctx->services = st.cfg.services;
    c = std::move(ctx);
  }
  return c;
}

void start(runner_ptr self, job_handout h) {
  auto& st = self->state;
  job_key key{h.queue, h.id};
  if (auto it = st.running.find(key); it != st.running.end()) {
    if (it->second.h.epoch >= h.epoch)
      return; // the same hand-out again
    fence(self, it->second); // an older attempt of the job: it was taken back
    st.running.erase(it);
  }
  ++st.started;
  auto handler = st.cfg.types ? st.cfg.types->spawn(h.handler, self->system(),
                                                    context_of(self, h.queue), nullptr)
                              : caf::actor{};
  auto epoch = h.epoch;
  auto timeout = std::chrono::milliseconds(std::max<int64_t>(h.timeout_ms, 1));
  event ev{h.id, h.payload,
           {{jobs::queue_header, h.queue},
            {jobs::id_header, h.id},
            {jobs::epoch_header, std::to_string(h.epoch)},
            {jobs::attempt_header, std::to_string(h.attempt)}}};
  auto type = h.handler;
  st.running.emplace(key, attempt{std::move(h), handler, false});
  if (!handler) {
    ended(self, key, epoch, false,
          "no actor type '" + type + "' on worker " + st.cfg.node_name
            + " (register it with add_actor_type on every worker)");
    return;
  }
  self->monitor(handler);
  self->request(handler, timeout, std::move(ev))
    .then([self, key, epoch](std::string&) { ended(self, key, epoch, true, {}); },
          [self, key, epoch](caf::error& err) {
            ended(self, key, epoch, false, reason_of(self, err));
          });
}

/// The cluster's answer to the report in flight.
void reported(runner_ptr self, const std::vector<uint64_t>& outcomes) {
  auto& st = self->state;
  for (size_t i = 0; i < st.in_flight.size(); ++i) {
    auto& r = st.in_flight[i];
    auto o = i < outcomes.size() ? static_cast<jobs::outcome>(outcomes[i]) : jobs::outcome::invalid;
    auto it = st.running.find({r.queue, r.id});
    bool current = it != st.running.end() && it->second.h.epoch == r.epoch;
    if (o == jobs::outcome::stale_attempt) {
      ++st.refused;
      st.log->info("{}: the result of job {} of {} (epoch {}) was refused: the attempt had "
                   "been taken back", st.cfg.node_name, r.id, r.queue, r.epoch);
      if (current)
        fence(self, it->second);
    } else {
      if (o != jobs::outcome::ok)
        st.log->warn("{}: the result of job {} of {} was not recorded: {}", st.cfg.node_name,
                     r.id, r.queue, jobs::to_string(o));
      if (current)
        stop_handler(self, it->second.handler);
    }
    if (current)
      st.running.erase(it);
  }
  st.in_flight.clear();
  st.reporting = false;
  flush(self);
}

/// The report in flight failed (no quorum, the entrance restarting): its results go back to
/// the front, and are sent again after report_retry (given up on after report_give_up: by
/// then the attempt was taken back and runs elsewhere).
void report_failed(runner_ptr self, const caf::error& err) {
  auto& st = self->state;
  auto now = clock_type::now();
  for (auto it = st.in_flight.rbegin(); it != st.in_flight.rend(); ++it) {
    if (now - it->at < st.cfg.report_give_up) {
      st.waiting.push_front(std::move(*it));
      continue;
    }
    st.log->warn("{}: gave up reporting job {} of {}: {}", st.cfg.node_name, it->id, it->queue,
                 self->system().render(err));
    if (auto a = st.running.find({it->queue, it->id}); a != st.running.end()) {
      stop_handler(self, a->second.handler);
      st.running.erase(a);
    }
  }
  st.in_flight.clear();
  self->delayed_send(self, st.cfg.report_retry, job_flush_atom::value);
}

void flush(runner_ptr self) {
  auto& st = self->state;
  if (st.reporting || st.waiting.empty())
    return;
  auto node = st.cfg.services ? st.cfg.services->get(service::ingress) : caf::actor{};
  state::jobs_cmd c;
  constexpr size_t max_batch = 4096;
  while (!st.waiting.empty() && st.in_flight.size() < max_batch) {
    auto& r = st.waiting.front();
    c.ops.emplace_back(jobs::finish_cmd{r.queue, r.id, r.epoch, r.ok, r.error, 0});
    st.in_flight.push_back(std::move(r));
    st.waiting.pop_front();
  }
  st.reporting = true;
  if (!node) {
    report_failed(self, caf::make_error(caf::sec::invalid_argument,
                                        std::string{"the node's entrance is restarting"}));
    return;
  }
  self->request(node, st.cfg.report_timeout, jobs_cmd_atom::value,
                state::encode(state::command{0, 0, std::move(c)}))
    .then([self](const std::vector<uint64_t>& outcomes,
                 const std::vector<uint64_t>&) { reported(self, outcomes); },
          [self](caf::error& err) { report_failed(self, err); });
}

/// The worker may run its task instances while its lease holds.
bool may_run_tasks(runner_ptr self) {
  auto& st = self->state;
  return !st.cfg.services || st.cfg.services->lease().valid(clock_type::now());
}

/// The worker's incarnation: instances started under an older one are fenced.
uint64_t generation(runner_ptr self) {
  auto& st = self->state;
  return st.cfg.services ? st.cfg.services->lease().incarnation() : 0;
}

caf::actor spawn_task(runner_ptr self, const task_assignment& a) {
  auto& st = self->state;
  auto ctx = std::make_shared<context>();
  ctx->deployment = a.task;
  ctx->vnode = a.instance;
  ctx->config = a.config;
  ctx->config[tasks::name_key] = a.task;
  ctx->config[tasks::partition_key] = std::to_string(a.instance);
  ctx->config[tasks::count_key] = std::to_string(a.count);
  ctx->config[tasks::epoch_key] = std::to_string(a.epoch);
  ctx->data_dir = st.cfg.data_dir;
  ctx->services = st.cfg.services;
  ctx->incarnation = generation(self);
  auto actor = st.cfg.types ? st.cfg.types->spawn(a.type, self->system(), std::move(ctx), nullptr)
                            : caf::actor{};
  if (!actor) {
    st.log->warn("{}: cannot start task {} partition {}: no actor type '{}' on this worker",
                 st.cfg.node_name, a.task, a.instance, a.type);
    return actor;
  }
  self->monitor(actor);
  st.log->info("{}: task {} partition {}/{} started (epoch {})", st.cfg.node_name, a.task,
               a.instance, a.count, a.epoch);
  return actor;
}

void fence_task(runner_ptr self, const caf::actor& actor, const task_assignment& a) {
  auto& st = self->state;
  st.log->info("{}: task {} partition {} (epoch {}) stops here", st.cfg.node_name, a.task,
               a.instance, a.epoch);
  self->demonitor(actor);
  caf::anon_send(actor, jobs::fenced_atom::value, a.task, a.epoch);
  if (st.stopping) // no grace timer would fire: nothing may outlive the runner
    self->send_exit(actor, caf::exit_reason::user_shutdown);
  else
    self->delayed_send(self, st.cfg.fence_grace, job_stop_atom::value, actor);
}

/// Keeps a timer going while instances are held: lease checks and restarts.
void check_tasks_later(runner_ptr self) {
  auto& st = self->state;
  if (st.task_checking || st.tasks->empty())
    return;
  st.task_checking = true;
  self->delayed_send(self, st.cfg.task_check, task_check_atom::value);
}

job_runner_impl::behavior_type job_runner(runner_ptr self, job_runner_config cfg) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.log = logging::get("jobs");
  st.tasks = std::make_unique<task_host>(
    [self](const task_assignment& a) { return spawn_task(self, a); },
    [self](const caf::actor& actor, const task_assignment& a) { fence_task(self, actor, a); },
    st.cfg.task_restart);
  // Stopped (the node stops, or its supervisor restarts it): the handlers stop with it; their
  // attempts come back to their queues at their timeout (or when the worker is seen lost).
  self->set_exit_handler([self](caf::exit_msg& em) {
    for (auto& [key, a] : self->state.running)
      stop_handler(self, a.handler);
    self->state.stopping = true;
    self->state.tasks->assign({}, false, 0, clock_type::now()); // fences and stops them
    self->quit(std::move(em.reason));
  });
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    if (st.tasks->on_down(dm.source, clock_type::now())) {
      st.log->warn("{}: a task instance stopped ({}): it starts again in {} ms",
                   st.cfg.node_name, self->system().render(dm.reason),
                   st.cfg.task_restart.count());
      check_tasks_later(self);
      return;
    }
    for (auto& [key, a] : st.running)
      if (a.handler && a.handler.address() == dm.source && !a.reported) {
        auto k = key;
        ended(self, k, a.h.epoch, false, "the handler exited: " + self->system().render(dm.reason));
        return;
      }
  });
  return {
    [self](job_run_atom, std::vector<job_handout>& batch) {
      for (auto& h : batch)
        start(self, std::move(h));
    },
    [self](job_cancel_atom, const std::string& queue, const std::string& id, uint64_t epoch) {
      auto& st = self->state;
      auto it = st.running.find({queue, id});
      if (it == st.running.end() || it->second.h.epoch != epoch)
        return;
      st.log->info("{}: job {} of {} (epoch {}) was taken back: its timeout passed",
                   st.cfg.node_name, id, queue, epoch);
      fence(self, it->second);
      st.running.erase(it);
    },
    [self](task_assign_atom, std::vector<task_assignment>& wanted) {
      self->state.tasks->assign(std::move(wanted), may_run_tasks(self), generation(self),
                                clock_type::now());
      check_tasks_later(self);
    },
    [self](task_check_atom) {
      auto& st = self->state;
      st.task_checking = false;
      bool may = may_run_tasks(self);
      if (!may && !st.tasks->empty())
        st.log->warn("{}: this worker's lease lapsed: its task instances stop",
                     st.cfg.node_name);
      st.tasks->tick(may, generation(self), clock_type::now());
      check_tasks_later(self);
    },
    [self](job_flush_atom) {
      self->state.reporting = false;
      flush(self);
    },
    [self](job_stop_atom, const caf::actor& h) { stop_handler(self, h); },
    [self](metrics_atom) -> metrics_result {
      auto& st = self->state;
      return {std::vector<std::string>{"troupe_jobs_started_total", "troupe_jobs_succeeded_total",
                                       "troupe_jobs_failed_total", "troupe_jobs_fenced_total",
                                       "troupe_jobs_refused_total", "troupe_jobs_running",
                                       "troupe_tasks_started_total", "troupe_tasks_fenced_total",
                                       "troupe_tasks_running"},
              std::vector<uint64_t>{st.started, st.succeeded, st.failed, st.fenced, st.refused,
                                    st.running.size(), st.tasks->started(), st.tasks->fenced(),
                                    st.tasks->running()}};
    },
  };
}

} // namespace

job_runner_actor spawn_job_runner(caf::actor_system& sys, job_runner_config cfg,
                                  std::shared_ptr<actor_stats> stats) {
  return spawn_counted_as<job_runner_class>(
    sys, [cfg](runner_ptr self) { return job_runner(self, cfg); }, std::move(stats));
}

} // namespace troupe
