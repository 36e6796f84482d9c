#include "protocols/cluster_state/jobs_codec.hpp"

#include "cluster_state.pb.h"

namespace troupe::state {

namespace pb = troupe::cluster_state::wire;

namespace {

void to_pb(const jobs::queue_config& q, pb::JobQueueConfig& x) {
  x.set_name(q.name);
  x.set_handler(q.handler);
  x.set_slots_per_worker(q.slots_per_worker);
  x.set_timeout_ms(q.timeout_ms);
  x.set_max_attempts(q.max_attempts);
  x.set_backoff_ms(q.backoff_ms);
  x.set_keep_done(q.keep_done);
}

jobs::queue_config from_pb(const pb::JobQueueConfig& x) {
  return jobs::queue_config{x.name(),       x.handler(),      x.slots_per_worker(),
                            x.timeout_ms(), x.max_attempts(), x.backoff_ms(),
                            x.keep_done() == 0 ? jobs::queue_config{}.keep_done : x.keep_done()};
}

void to_pb(const jobs::task_spec& t, pb::TaskSpec& x) {
  x.set_name(t.name);
  x.set_type(t.type);
  x.set_instances(t.instances);
  for (auto& [k, v] : t.config)
    (*x.mutable_config())[k] = v;
}

jobs::task_spec from_pb(const pb::TaskSpec& x) {
  return jobs::task_spec{x.name(), x.type(), x.instances(), {x.config().begin(), x.config().end()}};
}

struct op_encoder {
  pb::JobOp& x;

