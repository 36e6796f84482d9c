#include "actors/jobs/task_host.hpp"

namespace troupe {

task_host::task_host(spawn_fn spawn, fence_fn fence, std::chrono::milliseconds restart_delay)
  : spawn_(std::move(spawn)), fence_(std::move(fence)), restart_delay_(restart_delay) {
}

void task_host::start(hosted& h, uint64_t generation, clock_type::time_point now) {
  ++started_;
  h.generation = generation;
  h.actor = spawn_(h.a);
  // A type missing here is tried again later (a worker of another binary may get it).
  h.restart_at = h.actor ? clock_type::time_point{} : now + restart_delay_;
}

void task_host::assign(std::vector<task_assignment> wanted, bool may_run, uint64_t generation,
                       clock_type::time_point now) {
  std::map<key, task_assignment> want;
  for (auto& a : wanted) {
    key k{a.task, a.instance};
    want[k] = std::move(a);
  }
  // What no longer runs here, or runs under an older placement: fenced first, so that a
  // partition moved away and back never has two instances here.
  for (auto it = hosted_.begin(); it != hosted_.end();) {
    auto w = want.find(it->first);
    if (w != want.end() && w->second.epoch == it->second.a.epoch && may_run
        && it->second.generation == generation) {
      ++it;
      continue;
    }
    if (it->second.actor) {
      ++fenced_;
      fence_(it->second.actor, it->second.a);
    }
    it = hosted_.erase(it);
  }
  if (!may_run)
    return;
  for (auto& [k, a] : want) {
    if (hosted_.count(k) > 0)
      continue;
    auto& h = hosted_[k];
    h.a = std::move(a);
    start(h, generation, now);
  }
}

bool task_host::on_down(const caf::actor_addr& who, clock_type::time_point now) {
  for (auto& [k, h] : hosted_)
    if (h.actor && h.actor.address() == who) {
      h.actor = nullptr;
      h.restart_at = now + restart_delay_;
      return true;
    }
  return false;
}

void task_host::tick(bool may_run, uint64_t generation, clock_type::time_point now) {
  if (!may_run) {
    assign({}, false, generation, now);
    return;
  }
  for (auto it = hosted_.begin(); it != hosted_.end();) {
    auto& h = it->second;
    if (h.generation != generation) { // the leader's next list says whether it stays here
      if (h.actor) {
        ++fenced_;
        fence_(h.actor, h.a);
      }
      it = hosted_.erase(it);
      continue;
    }
    if (!h.actor && h.restart_at <= now)
      start(h, generation, now);
    ++it;
  }
}

size_t task_host::running() const {
  size_t n = 0;
  for (auto& [k, h] : hosted_)
    n += h.actor ? 1 : 0;
  return n;
}

} // namespace troupe
