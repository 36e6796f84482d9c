#include "actors/inspect/user_supervisor.hpp"

#include "actors/errors.hpp"
#include "actors/inspect/console_errc.hpp"

#include "actors/api/counted_actor.hpp"
#include "actors/inspect/inspector.hpp"
#include "actors/logging.hpp"
#include "actors/names.hpp"
#include "actors/wall_clock.hpp"

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <map>
#include <set>
#include <random>
#include <unordered_map>

namespace troupe {

namespace {

using restart_child_atom = caf::atom_constant<caf::atom("us_restart")>;

} // namespace

/// An actor spawned from the console: what it takes to start it again. (Not file-local:
/// user_children, declared in the header, holds it.)
struct user_child {
  std::string type;
  std::shared_ptr<const context> ctx;  // shared by the actors of one spawn
  supervision::restart_policy policy;
  caf::actor_clock::time_point started;
  std::string kill_reason;  // set by `kill`: the reason its exit shows
  bool for_good = false;    // `kill --stop`: not restarted
  bool running = false;     // has a live incarnation (else waits for its restart)
};

struct user_children {
  std::map<uint64_t, user_child> by_seq;  // registry id -> spec
};

std::shared_ptr<user_children> make_user_children() {
  return std::make_shared<user_children>();
}

namespace {

struct user_supervisor_state {
  user_supervisor_config cfg;
  std::map<uint64_t, user_child>* children = nullptr;  // in cfg.children
  std::unordered_map<caf::actor_addr, uint64_t> by_addr;
  std::mt19937 rng{std::random_device{}()};
  std::shared_ptr<spdlog::logger> log = logging::get("inspect");

