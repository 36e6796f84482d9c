#include "protocols/cluster_state/migration_table.hpp"

namespace troupe::state {

const char* to_string(migration_state s) {
  switch (s) {
    case migration_state::pending:
      return "pending";
    case migration_state::running:
      return "running";
    case migration_state::done:
      return "done";
    case migration_state::failed:
      return "failed";
  }
  return "unknown";
}

const migration_record* migration_table::find(const std::string& id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &it->second;
}

migration_table::result migration_table::apply(const migration_cmd& c, uint64_t index,
                                               const std::string& main,
                                               uint64_t main_epoch) {
  using op = migration_cmd::op;
  if (c.kind == op::retry) {
    size_t n = 0;
    for (auto& [id, r] : by_id_)
      if (r.state == migration_state::failed && (c.id.empty() || c.id == id)) {
        r.state = migration_state::pending;
        ++n;
      }
    if (n == 0)
      return {false, c.id.empty() ? std::string{"no migration has failed"}
                                  : "migration " + c.id + " has not failed"};
    version_ = index;
    return {true, {}};
  }
  if (c.id.empty())
    return {false, "a migration needs an id"};
  // The fence: only the current main worker, under its current epoch.
  if (main_epoch == 0 || c.epoch != main_epoch || c.node != main)
    return {false, "fenced: " + c.node + " at epoch " + std::to_string(c.epoch)
                     + " is not the main worker (" + (main.empty() ? "none" : main)
                     + " at epoch " + std::to_string(main_epoch) + ")"};
  if (c.kind == op::start) {
    auto& r = by_id_[c.id];
    r.id = c.id;
    if (r.state == migration_state::done)
      return {false, "migration " + c.id + " is already done"};
    if (r.state == migration_state::failed)
      return {false, "migration " + c.id + " failed: retry it first"};
    if (r.state == migration_state::running && r.epoch == c.epoch && r.runner == c.data)
      return {false, "migration " + c.id + " is already running at epoch "
                       + std::to_string(c.epoch)};
    r.state = migration_state::running; // a running one of an older epoch: taken over
    r.epoch = c.epoch;
    r.node = c.node;
    r.runner = c.data;
    ++r.attempts;
    r.started_ms = c.wall_ms;
    r.finished_ms = 0;
    version_ = index;
    return {true, r.checkpoint}; // where the runner resumes
  }
  auto it = by_id_.find(c.id);
  if (it == by_id_.end() || it->second.state != migration_state::running
      || it->second.epoch != c.epoch)
    return {false, "migration " + c.id + " is not running at epoch " + std::to_string(c.epoch)};
  auto& r = it->second;
  switch (c.kind) {
    case op::checkpoint:
      r.checkpoint = c.data;
      break;
    case op::done:
      r.state = migration_state::done;
      r.error.clear();
      r.finished_ms = c.wall_ms;
      break;
    case op::fail:
      r.state = migration_state::failed;
      r.error = c.data;
      r.finished_ms = c.wall_ms;
      break;
    default:
      return {false, "unknown migration command"};
  }
  version_ = index;
  return {true, {}};
}

migration_plan plan_migrations(const std::vector<registered_migration>& list,
                               const migration_table& table, uint64_t epoch,
                               const std::string& runner) {
  using action = migration_plan::action;
  for (auto& m : list) {
    auto* r = table.find(m.id);
    if (r && r->state == migration_state::done)
      continue;
    if (r && r->state == migration_state::failed)
      return {action::blocked, m.id, r->error};
    if (epoch == 0)
      return {action::wait, m.id, {}};
    if (r && r->state == migration_state::running) {
      if (r->epoch == epoch && r->runner == runner)
        return {action::wait, m.id, {}}; // running here
      if (!m.idempotent)
        return {action::refuse, m.id,
                "interrupted on " + r->node + " (epoch " + std::to_string(r->epoch)
                  + ") and not idempotent: check what it did, then run `troupe ctl migrations "
                    "retry`"};
    }
    return {action::run, m.id, {}};
  }
  return {action::all_done, {}, {}};
}

std::string first_pending(const std::vector<registered_migration>& list,
                          const migration_table& table) {
  for (auto& m : list) {
    auto* r = table.find(m.id);
    if (!r || r->state != migration_state::done)
      return m.id;
  }
  return {};
}

} // namespace troupe::state
