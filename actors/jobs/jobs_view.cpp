#include "actors/jobs/jobs_view.hpp"

#include <nlohmann/json.hpp>

namespace troupe::jobs {

namespace {

using json = nlohmann::json;

json queue_json(const job_table& t, const queue_config& q, int64_t now_ms) {
  auto c = t.counts(q.name);
  return {{"name", q.name},
          {"handler", q.handler},
          {"slots_per_worker", q.slots_per_worker},
          {"timeout_ms", q.timeout_ms},
          {"max_attempts", q.max_attempts},
          {"backoff_ms", q.backoff_ms},
          {"keep_done", q.keep_done},
          {"pruned", c.pruned},
          {"pending", c.pending},
          {"running", c.running},
          {"done", c.done},
          {"dead", c.dead},
          {"oldest_pending_age_ms",
           c.oldest_pending_ms == 0 ? 0 : std::max<int64_t>(0, now_ms - c.oldest_pending_ms)}};
}

json job_json(const job& j) {
  json out{{"id", j.id},
           {"state", to_string(j.state)},
           {"attempts", j.attempts},
           {"epoch", j.epoch},
           {"payload", j.payload},
           {"submitted_ms", j.submitted_ms}};
  if (!j.worker.empty())
    out["worker"] = j.worker;
  if (j.attempts > 0)
    out["started_ms"] = j.started_ms;  // the last attempt's hand-out
  if (j.ended_ms > 0)
    out["ended_ms"] = j.ended_ms;
  if (!j.last_error.empty())
    out["last_error"] = j.last_error;
  return out;
}

} // namespace

std::optional<view_request> parse_view(const std::string& queue, const std::string& what) {
  view_request r;
  r.queue = queue;
  if (what.empty()) {
    r.kind = queue.empty() ? view_kind::queues : view_kind::queue;
    return r;
  }
  if (queue.empty()) {
    if (what != "tasks")
      return std::nullopt;
    r.kind = view_kind::tasks;
    return r;
  }
  if (what == "set") {
    r.kind = view_kind::set;
    r.limit = 100000;
    return r;
  }
  if (what.rfind("member:", 0) == 0 && what.size() > 7) {
    r.kind = view_kind::member;
    r.id = what.substr(7);
    return r;
  }
  if (what == "dead") {
    r.kind = view_kind::dead;
    return r;
  }
  if (what.rfind("state:", 0) == 0) {
    auto name = what.substr(6);
    r.limit = 100000;
    if (auto colon = name.find(':'); colon != std::string::npos) {
      try {
        r.limit = std::min<size_t>(std::stoul(name.substr(colon + 1)), 100000);
      } catch (const std::exception&) {
        return std::nullopt;
      }
      name.resize(colon);
    }
    for (auto st : {job_state::pending, job_state::running, job_state::done, job_state::dead})
      if (name == to_string(st)) {
        r.kind = view_kind::list;
        r.state = st;
        return r;
      }
    return std::nullopt;
  }
  if (what.rfind("job:", 0) == 0 && what.size() > 4) {
    r.kind = view_kind::job;
    r.id = what.substr(4);
    return r;
  }
  return std::nullopt;
}

namespace {

json tasks_json(const job_table& t) {
  auto tasks = json::array();
  for (auto& [name, task] : t.tasks().tasks()) {
    auto placed = json::array();
    for (size_t i = 0; i < task.instances.size(); ++i) {
      auto& inst = task.instances[i];
      placed.push_back({{"partition", i},
                        {"worker", inst.worker},
                        {"epoch", inst.epoch},
                        {"placed_ms", inst.placed_ms},
                        {"placements", inst.placements},
                        {"moving", inst.revoked_ms != 0},
                        {"worker_up", t.workers_up().count(inst.worker) > 0}});
    }
    tasks.push_back({{"name", name},
                     {"type", task.spec.type},
                     {"instances", task.spec.instances},
                     {"config", task.spec.config},
                     {"started_ms", task.started_ms},
                     {"placements", std::move(placed)}});
  }
  return json{{"tasks", std::move(tasks)}, {"workers_up", t.workers_up()}};
}

/// A set's members, or whether one is a member; an unknown set is an empty one.
json set_json(const job_table& t, const view_request& r) {
  auto it = t.sets().find(r.queue);
  if (r.kind == view_kind::member)
    return json{{"set", r.queue},
                {"member", r.id},
                {"contains", it != t.sets().end() && it->second.count(r.id) > 0}};
  auto members = json::array();
  size_t total = it == t.sets().end() ? 0 : it->second.size();
  if (it != t.sets().end())
    for (auto& m : it->second) {
      if (members.size() >= r.limit)
        break;
      members.push_back(m);
    }
  return json{{"set", r.queue}, {"members", std::move(members)}, {"total", total}};
}

} // namespace

std::optional<std::string> render_view(const job_table& t, const view_request& r,
                                       int64_t now_ms) {
  if (r.kind == view_kind::tasks)
    return tasks_json(t).dump();
  if (r.kind == view_kind::set || r.kind == view_kind::member)
    return set_json(t, r).dump();
  if (r.kind == view_kind::queues) {
    auto queues = json::array();
    for (auto& [name, q] : t.queues())
      queues.push_back(queue_json(t, q, now_ms));
    return json{{"queues", std::move(queues)}, {"workers_up", t.workers_up()}}.dump();
  }
  auto it = t.queues().find(r.queue);
  if (it == t.queues().end())
    return std::nullopt;
  auto& jobs = *t.jobs_of(r.queue);
  if (r.kind == view_kind::job) {
    auto j = jobs.find(r.id);
    if (j == jobs.end())
      return std::nullopt;
    return job_json(j->second).dump();
  }
  if (r.kind == view_kind::dead || r.kind == view_kind::list) {
    auto state = r.kind == view_kind::dead ? job_state::dead : r.state;
    auto listed = json::array();
    size_t total = 0;
    for (auto& [id, j] : jobs)
      if (j.state == state && total++ < r.limit)
        listed.push_back(job_json(j));
    return json{{"queue", r.queue},
                {r.kind == view_kind::dead ? "dead" : "jobs", std::move(listed)},
                {"state", to_string(state)},
                {"total", total}}
      .dump();
  }
  auto out = queue_json(t, it->second, now_ms);
  json by_worker = json::object();
  for (auto& w : t.workers_up())
    by_worker[w] = t.running_on(r.queue, w);
  size_t retrying = 0;
  for (auto& [order, id] : *t.waiting_of(r.queue))
    if (jobs.at(id).attempts > 0)
      ++retrying;
  out["running_by_worker"] = std::move(by_worker);
  out["retrying"] = retrying;
  return out.dump();
}

} // namespace troupe::jobs
