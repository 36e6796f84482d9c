#include "protocols/jobs/job_table.hpp"

#include <algorithm>

namespace troupe::jobs {

std::string check_config(const queue_config& q) {
  if (!valid_name(q.name))
    return "a queue name is 1-64 letters, digits, '-', '_' or '.'";
  if (!valid_name(q.handler))
    return "a handler is an actor type name (1-64 letters, digits, '-', '_' or '.')";
  if (q.slots_per_worker < 1 || q.slots_per_worker > 1024)
    return "slots per worker must be 1-1024";
  if (q.timeout_ms < 1)
    return "the timeout must be positive";
  if (q.max_attempts < 1 || q.max_attempts > 1000)
    return "max attempts must be 1-1000";
  if (q.backoff_ms < 0)
    return "the backoff cannot be negative";
  if (q.keep_done < 1 || q.keep_done > 10000000)
    return "keep-done must be 1-10000000";
  return {};
}

const char* to_string(job_state s) {
  switch (s) {
    case job_state::pending: return "pending";
    case job_state::running: return "running";
    case job_state::done: return "done";
    case job_state::dead: return "dead";
  }
  return "?";
}

const char* to_string(outcome o) {
  switch (o) {
    case outcome::ok: return "ok";
    case outcome::duplicate: return "duplicate";
    case outcome::no_queue: return "no such queue";
    case outcome::exists: return "the queue exists with another configuration";
    case outcome::invalid: return "invalid";
    case outcome::not_pending: return "the job is not waiting to run";
    case outcome::no_slot: return "the worker has no free slot";
    case outcome::stale_attempt: return "not the job's running attempt";
    case outcome::no_job: return "no such job";
    case outcome::no_task: return "no such task";
    case outcome::absent: return "not a member";
  }
  return "?";
}

namespace {

bool same_config(const queue_config& a, const queue_config& b) {
  return a.name == b.name && a.handler == b.handler && a.slots_per_worker == b.slots_per_worker
         && a.timeout_ms == b.timeout_ms && a.max_attempts == b.max_attempts
         && a.backoff_ms == b.backoff_ms && a.keep_done == b.keep_done;
}

/// The wait before attempt number `attempts + 1`: backoff, doubled for each attempt after
/// the first failed one (bounded: no overflow, at most a day).
int64_t backoff_after(const queue_config& q, uint32_t attempts) {
  constexpr int64_t day_ms = 24 * 3600 * 1000;
  if (q.backoff_ms == 0 || attempts == 0)
    return 0;
  int64_t wait = q.backoff_ms;
  for (uint32_t i = 1; i < attempts && wait < day_ms; ++i)
    wait *= 2;
  return std::min(wait, day_ms);
}

} // namespace

apply_result job_table::apply(const command& c) {
  return std::visit(
    [this](const auto& cmd) -> apply_result {
      using T = std::decay_t<decltype(cmd)>;
      if constexpr (std::is_same_v<T, create_queue_cmd>) {
        if (!check_config(cmd.config).empty())
          return {outcome::invalid};
        auto it = queues_.find(cmd.config.name);
        if (it != queues_.end())
          return {same_config(it->second, cmd.config) ? outcome::duplicate : outcome::exists};
        queues_.emplace(cmd.config.name, cmd.config);
        state_[cmd.config.name];
        return {};
      } else if constexpr (std::is_same_v<T, delete_queue_cmd>) {
        if (queues_.erase(cmd.queue) == 0)
          return {outcome::no_queue};
        state_.erase(cmd.queue);
        return {};
      } else if constexpr (std::is_same_v<T, submit_cmd>) {
        return submit(cmd);
      } else if constexpr (std::is_same_v<T, assign_cmd>) {
        return assign(cmd);
      } else if constexpr (std::is_same_v<T, finish_cmd>) {
        return finish(cmd);
      } else if constexpr (std::is_same_v<T, expire_cmd>) {
        return expire(cmd);
      } else if constexpr (std::is_same_v<T, worker_cmd>) {
        worker(cmd);
        return {};
      } else if constexpr (std::is_same_v<T, retry_cmd>) {
        return retry(cmd);
      } else if constexpr (std::is_same_v<T, set_cmd>) {
        return set(cmd);
      } else if constexpr (std::is_same_v<T, prune_cmd>) {
        return prune(cmd);
      } else {
        return task(cmd);
      }
    },
    c);
}

job* job_table::lookup(const std::string& queue, const std::string& id, queue_state*& qs,
                       const queue_config*& q) {
  auto qi = queues_.find(queue);
  if (qi == queues_.end())
    return nullptr;
  q = &qi->second;
  qs = &state_[queue];
  auto it = qs->jobs.find(id);
  return it == qs->jobs.end() ? nullptr : &it->second;
}

apply_result job_table::submit(const submit_cmd& c) {
  auto qi = queues_.find(c.queue);
  if (qi == queues_.end())
    return {outcome::no_queue};
  if (c.id.empty())
    return {outcome::invalid};
  auto& qs = state_[c.queue];
  auto [it, fresh] = qs.jobs.try_emplace(c.id);
  if (!fresh)
    return {outcome::duplicate, it->second.epoch, it->second.state};
  auto& j = it->second;
  j.id = c.id;
  j.payload = c.payload;
  j.submitted = qs.next_submitted++;
  j.submitted_ms = c.at_ms;
  j.not_before_ms = c.at_ms;
  index(qs, j);
  return {outcome::ok, 0, j.state};
}

apply_result job_table::assign(const assign_cmd& c) {
  queue_state* qs = nullptr;
  const queue_config* q = nullptr;
  auto* j = lookup(c.queue, c.id, qs, q);
  if (!q)
    return {outcome::no_queue};
  if (!j)
    return {outcome::no_job};
  if (j->state != job_state::pending || j->not_before_ms > c.at_ms)
    return {outcome::not_pending, j->epoch, j->state};
  if (up_.count(c.worker) == 0 || running_on(c.queue, c.worker) >= q->slots_per_worker)
    return {outcome::no_slot, j->epoch, j->state};
  move_to(*qs, *j, job_state::running);
  j->attempts += 1;
  j->epoch = next_epoch_++;
  j->worker = c.worker;
  j->started_ms = c.at_ms;
  qs->running[c.worker] += 1;
  return {outcome::ok, j->epoch, j->state};
}

apply_result job_table::end_attempt(const std::string& queue, const std::string& id,
                                    uint64_t epoch, const attempt_end& end) {
  queue_state* qs = nullptr;
  const queue_config* q = nullptr;
  auto* j = lookup(queue, id, qs, q);
  if (!q)
    return {outcome::no_queue};
  if (!j)
    return {outcome::no_job};
  if (j->state != job_state::running || j->epoch != epoch)
    return {outcome::stale_attempt, j->epoch, j->state}; // fenced: not its live attempt
  end(*q, *qs, *j);
  return {outcome::ok, j->epoch, j->state};
}

apply_result job_table::finish(const finish_cmd& c) {
  return end_attempt(c.queue, c.id, c.epoch,
                     [&](const queue_config& q, queue_state& qs, job& j) {
                       if (!c.ok) {
                         attempt_failed(q, qs, j, c.at_ms,
                                        c.error.empty() ? "the handler failed" : c.error);
                         return;
                       }
                       stop_running(qs, j);
                       j.ended_ms = c.at_ms;
                       move_to(qs, j, job_state::done);
                       j.last_error.clear();
                     });
}

apply_result job_table::expire(const expire_cmd& c) {
  return end_attempt(c.queue, c.id, c.epoch,
                     [&](const queue_config& q, queue_state& qs, job& j) {
                       attempt_failed(q, qs, j, c.at_ms,
                                      "timed out after " + std::to_string(q.timeout_ms)
                                        + " ms on " + j.worker);
                     });
}

void job_table::worker(const worker_cmd& c) {
  if (c.up) {
    up_.insert(c.worker);
    return;
  }
  up_.erase(c.worker);
  for (auto& [name, qs] : state_) {
    if (qs.running.count(c.worker) == 0)
      continue;
    auto& q = queues_.at(name);
    std::vector<job*> lost;
    for (auto& id : qs.live)
      if (auto& j = qs.jobs.at(id); j.worker == c.worker)
        lost.push_back(&j);
    for (auto* j : lost)
      attempt_failed(q, qs, *j, c.at_ms, "worker " + c.worker + " was lost");
  }
}

apply_result job_table::retry(const retry_cmd& c) {
  auto qi = queues_.find(c.queue);
  if (qi == queues_.end())
    return {outcome::no_queue};
  auto& qs = state_[c.queue];
  auto again = [&](job& j) {
    move_to(qs, j, job_state::pending);
    j.attempts = 0;
    j.not_before_ms = c.at_ms;
  };
  if (!c.id) {
    for (auto& [id, j] : qs.jobs)
      if (j.state == job_state::dead)
        again(j);
    return {};
  }
  auto it = qs.jobs.find(*c.id);
  if (it == qs.jobs.end())
    return {outcome::no_job};
  if (it->second.state != job_state::dead)
    return {outcome::not_pending, it->second.epoch, it->second.state};
  again(it->second);
  return {outcome::ok, it->second.epoch, it->second.state};
}

void job_table::index(queue_state& qs, const job& j) {
  qs.in_state[static_cast<size_t>(j.state)] += 1;
  if (j.state == job_state::pending)
    qs.waiting.emplace(j.submitted, j.id);
  else if (j.state == job_state::running)
    qs.live.insert(j.id);
  else if (j.state == job_state::done)
    qs.done_order.emplace(j.ended_ms, j.id);
}

void job_table::move_to(queue_state& qs, job& j, job_state s) {
  qs.in_state[static_cast<size_t>(j.state)] -= 1;
  if (j.state == job_state::pending)
    qs.waiting.erase({j.submitted, j.id});
  else if (j.state == job_state::running)
    qs.live.erase(j.id);
  else if (j.state == job_state::done)
    qs.done_order.erase({j.ended_ms, j.id});
  j.state = s;
  index(qs, j);
}

void job_table::stop_running(queue_state& qs, job& j) {
  auto it = qs.running.find(j.worker);
  if (it != qs.running.end() && --it->second == 0)
    qs.running.erase(it);
  j.worker.clear();
}

void job_table::attempt_failed(const queue_config& q, queue_state& qs, job& j, int64_t at_ms,
                               std::string why) {
  stop_running(qs, j);
  j.ended_ms = at_ms;
  j.last_error = std::move(why);
  if (j.attempts >= q.max_attempts) {
    move_to(qs, j, job_state::dead);
    return;
  }
  j.not_before_ms = at_ms + backoff_after(q, j.attempts);
  move_to(qs, j, job_state::pending);
}

const job* job_table::find(const std::string& queue, const std::string& id) const {
  auto qs = state_.find(queue);
  if (qs == state_.end())
    return nullptr;
  auto it = qs->second.jobs.find(id);
  return it == qs->second.jobs.end() ? nullptr : &it->second;
}

const std::map<std::string, job>* job_table::jobs_of(const std::string& queue) const {
  auto qs = state_.find(queue);
  return qs == state_.end() ? nullptr : &qs->second.jobs;
}

uint32_t job_table::running_on(const std::string& queue, const std::string& worker) const {
  auto qs = state_.find(queue);
  if (qs == state_.end())
    return 0;
  auto it = qs->second.running.find(worker);
  return it == qs->second.running.end() ? 0 : it->second;
}

queue_counts job_table::counts(const std::string& queue) const {
  queue_counts out;
  auto it = state_.find(queue);
  if (it == state_.end())
    return out;
  auto& qs = it->second;
  out.pending = qs.in_state[static_cast<size_t>(job_state::pending)];
  out.running = qs.in_state[static_cast<size_t>(job_state::running)];
  out.done = qs.in_state[static_cast<size_t>(job_state::done)] + qs.pruned;
  out.pruned = qs.pruned;
  out.dead = qs.in_state[static_cast<size_t>(job_state::dead)];
  // Submission order and time go together (the leader's clock, carried in the commands);
  // a retried dead letter keeps its place.
  if (!qs.waiting.empty())
    out.oldest_pending_ms = qs.jobs.at(qs.waiting.begin()->second).submitted_ms;
  return out;
}

const std::set<std::string>* job_table::running_of(const std::string& queue) const {
  auto it = state_.find(queue);
  return it == state_.end() ? nullptr : &it->second.live;
}

const std::set<std::pair<uint64_t, std::string>>*
job_table::waiting_of(const std::string& queue) const {
  auto it = state_.find(queue);
  return it == state_.end() ? nullptr : &it->second.waiting;
}

bool job_table::busy() const {
  for (auto& [name, qs] : state_)
    if (!qs.waiting.empty() || !qs.live.empty())
      return true;
  return false;
}

std::string check_set(const std::string& set, const std::string& member) {
  if (!valid_name(set))
    return "a set name is 1-64 letters, digits, '-', '_' or '.'";
  if (member.empty() || member.size() > 4096)
    return "a set member is 1-4096 bytes";
  return {};
}

apply_result job_table::set(const set_cmd& c) {
  if (!check_set(c.set, c.member).empty())
    return {outcome::invalid};
  if (c.add)
    return {sets_[c.set].insert(c.member).second ? outcome::ok : outcome::duplicate};
  auto it = sets_.find(c.set);
  if (it == sets_.end() || it->second.erase(c.member) == 0)
    return {outcome::absent};
  if (it->second.empty())
    sets_.erase(it);
  return {};
}

apply_result job_table::prune(const prune_cmd& c) {
  auto it = state_.find(c.queue);
  if (queues_.count(c.queue) == 0 || it == state_.end())
    return {outcome::no_queue};
  auto& qs = it->second;
  for (uint64_t n = 0; n < c.count && !qs.done_order.empty(); ++n) {
    auto first = qs.done_order.begin();
    qs.jobs.erase(first->second);
    qs.done_order.erase(first);
    qs.in_state[static_cast<size_t>(job_state::done)] -= 1;
    qs.pruned += 1;
  }
  return {};
}

apply_result job_table::task(const start_task_cmd& c) {
  static constexpr outcome by_code[] = {outcome::ok, outcome::duplicate, outcome::exists,
                                        outcome::invalid};
  return {by_code[tasks_.start(c)]};
}

apply_result job_table::task(const stop_task_cmd& c) {
  return {tasks_.stop(c) ? outcome::ok : outcome::no_task};
}

apply_result job_table::task(const place_task_cmd& c) {
  static constexpr outcome by_code[] = {outcome::ok, outcome::duplicate, outcome::no_task,
                                        outcome::no_slot};
  uint64_t epoch = 0;
  auto code = tasks_.place(c, up_, next_epoch_, epoch);
  return {by_code[code], epoch};
}

std::vector<job_table::queue_image> job_table::images() const {
  std::vector<queue_image> out;
  for (auto& [name, q] : queues_) {
    queue_image img{q, 1, {}};
    if (auto it = state_.find(name); it != state_.end()) {
      img.next_submitted = it->second.next_submitted;
      img.pruned = it->second.pruned;
      for (auto& [id, j] : it->second.jobs)
        img.jobs.push_back(j);
    }
    out.push_back(std::move(img));
  }
  return out;
}

bool job_table::restore(std::vector<queue_image> queues, std::set<std::string> up,
                        uint64_t next_epoch, std::vector<task_state> tasks,
                        std::map<std::string, std::set<std::string>> sets) {
  std::map<std::string, queue_config> configs;
  std::map<std::string, queue_state> states;
  uint64_t highest = 0;
  for (auto& img : queues) {
    if (!check_config(img.config).empty() || configs.count(img.config.name) > 0)
      return false;
    auto& qs = states[img.config.name];
    qs.next_submitted = img.next_submitted;
    qs.pruned = img.pruned;
    for (auto& j : img.jobs) {
      if (j.id.empty() || (j.state == job_state::running && j.worker.empty()))
        return false;
      highest = std::max(highest, j.epoch);
      if (j.state == job_state::running)
        qs.running[j.worker] += 1;
      auto id = j.id;
      auto [it, fresh] = qs.jobs.emplace(std::move(id), std::move(j));
      if (!fresh)
        return false;
      index(qs, it->second);
    }
    configs.emplace(img.config.name, std::move(img.config));
  }
  for (auto& [name, members] : sets)
    for (auto& m : members)
      if (!check_set(name, m).empty())
        return false;
  task_table restored;
  if (!restored.restore(std::move(tasks)))
    return false;
  highest = std::max(highest, restored.highest_epoch());
  if (next_epoch <= highest)
    return false; // an epoch would be handed out twice
  tasks_ = std::move(restored);
  sets_ = std::move(sets);
  queues_ = std::move(configs);
  state_ = std::move(states);
  up_ = std::move(up);
  next_epoch_ = next_epoch;
  return true;
}

std::vector<command> plan(const job_table& t, int64_t now_ms, size_t max) {
  std::vector<command> out;
  for (auto& [name, q] : t.queues()) {
    auto* jobs = t.jobs_of(name);
    if (!jobs)
      continue;
    // Done jobs beyond what the queue keeps: the oldest are forgotten.
    auto c = t.counts(name);
    if (auto kept = c.done - c.pruned; kept > q.keep_done && out.size() < max)
      out.emplace_back(prune_cmd{name, kept - q.keep_done, now_ms});
    // Attempts past their timeout go back first: their slots are then free again.
    for (auto& id : *t.running_of(name)) {
      if (out.size() >= max)
        return out;
      auto& j = jobs->at(id);
      if (now_ms - j.started_ms >= q.timeout_ms)
        out.emplace_back(expire_cmd{name, id, j.epoch, now_ms});
    }
    // Free slots per up worker; hand-outs go round the workers so that the work spreads.
    std::vector<std::pair<std::string, uint32_t>> free;
    for (auto& w : t.workers_up()) {
      auto used = t.running_on(name, w);
      if (used < q.slots_per_worker)
        free.emplace_back(w, q.slots_per_worker - used);
    }
    size_t next = 0;
    // Oldest first, past their backoff.
    for (auto& [order, id] : *t.waiting_of(name)) {
      if (free.empty() || out.size() >= max)
        break;
      if (jobs->at(id).not_before_ms > now_ms)
        continue;
      next %= free.size();
      out.emplace_back(assign_cmd{name, id, free[next].first, now_ms});
      if (--free[next].second == 0)
        free.erase(free.begin() + static_cast<std::ptrdiff_t>(next));
      else
        ++next;
    }
  }
  return out;
}

} // namespace troupe::jobs
