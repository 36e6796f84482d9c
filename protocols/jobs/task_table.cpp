#include "protocols/jobs/task_table.hpp"

#include <algorithm>

namespace troupe::jobs {

bool valid_name(const std::string& s) {
  if (s.empty() || s.size() > 64)
    return false;
  return std::all_of(s.begin(), s.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')
           || ch == '-' || ch == '_' || ch == '.';
  });
}

namespace {

bool same_spec(const task_spec& a, const task_spec& b) {
  return a.name == b.name && a.type == b.type && a.instances == b.instances
         && a.config == b.config;
}

} // namespace

std::string check_task(const task_spec& t) {
  if (!valid_name(t.name))
    return "a task name is 1-64 letters, digits, '-', '_' or '.'";
  if (!valid_name(t.type))
    return "a task's type is an actor type name (1-64 letters, digits, '-', '_' or '.')";
  if (t.instances < 1 || t.instances > 1024)
    return "a task has 1-1024 instances";
  return {};
}

const task_state* task_table::find(const std::string& name) const {
  auto it = tasks_.find(name);
  return it == tasks_.end() ? nullptr : &it->second;
}

int task_table::start(const start_task_cmd& c) {
  if (!check_task(c.spec).empty())
    return 3;
  if (auto it = tasks_.find(c.spec.name); it != tasks_.end())
    return same_spec(it->second.spec, c.spec) ? 1 : 2;
  auto& t = tasks_[c.spec.name];
  t.spec = c.spec;
  t.started_ms = c.at_ms;
  t.instances.resize(c.spec.instances);
  return 0;
}

bool task_table::stop(const stop_task_cmd& c) {
  return tasks_.erase(c.name) > 0;
}

int task_table::place(const place_task_cmd& c, const std::set<std::string>& up,
                      uint64_t& next_epoch, uint64_t& epoch) {
  auto it = tasks_.find(c.name);
  if (it == tasks_.end() || c.instance >= it->second.instances.size())
    return 2;
  auto& inst = it->second.instances[c.instance];
  epoch = inst.epoch;
  if (c.worker.empty()) { // revoke
    if (inst.worker.empty() || inst.revoked_ms != 0)
      return 1;
    inst.revoked_ms = c.at_ms;
    return 0;
  }
  if (inst.worker == c.worker && inst.revoked_ms == 0)
    return 1;
  if (up.count(c.worker) == 0)
    return 3;
  inst.worker = c.worker;
  inst.epoch = epoch = next_epoch++;
  inst.placed_ms = c.at_ms;
  inst.placements += 1;
  inst.revoked_ms = 0;
  return 0;
}

uint64_t task_table::highest_epoch() const {
  uint64_t out = 0;
  for (auto& [name, t] : tasks_)
    for (auto& inst : t.instances)
      out = std::max(out, inst.epoch);
  return out;
}

bool task_table::restore(std::vector<task_state> tasks) {
  std::map<std::string, task_state> out;
  for (auto& t : tasks) {
    if (!check_task(t.spec).empty() || t.instances.size() != t.spec.instances)
      return false;
    auto name = t.spec.name;
    if (!out.emplace(std::move(name), std::move(t)).second)
      return false;
  }
  tasks_ = std::move(out);
  return true;
}

std::vector<place_task_cmd> plan_tasks(const task_table& t, const std::set<std::string>& up,
                                       const std::set<std::string>& held, int64_t now_ms,
                                       int64_t drain_ms) {
  std::vector<place_task_cmd> out;
  if (up.empty())
    return out;
  for (auto& [name, task] : t.tasks()) {
    auto n = task.instances.size();
    auto base = n / up.size();
    auto extra = n % up.size();
    // Shares: the workers that hold the most keep the larger ones, so that fewer move.
    std::map<std::string, size_t> has;
    for (auto& inst : task.instances)
      if (up.count(inst.worker) > 0 && inst.revoked_ms == 0)
        has[inst.worker] += 1;
    std::vector<std::string> order(up.begin(), up.end());
    std::stable_sort(order.begin(), order.end(), [&](const std::string& a, const std::string& b) {
      return has[a] > has[b];
    });
    std::map<std::string, size_t> share, kept;
    for (size_t i = 0; i < order.size(); ++i)
      share[order[i]] = base + (i < extra ? 1 : 0);
    std::vector<uint32_t> homeless;
    for (uint32_t i = 0; i < n; ++i) {
      auto& inst = task.instances[i];
      auto& w = inst.worker;
      if (inst.revoked_ms != 0) {
        if (held.count(w) > 0 || now_ms - inst.revoked_ms < drain_ms)
          continue; // its old worker may not have stopped it yet
        homeless.push_back(i);
      } else if (up.count(w) > 0 && kept[w] < share[w]) {
        kept[w] += 1;
      } else if (up.count(w) > 0) {
        out.push_back(place_task_cmd{name, i, "", now_ms}); // over its share: revoked first
      } else if (held.count(w) > 0) {
        continue; // may still run there: waits for the lease to run out
      } else {
        homeless.push_back(i);
      }
    }
    for (auto i : homeless) {
      for (auto& w : up) {  // by name: the first worker with room
        if (kept[w] < share[w]) {
          kept[w] += 1;
          out.push_back(place_task_cmd{name, i, w, now_ms});
          break;
        }
      }
    }
  }
  return out;
}

} // namespace troupe::jobs