  static inline const char* name = "troupe.user_supervisor";
};

// Besides its interface, the user supervisor tells itself to restart a child after its backoff.
using user_sup_impl = user_supervisor_actor::extend<caf::reacts_to<restart_child_atom, uint64_t>>;
using user_sup_class = user_sup_impl::stateful_base<user_supervisor_state>;
using user_sup_ptr = user_sup_class*;

/// Watches a child: its down message restarts it (not linked: a child killed with
/// `exit_reason::kill` would take the supervisor down through a link).
void watch(user_sup_ptr self, const caf::actor& a) {
  self->monitor(a);
}

/// Starts (or starts again) child `seq`; an invalid handle when its type cannot be spawned.
caf::actor start_child(user_sup_ptr self, uint64_t seq, user_child& c,
                       std::shared_ptr<actor_stats> stats) {
  auto a = self->state.cfg.types->spawn(c.type, self->system(), c.ctx, std::move(stats));
  if (!a)
    return a;
  watch(self, a);
  self->state.by_addr[a.address()] = seq;
  c.started = self->clock().now();
  c.running = true;
  return a;
}

void restart_child(user_sup_ptr self, uint64_t seq) {
  auto& st = self->state;
  auto c = st.children->find(seq);
  if (c == st.children->end() || c->second.running)
    return;
  auto stats = std::make_shared<actor_stats>();
  auto a = start_child(self, seq, c->second, stats);
  if (!a) {
    st.cfg.registry->exited(seq, "cannot spawn again", "failed");
    return;
  }
  st.cfg.registry->restarted(seq, a, stats, wall_clock_ms());
}

std::string known_types(const user_supervisor_state& st) {
  std::string known;
  if (st.cfg.types)
    for (auto& n : st.cfg.types->names())
      known += (known.empty() ? "" : ", ") + n;
  return known.empty() ? "none" : known;
}

caf::result<std::string> do_spawn(user_sup_ptr self, const std::string& type,
                                  const std::string& name, std::vector<std::string>& args,
                                  uint32_t count) {
  auto& st = self->state;
  if (!st.cfg.types || !st.cfg.types->has(type))
    return refuse(console_errc::unknown_type, "no actor type '" + type + "' on node " + st.cfg.node_name + " (it has: "
                  + known_types(st) + ")");
  if (count == 0 || count > st.cfg.max_spawn)
    return refuse(console_errc::invalid, "--count must be 1-" + std::to_string(st.cfg.max_spawn));
  if (!name.empty() && !valid_name(name))
    return refuse(console_errc::invalid, "'" + name + "' is not an actor name (1-64 letters, digits, '-', '_', '.')");
  auto ids = nlohmann::json::array();
  auto names = nlohmann::json::array();
  auto ctx = std::make_shared<context>();
  ctx->data_dir = st.cfg.data_dir;
  ctx->services = st.cfg.services;
  ctx->args = std::move(args);
  std::shared_ptr<const context> shared_ctx = std::move(ctx);
  for (uint32_t k = 1; k <= count; ++k) {
    auto n = name.empty() || count == 1 ? name : name + "-" + std::to_string(k);
    user_child c{type, shared_ctx, supervision::restart_policy{st.cfg.restart}, {}, {}, false,
                 false};
    actor_row row;
    row.name = n;
    row.type = type;
    row.kind = "user";
    row.supervisor = user_supervisor_name;
    row.state = "running";
    row.started_ms = wall_clock_ms();
    if (!n.empty() && st.cfg.registry->find(n))
      return refuse(console_errc::invalid, "an actor named '" + n + "' already runs on node " + st.cfg.node_name
                    + (ids.empty() ? "" : " (" + std::to_string(ids.size()) + " spawned before it)"));
    auto stats = std::make_shared<actor_stats>();
    c.started = self->clock().now();
    auto a = st.cfg.types->spawn(type, self->system(), c.ctx, stats);
    if (!a)
      return refuse(console_errc::failed, "cannot spawn '" + type + "'");
    row.handle = a;
    auto seq = st.cfg.registry->add(row, stats);
    if (seq == 0) {
      self->send_exit(a, caf::exit_reason::user_shutdown);
      return refuse(console_errc::invalid, "an actor named '" + n + "' already runs on node " + st.cfg.node_name);
    }
    c.running = true;
    watch(self, a);
    st.by_addr[a.address()] = seq;
    st.children->emplace(seq, std::move(c));
    if (ids.size() < 1000) {
      ids.push_back(st.cfg.registry->id_of(seq));
      names.push_back(n);
    }
  }
  if (count == 1)
    st.log->info("spawned {} ({}) as {}", name.empty() ? "an actor" : name, type,
                 ids.front().get<std::string>());
  else
    st.log->info("spawned {} actors of type {}", count, type);
  return nlohmann::json{{"node", st.cfg.node_name}, {"count", count}, {"ids", ids},
                        {"names", names}}
    .dump();
}

void on_child_down(user_sup_ptr self, const caf::down_msg& dm) {
  auto& st = self->state;
  auto it = st.by_addr.find(dm.source);
  if (it == st.by_addr.end())
    return;
  auto seq = it->second;
  st.by_addr.erase(it);
  auto c = st.children->find(seq);
  if (c == st.children->end())
    return;
  c->second.running = false;
  auto why = !c->second.kill_reason.empty() ? "killed: " + c->second.kill_reason
             : dm.reason ? self->system().render(dm.reason)
                         : std::string{"exited normally"};
  c->second.kill_reason.clear();
  auto row = st.cfg.registry->find(std::to_string(seq));
  auto name = row ? (row->name.empty() ? st.cfg.registry->id_of(seq) : row->name) : "?";
  if (c->second.for_good) {
    st.log->info("{} stopped for good ({})", name, why);
    st.cfg.registry->remove(seq);
    st.children->erase(c);
    return;
  }
  std::uniform_real_distribution<double> jitter{0.0, 1.0};
  auto d = c->second.policy.on_exit(supervision::exit_kind::crashed, c->second.started,
                                    self->clock().now(), jitter(st.rng));
  if (d.action != supervision::restart_decision::restart) {
    st.log->error("{} ({}) exited ({}) too often: not restarting it", name, c->second.type, why);
    st.cfg.registry->exited(seq, why, "failed");
    return;
  }
  st.log->warn("{} ({}) exited ({}): restarting it in {} ms", name, c->second.type, why,
               std::chrono::duration_cast<milliseconds>(d.delay).count());
  st.cfg.registry->exited(seq, why, "restarting");
  self->delayed_send(self, d.delay, restart_child_atom::value, seq);
}

user_sup_impl::behavior_type user_supervisor(user_sup_ptr self, user_supervisor_config cfg) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  if (!st.cfg.children)
    st.cfg.children = make_user_children();
  st.children = &st.cfg.children->by_seq;
  // A user supervisor that was restarted starts its predecessor's children again.
  for (auto& [seq, c] : *st.children) {
    c.running = false;
    if (!c.for_good)
      restart_child(self, seq);
  }
  self->set_down_handler([self](caf::down_msg& dm) { on_child_down(self, dm); });
  // The children are not linked to it (one crashing must not take the others down), so it
  // stops them itself when it is told to exit: no spawned actor outlives its supervisor.
  self->set_exit_handler([self](caf::exit_msg& em) {
    auto& st = self->state;
    for (auto& [addr, seq] : st.by_addr) {
      if (auto row = st.cfg.registry->find(std::to_string(seq)); row && row->handle)
        self->send_exit(row->handle, em.reason);
      st.cfg.registry->exited(seq, "its supervisor stopped", "restarting");
    }
    for (auto& [addr, seq] : st.by_addr)
      if (auto c = st.children->find(seq); c != st.children->end())
        c->second.running = false;
    self->quit(em.reason);
  });
  return {
    [self](restart_child_atom, uint64_t seq) { restart_child(self, seq); },
    [self](spawn_atom, const std::string& type, const std::string& name,
           std::vector<std::string>& args, uint32_t count) {
      return do_spawn(self, type, name, args, count);
    },
    [self](kill_atom, const std::string& who, const std::string& reason,
           bool for_good) -> caf::result<std::string> {
      auto& st = self->state;
      auto& reg = *st.cfg.registry;
      auto row = reg.find(who);
      if (!row)
        return refuse(console_errc::unknown_actor, "no actor '" + who + "' on node " + reg.node());
      auto id = reg.id_of(row->seq);
      auto c = st.children->find(row->seq);
      if (c == st.children->end())
        return refuse(console_errc::not_allowed, id + " is not supervised by the user supervisor");
      if (!row->handle)
        return refuse(console_errc::not_running, id + " is not running (" + row->state + ")");
      c->second.kill_reason = reason.empty() ? "no reason given" : reason;
      c->second.for_good = for_good;
      if (reason.empty())
        self->send_exit(row->handle, caf::exit_reason::kill);
      else
        self->send_exit(row->handle, refuse(console_errc::killed, reason));
      st.log->warn("{} ({}) killed from the console{}{}", id, row->name,
                   reason.empty() ? "" : ": ", reason);
      return nlohmann::json{{"ok", true}, {"id", id}, {"restart", !for_good}}.dump();
    },
  };
}

} // namespace

user_supervisor_actor spawn_user_supervisor(caf::actor_system& sys, user_supervisor_config cfg,
                                            std::shared_ptr<actor_stats> stats) {
  return spawn_counted_as<user_sup_class>(
    sys, [cfg](user_sup_ptr self) { return user_supervisor(self, cfg); }, std::move(stats));
}

} // namespace troupe
