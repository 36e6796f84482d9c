#include "actors/migrations/migrator.hpp"

#include "actors/api/counted_actor.hpp"

#include "actors/api/main_worker.hpp"
#include "actors/bus/bus_actor.hpp"
#include "actors/logging.hpp"
#include "actors/raft/raft_actor.hpp"
#include "actors/vnodes/vnodes.hpp"
#include "actors/wall_clock.hpp"
#include "actors/workload_pull.hpp"
#include "protocols/cluster_state/commands.hpp"
#include "protocols/cluster_state/state_machine.hpp"

#include <caf/actor_system.hpp>
#include <caf/blocking_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <atomic>
#include <optional>

namespace troupe {

/// Fills a context's private fields (the migration sees accessors only).
struct migration_context_access {
  static migration_context make(const std::string& id, uint64_t epoch, const std::string& node,
                                const std::string& checkpoint, uint32_t attempt,
                                const std::string& data_dir,
                                caf::actor_system& sys, caf::actor cluster,
                                std::function<bool(const std::string&)> save,
                                std::function<bool()> still_main) {
    migration_context c;
    c.id_ = id;
    c.epoch_ = epoch;
    c.node_ = node;
    c.checkpoint_ = checkpoint;
    c.attempt_ = attempt;
    c.data_dir_ = data_dir;
    c.system_ = &sys;
    c.node_actor_ = std::move(cluster);
    c.save_ = std::move(save);
    c.still_main_ = std::move(still_main);
    return c;
  }
};

namespace {

using mig_result_atom = caf::atom_constant<caf::atom("mig_res")>;
using mig_tick_atom = caf::atom_constant<caf::atom("mig_tick")>;
using op = state::migration_cmd::op;

/// A run's outcome, kept until Raft has recorded it.
struct outcome {
  std::string id;
  uint64_t epoch = 0;
  migration_result result;
};

struct migrator_state {
  migrator_config cfg;
  uint64_t version = 0;         // of the last cluster view taken
  std::string main;             // the main worker, as the view has it
  uint64_t main_epoch = 0;
  state::migration_table table;
  std::vector<state::registered_migration> list;
  std::string runner;           // names this run of this process in the table
  uint32_t runs = 0;            // runs interrupted in this process: each next one is new
  bool busy = false;            // a command in flight or a migration running
  std::optional<outcome> unrecorded;
  std::string last_said;        // the last plan logged, so each is logged once
  std::shared_ptr<std::atomic<bool>> stopping = std::make_shared<std::atomic<bool>>(false);
  std::shared_ptr<spdlog::logger> log = logging::get("migrations");

