// The leader's part in the shared work (protocols/jobs): it plans hand-outs and expiries,
// proposes them through its own log, and once they are committed and applied tells the
// workers' job runners. A hand-out that is lost on its way (a worker restarting, a leader
// failing between apply and send) is taken back at the queue's timeout like any other.
#include "actors/raft/raft_actor_state.hpp"

#include "actors/jobs/job_messages.hpp"
#include "actors/wall_clock.hpp"

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

} // namespace

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
  if (!t.busy()) {
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
  auto ops = jobs::plan(t, wall_clock_ms());
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
