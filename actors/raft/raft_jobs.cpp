// The leader's part in the shared work (protocols/jobs): it plans hand-outs and expiries,
// proposes them through its own log, and once they are committed and applied tells the
// workers' job runners. A hand-out that is lost on its way (a worker restarting, a leader
// failing between apply and send) is taken back at the queue's timeout like any other.
#include "actors/raft/raft_actor_state.hpp"

#include "actors/jobs/job_messages.hpp"
#include "actors/wall_clock.hpp"
#include "protocols/ownership/lease.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/make_message.hpp>

namespace troupe::raft_detail {

namespace {

bool leading(raft_ptr self) {
  return self->state.node->current_role() == r::role::leader;
}

void to_worker(raft_ptr self, const std::string& worker, caf::message msg) {
  auto& services = self->state.cfg.services;
  if (!services)
    return;
  if (auto router = services->get(service::router))
    caf::anon_send(router, job_forward_atom::value, worker, std::move(msg));
}

/// Workers that went down but may still run their task instances: this leader has not seen
/// their lease run out (as with vnodes: a worker cut off does not know it yet).
std::set<std::string> held_workers(raft_ptr self, time_point now) {
  namespace ms = troupe::membership;
  auto& st = self->state;
  std::set<std::string> out;
  for (auto& [name, rec] : st.sm.members().records()) {
    if (!rec.info.roles.worker || rec.info.state != ms::member_state::down)
      continue;
    auto it = st.down_seen.find(name);
    if (it == st.down_seen.end()
        || now - it->second.since < ownership::reassign_after(st.cfg.vnode_lease))
      out.insert(name);
  }
  return out;
}

} // namespace

void push_tasks(raft_ptr self, bool now_too) {
  auto& st = self->state;
  if (!leading(self))
    return;
  auto& tasks = st.sm.jobs().tasks().tasks();
  auto now = self->clock().now();
  // Every second while tasks exist (the workers' lists are also their word that nothing else
  // runs), and a few times after the last one stopped, so that every worker hears.
  if (!tasks.empty())
    st.tasks_empty_pushes = 3;
  else if (st.tasks_empty_pushes == 0)
    return;
  if (!now_too && now - st.tasks_pushed_at < std::chrono::seconds(1))
    return;
  st.tasks_pushed_at = now;
  if (tasks.empty())
    st.tasks_empty_pushes -= 1;
  std::map<std::string, std::vector<task_assignment>> lists;
  for (auto& w : st.sm.jobs().workers_up())
    lists[w];
  for (auto& [name, t] : tasks)
    for (uint32_t i = 0; i < t.instances.size(); ++i) {
      auto& inst = t.instances[i];
      if (inst.revoked_ms != 0)
        continue; // being moved: its worker stops it
      if (auto it = lists.find(inst.worker); it != lists.end())
        it->second.push_back(task_assignment{name, t.spec.type, i, t.spec.instances,
                                             inst.epoch, t.spec.config});
    }
  for (auto& [worker, list] : lists)
    to_worker(self, worker, caf::make_message(task_assign_atom::value, std::move(list)));
}

std::vector<std::string> jobs_expiring(raft_ptr self, const state::jobs_cmd& c) {
  std::vector<std::string> out(c.ops.size());
  if (!leading(self))
    return out;
  auto& t = self->state.sm.jobs();
  for (size_t i = 0; i < c.ops.size(); ++i)
    if (auto* x = std::get_if<jobs::expire_cmd>(&c.ops[i]))
      if (auto* j = t.find(x->queue, x->id); j && j->epoch == x->epoch)
        out[i] = j->worker;
  return out;
}

void jobs_applied(raft_ptr self, const state::jobs_cmd& c,
                  const std::vector<jobs::apply_result>& results,
                  const std::vector<std::string>& expiring) {
  auto& st = self->state;
  st.jobs_dirty = true;
  if (!leading(self))
    return;
  auto& t = st.sm.jobs();
  bool tasks_changed = false;
  for (size_t i = 0; i < c.ops.size() && i < results.size(); ++i)
    if (results[i].result == jobs::outcome::ok
        && (std::holds_alternative<jobs::start_task_cmd>(c.ops[i])
            || std::holds_alternative<jobs::stop_task_cmd>(c.ops[i])
            || std::holds_alternative<jobs::place_task_cmd>(c.ops[i])))
      tasks_changed = true;
  if (tasks_changed)
    push_tasks(self, true);
  std::map<std::string, std::vector<job_handout>> handouts;
  for (size_t i = 0; i < c.ops.size() && i < results.size(); ++i) {
    if (results[i].result != jobs::outcome::ok)
      continue;
    if (auto* a = std::get_if<jobs::assign_cmd>(&c.ops[i])) {
      auto* j = t.find(a->queue, a->id);
      auto q = t.queues().find(a->queue);
      if (!j || q == t.queues().end())
        continue;
      handouts[a->worker].push_back(job_handout{a->queue, a->id, j->epoch, j->payload,
                                                q->second.handler, q->second.timeout_ms,
                                                j->attempts});
    } else if (auto* x = std::get_if<jobs::expire_cmd>(&c.ops[i]);
               x && i < expiring.size() && !expiring[i].empty()) {
      to_worker(self, expiring[i],
                caf::make_message(job_cancel_atom::value, x->queue, x->id, x->epoch));
    }
  }
  for (auto& [worker, batch] : handouts)
    to_worker(self, worker, caf::make_message(job_run_atom::value, std::move(batch)));
}

void plan_jobs(raft_ptr self, bool tick) {
  auto& st = self->state;
  if (!leading(self) || (!st.jobs_dirty && !tick))
    return;
  auto& t = st.sm.jobs();
  if (tick)
    push_tasks(self, false);
  if (!t.busy() && t.tasks().tasks().empty()) {
    st.jobs_dirty = false;
    return;
  }
  // One plan in flight: the next is made against the table that applied it (a hand-out
  // planned twice would be refused, but would cost a commit). A plan lost with a leadership
  // change is made again after a second.
  auto now = self->clock().now();
  if (st.jobs_plan_index > st.applied && now - st.jobs_plan_at < std::chrono::seconds(1))
    return;
  st.jobs_dirty = false;
  auto wall = wall_clock_ms();
  auto ops = jobs::plan(t, wall);
  // A move waits as long as a lost worker's partitions do: the old worker has stopped the
  // instance by then, or has been seen lost and is held until its lease ran out.
  auto drain = std::chrono::duration_cast<std::chrono::milliseconds>(
                 ownership::reassign_after(st.cfg.vnode_lease))
                 .count();
  for (auto& p : jobs::plan_tasks(t.tasks(), t.workers_up(), held_workers(self, now), wall, drain))
    ops.emplace_back(std::move(p));
  if (ops.empty())
    return;
  auto res = replica(self).propose(state::encode(state::command{0, 0, state::jobs_cmd{std::move(ops)}}));
  if (res.error != r::errc::none)
    return;
  st.jobs_plan_index = res.index;
  st.jobs_plan_at = now;
  schedule_flush(self);
}

} // namespace troupe::raft_detail