  void operator()(const jobs::create_queue_cmd& c) { to_pb(c.config, *x.mutable_create_queue()); }
  void operator()(const jobs::delete_queue_cmd& c) {
    x.set_queue(c.queue);
    x.set_delete_queue(true);
  }
  void operator()(const jobs::submit_cmd& c) {
    x.set_queue(c.queue);
    x.set_id(c.id);
    x.set_at_ms(c.at_ms);
    x.set_submit(c.payload);
  }
  void operator()(const jobs::assign_cmd& c) {
    x.set_queue(c.queue);
    x.set_id(c.id);
    x.set_at_ms(c.at_ms);
    x.set_assign(c.worker);
  }
  void operator()(const jobs::finish_cmd& c) {
    x.set_queue(c.queue);
    x.set_id(c.id);
    x.set_at_ms(c.at_ms);
    auto* f = x.mutable_finish();
    f->set_epoch(c.epoch);
    f->set_ok(c.ok);
    f->set_error(c.error);
  }
  void operator()(const jobs::expire_cmd& c) {
    x.set_queue(c.queue);
    x.set_id(c.id);
    x.set_at_ms(c.at_ms);
    x.set_expire(c.epoch);
  }
  void operator()(const jobs::worker_cmd&) {} // see jobs_to_pb
  void operator()(const jobs::retry_cmd& c) {
    x.set_queue(c.queue);
    x.set_id(c.id.value_or(""));
    x.set_at_ms(c.at_ms);
    x.set_retry(true);
  }
  void operator()(const jobs::start_task_cmd& c) {
    x.set_at_ms(c.at_ms);
    to_pb(c.spec, *x.mutable_start_task());
  }
  void operator()(const jobs::stop_task_cmd& c) {
    x.set_queue(c.name);
    x.set_at_ms(c.at_ms);
    x.set_stop_task(true);
  }
  void operator()(const jobs::place_task_cmd& c) {
    x.set_queue(c.name);
    x.set_at_ms(c.at_ms);
    auto* p = x.mutable_place_task();
    p->set_instance(c.instance);
    p->set_worker(c.worker);
  }
  void operator()(const jobs::prune_cmd& c) {
    x.set_queue(c.queue);
    x.set_at_ms(c.at_ms);
    x.set_prune(c.count);
  }
  void operator()(const jobs::set_cmd& c) {
    x.set_queue(c.set);
    x.set_at_ms(c.at_ms);
    auto* p = x.mutable_set_change();
    p->set_member(c.member);
    p->set_add(c.add);
  }
};

} // namespace

void jobs_to_pb(const jobs_cmd& c, pb::JobBatch& out) {
  for (auto& op : c.ops) {
    if (std::holds_alternative<jobs::worker_cmd>(op))
      continue;
    std::visit(op_encoder{*out.add_ops()}, op);
  }
}

bool jobs_from_pb(const pb::JobBatch& in, jobs_cmd& out) {
  out.ops.clear();
  out.ops.reserve(static_cast<size_t>(in.ops_size()));
  for (auto& x : in.ops()) {
    switch (x.op_case()) {
      case pb::JobOp::kCreateQueue:
        out.ops.emplace_back(jobs::create_queue_cmd{from_pb(x.create_queue())});
        break;
      case pb::JobOp::kDeleteQueue:
        out.ops.emplace_back(jobs::delete_queue_cmd{x.queue()});
        break;
      case pb::JobOp::kSubmit:
        out.ops.emplace_back(jobs::submit_cmd{x.queue(), x.id(), x.submit(), x.at_ms()});
        break;
      case pb::JobOp::kAssign:
        out.ops.emplace_back(jobs::assign_cmd{x.queue(), x.id(), x.assign(), x.at_ms()});
        break;
      case pb::JobOp::kFinish:
        out.ops.emplace_back(jobs::finish_cmd{x.queue(), x.id(), x.finish().epoch(),
                                              x.finish().ok(), x.finish().error(), x.at_ms()});
        break;
      case pb::JobOp::kExpire:
        out.ops.emplace_back(jobs::expire_cmd{x.queue(), x.id(), x.expire(), x.at_ms()});
        break;
      case pb::JobOp::kRetry:
        out.ops.emplace_back(jobs::retry_cmd{
          x.queue(), x.id().empty() ? std::nullopt : std::optional<std::string>{x.id()},
          x.at_ms()});
        break;
      case pb::JobOp::kStartTask:
        out.ops.emplace_back(jobs::start_task_cmd{from_pb(x.start_task()), x.at_ms()});
        break;
      case pb::JobOp::kStopTask:
        out.ops.emplace_back(jobs::stop_task_cmd{x.queue(), x.at_ms()});
        break;
      case pb::JobOp::kPlaceTask:
        out.ops.emplace_back(jobs::place_task_cmd{x.queue(), x.place_task().instance(),
                                                  x.place_task().worker(), x.at_ms()});
        break;
      case pb::JobOp::kPrune:
        out.ops.emplace_back(jobs::prune_cmd{x.queue(), x.prune(), x.at_ms()});
        break;
      case pb::JobOp::kSetChange:
        out.ops.emplace_back(jobs::set_cmd{x.queue(), x.set_change().member(),
                                           x.set_change().add(), x.at_ms()});
        break;
      default:
        return false;
    }
  }
  return true;
}

void put_jobs(const jobs::job_table& t, pb::StateSnapshot& s) {
  for (auto& img : t.images()) {
    auto* q = s.add_job_queues();
    to_pb(img.config, *q->mutable_config());
    q->set_next_submitted(img.next_submitted);
    q->set_pruned(img.pruned);
    for (auto& j : img.jobs) {
      auto* x = q->add_jobs();
      x->set_id(j.id);
      x->set_payload(j.payload);
      x->set_submitted(j.submitted);
      x->set_state(static_cast<uint32_t>(j.state));
      x->set_attempts(j.attempts);
      x->set_epoch(j.epoch);
      x->set_worker(j.worker);
      x->set_submitted_ms(j.submitted_ms);
      x->set_started_ms(j.started_ms);
      x->set_ended_ms(j.ended_ms);
      x->set_not_before_ms(j.not_before_ms);
      x->set_last_error(j.last_error);
    }
  }
  for (auto& w : t.workers_up())
    s.add_job_workers_up(w);
  s.set_job_next_epoch(t.next_epoch());
  for (auto& [name, task] : t.tasks().tasks()) {
    auto* x = s.add_tasks();
    to_pb(task.spec, *x->mutable_spec());
    x->set_started_ms(task.started_ms);
    for (auto& inst : task.instances) {
      auto* i = x->add_instances();
      i->set_worker(inst.worker);
      i->set_epoch(inst.epoch);
      i->set_placed_ms(inst.placed_ms);
      i->set_placements(inst.placements);
      i->set_revoked_ms(inst.revoked_ms);
    }
  }
  for (auto& [name, members] : t.sets()) {
    auto* x = s.add_sets();
    x->set_name(name);
    for (auto& m : members)
      x->add_members(m);
  }
}

bool get_jobs(const pb::StateSnapshot& s, jobs::job_table& t) {
  std::vector<jobs::job_table::queue_image> queues;
  for (auto& q : s.job_queues()) {
    jobs::job_table::queue_image img{from_pb(q.config()), q.next_submitted(), {}, q.pruned()};
    for (auto& x : q.jobs()) {
      if (x.state() > static_cast<uint32_t>(jobs::job_state::dead))
        return false;
      jobs::job j;
      j.id = x.id();
      j.payload = x.payload();
      j.submitted = x.submitted();
      j.state = static_cast<jobs::job_state>(x.state());
      j.attempts = x.attempts();
      j.epoch = x.epoch();
      j.worker = x.worker();
      j.submitted_ms = x.submitted_ms();
      j.started_ms = x.started_ms();
      j.ended_ms = x.ended_ms();
      j.not_before_ms = x.not_before_ms();
      j.last_error = x.last_error();
      img.jobs.push_back(std::move(j));
    }
    queues.push_back(std::move(img));
  }
  // A snapshot from before shared work has no table: an empty one (epochs from 1).
  std::vector<jobs::task_state> tasks;
  for (auto& x : s.tasks()) {
    jobs::task_state task{from_pb(x.spec()), x.started_ms(), {}};
    for (auto& i : x.instances())
      task.instances.push_back(
        {i.worker(), i.epoch(), i.placed_ms(), i.placements(), i.revoked_ms()});
    tasks.push_back(std::move(task));
  }
  std::map<std::string, std::set<std::string>> sets;
  for (auto& x : s.sets())
    sets[x.name()].insert(x.members().begin(), x.members().end());
  auto next = s.job_next_epoch() == 0 ? 1 : s.job_next_epoch();
  return t.restore(std::move(queues), {s.job_workers_up().begin(), s.job_workers_up().end()},
                   next, std::move(tasks), std::move(sets));
}

} // namespace troupe::state
