#include "actors/supervision/supervisor.hpp"

#include "actors/api/counted_actor.hpp"
#include "actors/api/actor_stats.hpp"
#include "actors/logging.hpp"
#include "actors/wall_clock.hpp"
#include "actors/wire.hpp"

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <spdlog/spdlog.h>

#include <map>

namespace troupe {

namespace sv = supervision;

namespace {

using start_failed_atom = caf::atom_constant<caf::atom("sv_nostart")>;
using stop_timeout_atom = caf::atom_constant<caf::atom("sv_stopto")>;

struct child_slot {
  child_def def;
  caf::actor handle;
  uint64_t reg_seq = 0;  // its row in the node's actor registry
};

struct supervisor_state {
  supervisor_def def;
  tree_context tree;
  std::optional<sv::supervisor_core> core;
  std::vector<child_slot> kids;
  std::map<caf::actor_addr, size_t> by_addr;
  bool stopping = false;
  caf::error exit_reason;  // while stopping: what to exit with once the children are gone
  std::shared_ptr<spdlog::logger> log = logging::get("supervisor");

  static inline const char* name = "troupe.supervisor";
};

// Besides its interface, a supervisor tells itself that a child could not start (decided on
// the next message, see start_child) and that its children did not stop in time.
using supervisor_impl = supervisor_actor::extend<
  caf::reacts_to<start_failed_atom, uint64_t, caf::error>, caf::reacts_to<stop_timeout_atom>>;
using supervisor_class = supervisor_impl::stateful_base<supervisor_state>;
using supervisor_ptr = supervisor_class*;

std::string render_reason(supervisor_ptr self, const caf::error& reason) {
  if (!reason)
    return "exited normally";
  if (auto text = fatal_text(reason); !text.empty())
    return text;
  if (reason == caf::exit_reason::kill)
    return "killed";
  // An error that carries one text (the console's kill reason, an actor's own error): that.
  auto& ctx = reason.context();
  if (ctx.size() == 1 && ctx.match_element<std::string>(0))
    return ctx.get_as<std::string>(0);
  return self->system().render(reason);
}

sv::child_exit kind_of(const caf::error& reason) {
  if (!reason || reason == caf::exit_reason::normal)
    return sv::child_exit::normal;
  return is_fatal(reason) ? sv::child_exit::fatal : sv::child_exit::crashed;
}

/// Lists child `k` in the registry, or records its new incarnation there.
void list_child(supervisor_ptr self, child_slot& kid, caf::actor a,
                std::shared_ptr<actor_stats> stats) {
  auto& reg = *self->state.tree.registry;
  if (kid.reg_seq == 0)
    if (auto old = reg.find(kid.def.name))
      kid.reg_seq = old->seq; // listed by an earlier incarnation of this supervisor
  if (kid.reg_seq != 0) {
    reg.restarted(kid.reg_seq, std::move(a), std::move(stats), wall_clock_ms());
    return;
  }
  actor_row row;
  row.name = kid.def.name;
  row.type = kid.def.kind == "supervisor" ? "supervisor" : kid.def.name;
  row.kind = kid.def.kind;
  row.supervisor = self->state.def.name;
  row.strategy = kid.def.strategy;
  row.state = "running";
  row.started_ms = wall_clock_ms();
  row.handle = std::move(a);
  kid.reg_seq = reg.add(std::move(row), std::move(stats));
}

void start_child(supervisor_ptr self, size_t k) {
  auto& st = self->state;
  auto& kid = st.kids[k];
  auto stats = std::make_shared<actor_stats>();
  caf::expected<caf::actor> a{caf::actor{}};
  try {
    a = kid.def.start(self->system(), stats);
  } catch (const std::exception& e) {
    st.log->error("{}: starting {} threw: {}", st.def.name, kid.def.name, e.what());
    a = caf::actor{};
  }
  if (!a || !*a) {
    // Decided on the next message, so that a child that never starts cannot recurse: the
    // intensity ends it (or, for a fatal error, the escalation).
    auto err = a ? caf::error{} : a.error();
    self->send(self, start_failed_atom::value, static_cast<uint64_t>(k), std::move(err));
    return;
  }
  auto& hdl = *a;
  self->monitor(hdl);
  st.by_addr[hdl.address()] = k;
  kid.handle = hdl;
  if (kid.def.fills)
    st.tree.services->put(*kid.def.fills, hdl);
  list_child(self, kid, hdl, std::move(stats));
}

void quit_when_empty(supervisor_ptr self) {
  if (self->state.by_addr.empty())
    self->quit(self->state.exit_reason);
}

/// Stops every child in reverse start order, then exits with `reason` once they are gone
/// (or after stop_timeout).
void stop_all(supervisor_ptr self, caf::error reason) {
  auto& st = self->state;
  if (st.stopping)
    return;
  st.stopping = true;
  st.exit_reason = std::move(reason);
  for (size_t k = st.kids.size(); k-- > 0;)
    if (st.kids[k].handle)
      self->send_exit(st.kids[k].handle, caf::exit_reason::user_shutdown);
  if (!st.by_addr.empty())
    self->delayed_send(self, st.def.stop_timeout, stop_timeout_atom::value);
  quit_when_empty(self);
}

/// Gives up: the parent sees this supervisor exit with `text` (fatal codes kept).
void escalate(supervisor_ptr self, const std::string& text, const caf::error& cause) {
  auto& st = self->state;
  st.log->error("{} gives up: {}", st.def.name, text);
  auto code = is_fatal(cause) ? static_cast<exit_errc>(cause.code()) : exit_errc::gave_up;
  auto reason = caf::make_error(code, st.def.name + ": " + text);
  if (st.def.on_give_up)
    st.def.on_give_up(reason);
  stop_all(self, std::move(reason));
}

void apply(supervisor_ptr self, const sv::effects& fx, const caf::error& cause) {
  auto& st = self->state;
  if (fx.escalate)
    return escalate(self, *fx.escalate, cause);
  for (auto k : fx.stop) {
    st.log->info("{}: stopping {} to start it again with its siblings ({})", st.def.name,
                 st.kids[k].def.name, sv::to_string(st.def.how));
    if (st.kids[k].handle)
      self->send_exit(st.kids[k].handle, caf::exit_reason::user_shutdown);
  }
  for (auto k : fx.start)
    start_child(self, k);
}

void on_child_exit(supervisor_ptr self, size_t k, const caf::error& reason) {
  auto& st = self->state;
  auto& kid = st.kids[k];
  auto why = render_reason(self, reason);
  if (kid.def.fills)
    st.tree.services->erase(*kid.def.fills, kid.handle.address());
  kid.handle = nullptr;
  if (kid.def.on_exit)
    kid.def.on_exit();
  if (st.stopping) {
    st.tree.registry->exited(kid.reg_seq, why, "stopped");
    return quit_when_empty(self);
  }
  auto expected = st.core->state(k) == sv::child_state::stopping;
  auto fx = st.core->on_exit(k, kind_of(reason), self->clock().now(), why);
  if (!expected && !fx.escalate)
    st.log->warn("{}: {} exited ({}){}", st.def.name, kid.def.name, why,
                 st.core->state(k) == sv::child_state::stopped ? ": not restarted"
                                                               : ": starting it again");
  st.tree.registry->exited(kid.reg_seq, why, sv::to_string(st.core->state(k)));
  apply(self, fx, reason);
}

supervisor_impl::behavior_type supervisor(supervisor_ptr self, supervisor_def def,
                                          tree_context tree) {
  auto& st = self->state;
  std::vector<sv::child_spec> specs;
  for (auto& c : def.children) {
    specs.push_back({c.name, c.restart});
    st.kids.push_back(child_slot{c, nullptr, 0});
  }
  st.core.emplace(def.how, def.limit, std::move(specs));
  st.def = std::move(def);
  st.def.children.clear(); // kept in kids
  st.tree = std::move(tree);
  // Children are monitored, not linked: in CAF a link passes `exit_reason::kill` on
  // unconditionally, so one killed child would take its supervisor down. Nothing in Troupe
  // kills a supervisor with that reason (the console sends one it can trap), so a supervisor
  // always gets to stop its children before it goes.
  self->set_exit_handler([self](caf::exit_msg& em) {
    // From the parent (a restart of this subtree, the node stopping) or the console: stop the
    // children in reverse order, then go.
    stop_all(self, std::move(em.reason));
  });
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    auto it = st.by_addr.find(dm.source);
    if (it == st.by_addr.end())
      return;
    auto k = it->second;
    st.by_addr.erase(it);
    on_child_exit(self, k, dm.reason);
  });
  for (size_t k = 0; k < st.kids.size() && !st.stopping; ++k)
    start_child(self, k);
  return {
    [self](start_failed_atom, uint64_t k, caf::error& err) {
      auto& st = self->state;
      if (st.stopping || k >= st.kids.size())
        return;
      auto why = "could not start" + (err ? ": " + render_reason(self, err) : std::string{});
      auto kind = is_fatal(err) ? sv::child_exit::fatal : sv::child_exit::crashed;
      auto fx = st.core->on_exit(k, kind, self->clock().now(), why);
      st.log->error("{}: {} {}", st.def.name, st.kids[k].def.name, why);
      if (st.kids[k].reg_seq != 0)
        st.tree.registry->exited(st.kids[k].reg_seq, why, sv::to_string(st.core->state(k)));
      apply(self, fx, err);
    },
    [self](stop_timeout_atom) {
      auto& st = self->state;
      std::string left;
      for (auto& [addr, k] : st.by_addr) {
        left += (left.empty() ? "" : ", ") + st.kids[k].def.name;
        if (st.kids[k].handle)
          self->send_exit(st.kids[k].handle, caf::exit_reason::kill);
      }
      st.log->warn("{}: {} did not stop within {} ms: killed", st.def.name, left,
                   std::chrono::duration_cast<milliseconds>(st.def.stop_timeout).count());
      self->quit(st.exit_reason);
    },
    [self](metrics_atom) -> metrics_result {
      auto& st = self->state;
      std::vector<std::string> names;
      std::vector<uint64_t> values;
      for (size_t k = 0; k < st.kids.size(); ++k) {
        names.push_back("troupe_supervisor_restarts_total;supervisor;" + st.def.name + ";child;"
                        + st.kids[k].def.name);
        values.push_back(st.core->restarts(k));
      }
      return {std::move(names), std::move(values)};
    },
  };
}

} // namespace

std::string describe(const supervisor_def& def) {
  auto secs = std::chrono::duration_cast<milliseconds>(def.limit.period).count();
  auto period = secs % 1000 == 0 ? std::to_string(secs / 1000) + "s" : std::to_string(secs) + "ms";
  return std::string{sv::to_string(def.how)} + ", " + std::to_string(def.limit.max_restarts)
         + " in " + period;
}

child_def supervisor_child(supervisor_def def, tree_context tree) {
  child_def c;
  c.name = def.name;
  c.kind = "supervisor";
  c.strategy = describe(def);
  c.start = [def, tree](caf::actor_system& sys, const std::shared_ptr<actor_stats>& stats) {
    return caf::expected<caf::actor>{
      caf::actor_cast<caf::actor>(spawn_supervisor(sys, def, tree, stats))};
  };
  return c;
}

supervisor_actor spawn_supervisor(caf::actor_system& sys, supervisor_def def, tree_context tree,
                                  std::shared_ptr<actor_stats> stats) {
  return spawn_counted_as<supervisor_class>(
    sys,
    [def = std::move(def), tree = std::move(tree)](supervisor_ptr self) mutable {
      return supervisor(self, std::move(def), std::move(tree));
    },
    std::move(stats));
}

} // namespace troupe
