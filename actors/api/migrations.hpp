// Run-once migrations (the Kibana RFC's saved-object migrations): register them, in order,
// with the node; at start the main worker runs the pending ones, exactly once per cluster,
// and the other workers start no deployment until all are done.
//
//   node.add_migration("001-seed-accounts", [](troupe::migration_context& ctx) {
//     for (int i = std::stoi(ctx.checkpoint().empty() ? "0" : ctx.checkpoint()); i < 10; ++i) {
//       if (!ctx.still_main())
//         return troupe::migration_result::interrupted();
//       ... one step, idempotent ...
//       if (!ctx.save(std::to_string(i + 1)))     // progress, through Raft
//         return troupe::migration_result::interrupted();
//     }
//     return troupe::migration_result::ok();
//   }, /*idempotent=*/true);
//
// A migration runs on a thread of its own and may block; when the node stops, still_main()
// turns false and the node waits for the migration to return, so check it between steps.
// If the main worker dies in the middle, the next one runs it again from its last
// checkpoint, but only if it is idempotent; an interrupted migration that is not is marked
// failed, for an operator to check and retry.
// A failed migration stops the sequence and turns the cluster status red until
// `troupe ctl migrations retry`.
#pragma once

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace troupe {

/// How a run of a migration ended: what its function returns.
struct migration_result {
  /// Done, failed (the operator retries it: `troupe ctl migrations retry`), or interrupted
  /// (the next main worker resumes it from its checkpoint).
  enum class kind { ok, failed, interrupted };
  kind what = kind::ok;  ///< How it ended.
  std::string error;     ///< Why it failed (shown by `troupe ctl migrations`).

  /// Done: it never runs again.
  static migration_result ok() { return {kind::ok, {}}; }
  /// Failed with `error`: deployments keep waiting until an operator retries it.
  static migration_result failed(std::string error) { return {kind::failed, std::move(error)}; }
  /// This worker lost its lease (still_main() or save() said so): the next main worker
  /// resumes.
  static migration_result interrupted() { return {kind::interrupted, {}}; }
};

/// What a run of a migration may know and do: its id, epoch and checkpoint, and saving
/// progress under its epoch.
class migration_context {
public:
  /// The migration's id, as registered with node::add_migration.
  const std::string& id() const { return id_; }
  /// The main worker epoch this run holds: the fencing token of everything it does.
  uint64_t epoch() const { return epoch_; }
  /// The worker it runs on.
  const std::string& node() const { return node_; }
  /// The last checkpoint saved by an earlier run ("" : none; start from the beginning).
  const std::string& checkpoint() const { return checkpoint_; }
  /// 1 on the first run, more when resumed or retried.
  uint32_t attempt() const { return attempt_; }
  /// The data folder of the worker it runs on.
  const std::string& data_dir() const { return data_dir_; }
  /// The worker's actor system (to spawn helpers or make requests).
  caf::actor_system& system() const { return *system_; }
  /// The node's published actor: KV requests (kv_get_atom, kv_put_atom, ...) go here.
  const caf::actor& cluster() const { return node_actor_; }

  /// Records progress through Raft, under this run's epoch. False when the cluster refused it
  /// (this worker is no longer the main worker) or could not commit it: stop and return
  /// interrupted().
  bool save(const std::string& checkpoint) {
    if (!save_(checkpoint))
      return false;
    checkpoint_ = checkpoint;
    return true;
  }

  /// True while this worker still holds the main worker lease of this run's epoch. Check it
  /// before each step that has an effect outside the cluster state.
  bool still_main() const { return still_main_(); }

private:
  friend struct migration_context_access;
  std::string id_;
  uint64_t epoch_ = 0;
  std::string node_;
  std::string checkpoint_;
  uint32_t attempt_ = 0;
  std::string data_dir_;
  caf::actor_system* system_ = nullptr;
  caf::actor node_actor_;
  std::function<bool(const std::string&)> save_;
  std::function<bool()> still_main_;
};

/// A migration's body: it runs on the main worker, before any deployment starts.
using migration_fn = std::function<migration_result(migration_context&)>;

/// A registered run-once migration.
struct migration {
  std::string id;           ///< Its name, unique in the binary.
  migration_fn run;         ///< What it does.
  bool idempotent = false;  ///< Safe to run again from the start after a crash mid-run.
};

/// The migrations a binary registers, in the order they run.
class migration_list {
public:
  /// False when the id is not a valid name (letters, digits, '-', '_', '.') or is taken.
  bool add(migration m);

  /// Every migration, in registration order.
  const std::vector<migration>& all() const { return list_; }
  /// The migration called `id`, or nullptr.
  const migration* find(const std::string& id) const;
  /// Whether none is registered.
  bool empty() const { return list_.empty(); }

private:
  std::vector<migration> list_;
};

} // namespace troupe