  static inline const char* name = "troupe.migrator";
};

// What the migrator says to itself besides its interface: a run's outcome, from the thread
// that ran it, and the tick that retries a step Raft could not take.
using migrator_impl = migrator_actor::extend<
  caf::reacts_to<mig_result_atom, std::string, uint64_t, uint32_t, std::string>,
  caf::reacts_to<mig_tick_atom>>;
using migrator_class = migrator_impl::stateful_base<migrator_state>;
using migrator_ptr = migrator_class*;

void step(migrator_ptr self);

/// Names a run: the node, this process and how many runs were interrupted before it.
std::string runner_name(const migrator_state& st, uint32_t run) {
  static const auto process = std::to_string(getpid()) + ":" + std::to_string(wall_clock_ms());
  return st.cfg.node_name + ":" + process + ":" + std::to_string(run);
}

/// The node's ingress (where Raft commands go), as the service directory has it now.
caf::actor node_of(migrator_ptr self) {
  auto& st = self->state;
  return st.cfg.services ? st.cfg.services->get(service::ingress) : caf::actor{};
}

/// Proposes a migration step; `then(ok, reason, attempt)` once applied (a start that applies
/// answers with its checkpoint as the reason), or (false, error, 0) on failure.
template <class Then>
void propose(migrator_ptr self, state::migration_cmd c, Then then) {
  auto& st = self->state;
  state::command cmd;
  c.wall_ms = wall_clock_ms();
  cmd.body = std::move(c);
  auto node = node_of(self);
  if (!node) {
    then(false, std::string{"this node's ingress is restarting"}, uint64_t{0});
    return;
  }
  self->request(node, st.cfg.timeout, state_cmd_atom::value, state::encode(cmd))
    .then([then](bool ok, uint64_t attempt, const std::string& reason) mutable {
            then(ok, reason, attempt);
          },
          [self, then](const caf::error& err) mutable {
            then(false, self->system().render(err), uint64_t{0});
          });
}

void say_once(migrator_ptr self, const std::string& what,
              spdlog::level::level_enum level = spdlog::level::info) {
  auto& st = self->state;
  if (st.last_said == what)
    return;
  st.last_said = what;
  st.log->log(level, "{}", what);
}

/// Runs migration `id` on a blocking actor (a thread of its own); its outcome comes back as
/// (mig_result_atom, id, epoch, kind, error).
void launch(migrator_ptr self, const std::string& id, uint64_t epoch,
            const std::string& checkpoint, uint32_t attempt) {
  auto& st = self->state;
  auto* m = st.cfg.migrations->find(id);
  auto stopping = st.stopping;
  auto node = node_of(self);
  auto timeout = st.cfg.timeout;
  auto name = st.cfg.node_name;
  auto data_dir = st.cfg.data_dir;
  auto fn = m->run;
  migrator_impl me = self;
  st.log->info("running migration {} (epoch {}, attempt {}{})", id, epoch, attempt,
               checkpoint.empty() ? "" : ", from checkpoint " + checkpoint);
  self->system().spawn([=](caf::blocking_actor* b) {
    auto save = [=](const std::string& cp) {
      if (stopping->load())
        return false;
      state::command cmd;
      cmd.body = state::migration_cmd{op::checkpoint, id, epoch, name, cp, wall_clock_ms()};
      bool ok = false;
      b->request(node, timeout, state_cmd_atom::value, state::encode(cmd))
        .receive([&](bool applied, uint64_t, const std::string&) { ok = applied; },
                 [&](const caf::error&) { ok = false; });
      return ok;
    };
    auto still_main = [=] { return !stopping->load() && main_worker_epoch() == epoch; };
    auto ctx = migration_context_access::make(id, epoch, name, checkpoint, attempt, data_dir,
                                              b->system(), node, save, still_main);
    migration_result res;
    try {
      res = fn(ctx);
    } catch (const std::exception& e) {
      res = migration_result::failed(std::string{"threw: "} + e.what());
    } catch (...) {
      res = migration_result::failed("threw an exception that is not a std::exception");
    }
    b->send(me, mig_result_atom::value, id, epoch, static_cast<uint32_t>(res.what), res.error);
  });
}

/// Records a finished run's outcome; kept for the next tick when Raft cannot take it now.
void record(migrator_ptr self) {
  auto& st = self->state;
  if (!st.unrecorded || !node_of(self))
    return;
  auto o = *st.unrecorded;
  if (o.result.what == migration_result::kind::interrupted) {
    st.unrecorded.reset();
    st.busy = false;
    // The record still says it runs here: the next run (if this worker is still main, say
    // after a save that failed for want of a quorum) must be another runner to take it over.
    st.runner = runner_name(st, ++st.runs);
    st.log->warn("migration {} interrupted: this worker is no longer the main worker of epoch "
                 "{}; the next one resumes it",
                 o.id, o.epoch);
    return step(self);
  }
  bool ok = o.result.what == migration_result::kind::ok;
  state::migration_cmd c{ok ? op::done : op::fail, o.id, o.epoch, st.cfg.node_name,
                         o.result.error, 0};
  propose(self, c, [self, o, ok](bool applied, const std::string& reason, uint64_t) {
    auto& st = self->state;
    if (!applied && reason.rfind("fenced", 0) != 0
        && reason.find("is not running") == std::string::npos) {
      st.log->warn("cannot record migration {} yet: {}", o.id, reason);
      return; // no quorum: the tick tries again
    }
    st.unrecorded.reset();
    st.busy = false;
    if (!applied) {
      st.log->warn("migration {} finished but was not recorded: {}", o.id, reason);
      return step(self);
    }
    if (ok) {
      st.log->info("migration {} done (epoch {})", o.id, o.epoch);
      if (auto bus = st.cfg.services ? st.cfg.services->get(service::bus) : caf::actor{}) {
        nlohmann::json j{{"id", o.id}, {"state", "done"}, {"node", st.cfg.node_name},
                         {"epoch", o.epoch}};
        self->request(bus, st.cfg.timeout, bus_publish_atom::value,
                      std::string{"troupe"}, std::string{"migrations"}, j.dump(), true, true)
          .then([](uint64_t) {},
                [self, id = o.id](const caf::error& err) {
                  self->state.log->warn("migration {} done, but its announcement failed: {}", id,
                                        self->system().render(err));
                });
      }
    } else {
      st.log->error("migration {} failed: {}; nothing runs until `troupe ctl migrations "
                    "retry`",
                    o.id, o.result.error);
    }
    step(self);
  });
}

void step(migrator_ptr self) {
  auto& st = self->state;
  if (!node_of(self) || st.busy || st.list.empty())
    return;
  // This node runs migrations only once its vnode host took the same view: then the lease
  // (main_worker_epoch) and the view agree.
  uint64_t epoch = st.main == st.cfg.node_name && main_worker_epoch() == st.main_epoch
                     ? st.main_epoch
                     : 0;
  auto plan = state::plan_migrations(st.list, st.table, epoch, st.runner);
  using action = state::migration_plan::action;
  switch (plan.what) {
    case action::all_done:
      say_once(self, "all " + std::to_string(st.list.size()) + " migrations are done");
      return;
    case action::wait:
      if (epoch == 0)
        say_once(self,
                 "waiting for the main worker (" + (st.main.empty() ? "none" : st.main)
                   + ") to run migration " + plan.id,
                 spdlog::level::debug);
      return;
    case action::blocked:
      say_once(self, "migration " + plan.id + " failed: " + plan.reason
                       + "; waiting for `troupe ctl migrations retry`",
               spdlog::level::warn);
      return;
    case action::run:
    case action::refuse:
      break;
  }
  st.busy = true;
  auto id = plan.id;
  auto refuse = plan.what == action::refuse;
  auto reason = plan.reason;
  propose(self, state::migration_cmd{op::start, id, epoch, st.cfg.node_name, st.runner, 0},
          [self, id, epoch, refuse, reason](bool ok, const std::string& why, uint64_t attempt) {
            auto& st = self->state;
            if (!ok) {
              st.busy = false;
              say_once(self, "cannot start migration " + id + ": " + why, spdlog::level::warn);
              return; // the next view or tick decides again
            }
            if (refuse) {
              st.unrecorded = outcome{id, epoch, migration_result::failed(reason)};
              return record(self);
            }
            launch(self, id, epoch, why, static_cast<uint32_t>(attempt));
          });
}

nlohmann::json listing(const migrator_state& st) {
  nlohmann::json rows = nlohmann::json::array();
  auto row = [](const state::migration_record* r, const std::string& id, bool registered,
                bool idempotent) {
    nlohmann::json j{{"id", id},
                     {"registered", registered},
                     {"idempotent", idempotent},
                     {"state", r ? state::to_string(r->state) : "pending"},
                     {"node", r ? r->node : ""},
                     {"epoch", r ? r->epoch : 0},
                     {"attempts", r ? r->attempts : 0},
                     {"checkpoint", r ? r->checkpoint : ""},
                     {"error", r ? r->error : ""},
                     {"started_ms", r ? r->started_ms : 0},
                     {"finished_ms", r ? r->finished_ms : 0}};
    return j;
  };
  for (auto& m : st.list)
    rows.push_back(row(st.table.find(m.id), m.id, true, m.idempotent));
  for (auto& [id, r] : st.table.all())
    if (!st.cfg.migrations || !st.cfg.migrations->find(id))
      rows.push_back(row(&r, id, false, false)); // registered by another binary
  return {{"node", st.cfg.node_name},
          {"main_worker", st.main},
          {"waiting_for", state::first_pending(st.list, st.table)},
          {"migrations", rows}};
}

migrator_impl::behavior_type migrator(migrator_ptr self, migrator_config cfg) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.log = logging::get("migrations");
  if (st.cfg.migrations)
    for (auto& m : st.cfg.migrations->all())
      st.list.push_back(state::registered_migration{m.id, m.idempotent});
  st.runner = runner_name(st, 0);
  self->set_exit_handler([self](caf::exit_msg& em) {
    self->state.stopping->store(true); // a running migration's still_main() turns false
    self->quit(em.reason);
  });
  if (!st.list.empty())
    self->send(self, mig_tick_atom::value);
  pull_workload(self, st.cfg.services); // a restarted migrator missed views
  return {
    [self](workload_atom, uint64_t version, const std::string& bytes) {
      auto& st = self->state;
      if (version < st.version)
        return; // an older view (from a coordinator that lags behind): the table only grows
      st.version = version;
      state::cluster_view view;
      if (!state::decode_view(bytes, view))
        return;
      st.main = view.main.name();
      st.main_epoch = view.main.epoch();
      st.table = std::move(view.migrations);
      step(self);
    },
    [self](mig_result_atom, const std::string& id, uint64_t epoch, uint32_t kind,
           const std::string& error) {
      auto& st = self->state;
      st.unrecorded = outcome{id, epoch,
                              migration_result{static_cast<migration_result::kind>(kind), error}};
      record(self);
    },
    [self](mig_tick_atom) {
      auto& st = self->state;
      if (st.unrecorded)
        record(self);
      else
        step(self);
      self->delayed_send(self, st.cfg.tick, mig_tick_atom::value);
    },
    [self](migrations_atom) { return listing(self->state).dump(); },
  };
}

} // namespace

migrator_actor spawn_migrator(caf::actor_system& sys, migrator_config cfg,
                              std::shared_ptr<actor_stats> stats) {
  return spawn_counted_as<migrator_class>(
    sys, [cfg](migrator_ptr self) { return migrator(self, cfg); }, std::move(stats));
}

} // namespace troupe
