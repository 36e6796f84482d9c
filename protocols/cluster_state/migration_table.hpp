// Run-once migrations, as part of the replicated cluster state (the Kibana RFC's saved-object
// migrations): which migration ran, is running, failed or is done, cluster-wide. The ids and
// their order come from the binary that registers them; this table records what happened.
//
// Only the current main worker may start, checkpoint, finish or fail a migration, and only
// under its own epoch: the table checks the epoch against the main worker's when the command
// is applied, so a main worker that lost its lease cannot record anything, whatever it still
// believes. A new main worker takes over a migration left running by an older epoch and
// resumes it from its last checkpoint. A failed migration stays failed until a retry.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace troupe::state {

enum class migration_state : uint8_t { pending = 0, running = 1, done = 2, failed = 3 };

const char* to_string(migration_state s);

struct migration_record {
  std::string id;
  migration_state state = migration_state::pending;
  uint64_t epoch = 0;        // the main worker epoch that last started it
  std::string node;          // the worker that ran it last
  std::string runner;        // the process that ran it last (a worker restarted under the
                             // same main worker epoch is another runner)
  std::string checkpoint;    // saved by the migration as it goes: where a resume starts
  std::string error;         // the last failure
  uint32_t attempts = 0;     // starts, including resumes
  int64_t started_ms = 0;
  int64_t finished_ms = 0;
};

struct migration_cmd {
  enum class op : uint8_t { start = 0, checkpoint = 1, done = 2, fail = 3, retry = 4 };
  op kind = op::start;
  std::string id;          // retry: "" retries every failed migration
  uint64_t epoch = 0;      // the runner's main worker epoch (not for retry)
  std::string node;        // the runner
  std::string data;        // start: the runner; checkpoint: the checkpoint; fail: the error
  int64_t wall_ms = 0;
};

class migration_table {
public:
  struct result {
    bool ok = false;
    std::string reason;
  };

  /// Applies `c` at log index `index`; `main` and `main_epoch` are the main worker now. A
  /// start that applies answers with the checkpoint to resume from as its reason.
  result apply(const migration_cmd& c, uint64_t index, const std::string& main,
               uint64_t main_epoch);

  const std::map<std::string, migration_record>& all() const { return by_id_; }
  const migration_record* find(const std::string& id) const;

  /// The log index of the last change.
  uint64_t version() const { return version_; }

  void restore(std::map<std::string, migration_record> records, uint64_t version) {
    by_id_ = std::move(records);
    version_ = version;
  }

private:
  std::map<std::string, migration_record> by_id_;
  uint64_t version_ = 0;
};

/// A migration as the binary registers it.
struct registered_migration {
  std::string id;
  bool idempotent = false;
};

/// What the main worker does next about the registered migrations, in their order.
struct migration_plan {
  enum class action {
    wait,       // not the main worker, or the next one is already running in this process
    run,        // start `id` (or resume it: the record says where it got to)
    refuse,     // `id` was interrupted and is not idempotent: record it failed with `reason`
    blocked,    // `id` failed: nothing runs until `troupe ctl migrations retry`
    all_done,
  };
  action what = action::wait;
  std::string id;
  std::string reason;
};

/// `epoch` is this node's main worker epoch (0: not main); `runner` names this process.
migration_plan plan_migrations(const std::vector<registered_migration>& list,
                               const migration_table& table, uint64_t epoch,
                               const std::string& runner);

/// The first registered migration that is not done ("" : all are).
std::string first_pending(const std::vector<registered_migration>& list,
                          const migration_table& table);

} // namespace troupe::state
