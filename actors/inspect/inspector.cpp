#include "actors/inspect/inspector.hpp"

#include "actors/inspect/log_ring.hpp"
#include "actors/logging.hpp"
#include "actors/names.hpp"
#include "actors/wall_clock.hpp"
#include "actors/wire.hpp"
#include "actors/relay.hpp"
#include "actors/vnode_host.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <map>
#include <random>

namespace troupe {

namespace {

using restart_child_atom = caf::atom_constant<caf::atom("i_restart")>;

constexpr const char* supervisor_name = "user-supervisor";
constexpr uint64_t max_page = 10000;

/// An actor spawned from the console: what it takes to start it again.
struct child {
  std::string type;
  context ctx;
  supervision::restart_policy policy;
  caf::actor_clock::time_point started;
  std::string kill_reason;  // set by `kill`: the reason its exit shows
  bool for_good = false;    // `kill --stop`: not restarted
};

struct inspector_state {
  inspector_config cfg;
  std::map<uint64_t, child> children;
  std::map<caf::actor_addr, uint64_t> by_addr;
  caf::actor node;  // the node's published actor, in spawned actors' contexts
  std::mt19937 rng{std::random_device{}()};
  std::shared_ptr<spdlog::logger> log = logging::get("inspect");

  static inline const char* name = "troupe.inspector";
};

using inspector_actor = caf::stateful_actor<inspector_state>;

caf::error refuse(const std::string& why) {
  return caf::make_error(caf::sec::runtime_error, why);
}

nlohmann::json row_json(const actor_registry& reg, const actor_row& r) {
  nlohmann::json j{{"id", reg.id_of(r.seq)},
                   {"name", r.name},
                   {"type", r.type},
                   {"kind", r.kind},
                   {"node", reg.node()},
                   {"supervisor", r.supervisor},
                   {"state", r.state},
                   {"restarts", r.restarts},
                   {"last_exit", r.last_exit},
                   {"started_ms", r.started_ms}};
  if (r.counted) {
    j["handled"] = r.handled;
    j["mailbox"] = r.mailbox;
  } else {
    j["handled"] = nullptr; // the node's services keep no counters
    j["mailbox"] = nullptr;
  }
  return j;
}


/// Starts (or starts again) child `seq`; false when its type cannot be spawned here.
caf::actor start_child(inspector_actor* self, uint64_t seq, child& c,
                       std::shared_ptr<actor_stats> stats) {
  auto a = self->state.cfg.types->spawn(c.type, self->system(), c.ctx, std::move(stats));
  if (!a)
    return a;
  self->monitor(a);
  self->state.by_addr[a.address()] = seq;
  c.started = self->clock().now();
  return a;
}

caf::result<std::string> do_spawn(inspector_actor* self, const std::string& type,
                                  const std::string& name, std::vector<std::string>& args,
                                  uint32_t count) {
  auto& st = self->state;
  if (!st.cfg.types || !st.cfg.types->has(type)) {
    std::string known;
    if (st.cfg.types)
      for (auto& n : st.cfg.types->names())
        known += (known.empty() ? "" : ", ") + n;
    return refuse("no actor type '" + type + "' on node " + st.cfg.node_name + " (it has: "
                  + (known.empty() ? "none" : known) + ")");
  }
  if (count == 0 || count > st.cfg.max_spawn)
    return refuse("--count must be 1-" + std::to_string(st.cfg.max_spawn));
  if (!name.empty() && !valid_name(name))
    return refuse("'" + name + "' is not an actor name (1-64 letters, digits, '-', '_', '.')");
  auto ids = nlohmann::json::array();
  auto names = nlohmann::json::array();
  for (uint32_t k = 1; k <= count; ++k) {
    auto n = name.empty() || count == 1 ? name : name + "-" + std::to_string(k);
    child c{type, context{}, supervision::restart_policy{st.cfg.restart}, {}, {}, false};
    c.ctx.data_dir = st.cfg.data_dir;
    c.ctx.router = st.cfg.router;
    c.ctx.bus = st.cfg.bus;
    c.ctx.args = args;
    c.ctx.node = st.node;
    actor_row row;
    row.name = n;
    row.type = type;
    row.kind = "user";
    row.supervisor = supervisor_name;
    row.state = "running";
    row.started_ms = wall_clock_ms();
    if (!n.empty() && st.cfg.registry->find(n))
      return refuse("an actor named '" + n + "' already runs on node " + st.cfg.node_name
                    + (ids.empty() ? "" : " (" + std::to_string(ids.size()) + " spawned before it)"));
    auto stats = std::make_shared<actor_stats>();
    c.started = self->clock().now();
    auto a = st.cfg.types->spawn(type, self->system(), c.ctx, stats);
    if (!a)
      return refuse("cannot spawn '" + type + "'");
    row.handle = a;
    auto seq = st.cfg.registry->add(row, stats);
    if (seq == 0) {
      self->send_exit(a, caf::exit_reason::user_shutdown);
      return refuse("an actor named '" + n + "' already runs on node " + st.cfg.node_name);
    }
    self->monitor(a);
    st.by_addr[a.address()] = seq;
    st.children.emplace(seq, std::move(c));
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

nlohmann::json tree_of(const actor_registry& reg, const std::vector<actor_row>& rows,
                       const actor_row& top) {
  auto j = row_json(reg, top);
  auto kids = nlohmann::json::array();
  for (auto& r : rows)
    if (r.supervisor == top.name && r.seq != top.seq && !top.name.empty())
      kids.push_back(tree_of(reg, rows, r));
  j["children"] = kids;
  return j;
}

/// Lists one of the node's own actors (kind system: no counters, no supervisor).
void add_system(actor_registry& reg, std::string name, std::string type, caf::actor handle) {
  actor_row row;
  row.name = std::move(name);
  row.type = std::move(type);
  row.kind = "system";
  row.state = "running";
  row.started_ms = wall_clock_ms();
  row.handle = std::move(handle);
  reg.add(std::move(row), nullptr);
}

caf::behavior inspector(inspector_actor* self, inspector_config cfg) {
  self->state.cfg = std::move(cfg);
  auto& st = self->state;
  if (!st.cfg.registry)
    st.cfg.registry = std::make_shared<actor_registry>(st.cfg.node_name);
  add_system(*st.cfg.registry, supervisor_name, "supervisor", caf::actor_cast<caf::actor>(self));
  self->set_down_handler([self](const caf::down_msg& dm) {
    auto& st = self->state;
    auto it = st.by_addr.find(dm.source);
    if (it == st.by_addr.end())
      return;
    auto seq = it->second;
    st.by_addr.erase(it);
    auto c = st.children.find(seq);
    if (c == st.children.end())
      return;
    auto why = !c->second.kill_reason.empty() ? "killed: " + c->second.kill_reason
               : dm.reason ? self->system().render(dm.reason)
                           : std::string{"exited normally"};
    c->second.kill_reason.clear();
    auto row = st.cfg.registry->find(std::to_string(seq));
    auto name = row ? (row->name.empty() ? st.cfg.registry->id_of(seq) : row->name) : "?";
    if (c->second.for_good) {
      st.log->info("{} stopped for good ({})", name, why);
      st.cfg.registry->remove(seq);
      st.children.erase(c);
      return;
    }
    std::uniform_real_distribution<double> jitter{0.0, 1.0};
    auto d = c->second.policy.on_exit(supervision::exit_kind::crashed, c->second.started,
                                      self->clock().now(), jitter(st.rng));
    if (d.action != supervision::restart_decision::restart) {
      st.log->error("{} ({}) exited ({}) too often: not restarting it", name, c->second.type,
                    why);
      st.cfg.registry->exited(seq, why, "failed");
      return;
    }
    st.log->warn("{} ({}) exited ({}): restarting it in {} ms", name, c->second.type, why,
                 std::chrono::duration_cast<milliseconds>(d.delay).count());
    st.cfg.registry->exited(seq, why, "restarting");
    self->delayed_send(self, d.delay, restart_child_atom::value, seq);
  });
  return {
    [self](restart_child_atom, uint64_t seq) {
      auto& st = self->state;
      auto c = st.children.find(seq);
      if (c == st.children.end())
        return;
      auto stats = std::make_shared<actor_stats>();
      auto a = start_child(self, seq, c->second, stats);
      if (!a) {
        st.cfg.registry->exited(seq, "cannot spawn again", "failed");
        return;
      }
      st.cfg.registry->restarted(seq, a, stats, wall_clock_ms());
    },
    [self](kv_target_atom, caf::actor& node) { self->state.node = std::move(node); },
    [self](register_atom, const std::string& name, caf::actor& a) {
      add_system(*self->state.cfg.registry, name, "service", std::move(a));
    },
    [self](actors_atom, uint64_t offset, uint64_t limit) {
      auto& reg = *self->state.cfg.registry;
      uint64_t total = 0;
      auto rows = reg.page(offset, std::min(limit, max_page), total);
      auto items = nlohmann::json::array();
      for (auto& r : rows)
        items.push_back(row_json(reg, r));
      return nlohmann::json{{"node", reg.node()}, {"total", total}, {"offset", offset},
                            {"actors", std::move(items)}}
        .dump();
    },
    [self](inspect_atom, const std::string& who) -> caf::result<std::string> {
      auto& reg = *self->state.cfg.registry;
      auto row = reg.find(who);
      if (!row)
        return refuse("no actor '" + who + "' on node " + reg.node());
      auto j = row_json(reg, *row);
      if (!row->counted || !row->handle)
        return j.dump();
      // The actor's own view of its state, when it answers dump_atom.
      auto rp = self->make_response_promise<std::string>();
      self->request(row->handle, std::chrono::seconds(1), dump_atom::value)
        .then([rp, j](std::string& dump) mutable {
                j["dump"] = std::move(dump);
                rp.deliver(j.dump());
              },
              [rp, j](const caf::error&) mutable { rp.deliver(j.dump()); });
      return rp;
    },
    [self](tree_atom) {
      auto& reg = *self->state.cfg.registry;
      auto rows = reg.all();
      auto kids = nlohmann::json::array();
      for (auto& r : rows)
        if (r.kind == "system" && r.supervisor.empty())
          kids.push_back(tree_of(reg, rows, r));
      return nlohmann::json{{"node", reg.node()}, {"children", std::move(kids)}}.dump();
    },
    [self](spawn_atom, const std::string& type, const std::string& name,
           std::vector<std::string>& args, uint32_t count) {
      return do_spawn(self, type, name, args, count);
    },
    [self](tell_atom, const std::string& who, std::string& payload) -> caf::result<std::string> {
      auto& reg = *self->state.cfg.registry;
      auto row = reg.find(who);
      if (!row)
        return refuse("no actor '" + who + "' on node " + reg.node());
      if (!row->handle)
        return refuse(reg.id_of(row->seq) + " is not running (" + row->state + ")");
      caf::anon_send(row->handle, event{"", std::move(payload), {}});
      return nlohmann::json{{"ok", true}, {"id", reg.id_of(row->seq)}}.dump();
    },
    [self](ask_atom, const std::string& who, std::string& payload,
           uint64_t timeout_ms) -> caf::result<std::string> {
      auto& reg = *self->state.cfg.registry;
      auto row = reg.find(who);
      if (!row)
        return refuse("no actor '" + who + "' on node " + reg.node());
      if (!row->handle)
        return refuse(reg.id_of(row->seq) + " is not running (" + row->state + ")");
      auto rp = self->make_response_promise<std::string>();
      auto id = reg.id_of(row->seq);
      self->request(row->handle, milliseconds(timeout_ms), event{"", std::move(payload), {}})
        .then([rp](std::string& reply) mutable { rp.deliver(std::move(reply)); },
              [rp, id, timeout_ms, self](const caf::error& err) mutable {
                rp.deliver(refuse(err == caf::sec::request_timeout
                                    ? id + " did not answer within "
                                        + std::to_string(timeout_ms) + " ms"
                                    : id + " failed: " + self->system().render(err)));
              });
      return rp;
    },
    [self](kill_atom, const std::string& who, const std::string& reason,
           bool for_good) -> caf::result<std::string> {
      auto& st = self->state;
      auto& reg = *st.cfg.registry;
      auto row = reg.find(who);
      if (!row)
        return refuse("no actor '" + who + "' on node " + reg.node());
      auto id = reg.id_of(row->seq);
      if (row->kind == "system")
        return refuse(id + " (" + row->name + ") is a service of the node: stop the node instead");
      if (row->kind == "instance" && for_good)
        return refuse(id + " is an instance of a deployment: undeploy the deployment instead");
      if (!row->handle)
        return refuse(id + " is not running (" + row->state + ")");
      if (auto c = st.children.find(row->seq); c != st.children.end()) {
        c->second.kill_reason = reason.empty() ? "no reason given" : reason;
        c->second.for_good = for_good;
      }
      if (reason.empty())
        self->send_exit(row->handle, caf::exit_reason::kill);
      else
        self->send_exit(row->handle, refuse(reason));
      st.log->warn("{} ({}) killed from the console{}{}", id, row->name,
                   reason.empty() ? "" : ": ", reason);
      return nlohmann::json{{"ok", true}, {"id", id}, {"restart", !for_good}}.dump();
    },
    [self](logs_atom, uint64_t after, int32_t min_level, uint64_t limit) {
      uint64_t next = 0;
      auto lines = logging::recent()->read(after, min_level, std::min<uint64_t>(limit, 5000),
                                           next);
      auto items = nlohmann::json::array();
      for (auto& l : lines)
        items.push_back({{"seq", l.seq},
                         {"level", spdlog::level::to_string_view(
                                     static_cast<spdlog::level::level_enum>(l.level))
                                     .data()},
                         {"text", l.text}});
      return nlohmann::json{{"node", self->state.cfg.node_name}, {"next", next},
                            {"lines", std::move(items)}}
        .dump();
    },
    [self](health_atom) {
      auto& st = self->state;
      std::string level = "green";
      auto reasons = nlohmann::json::array();
      auto recent = st.cfg.registry->restarts_since(wall_clock_ms() - 60000);
      if (recent >= st.cfg.restart_alarm) {
        level = "yellow";
        reasons.push_back(std::to_string(recent) + " actor restarts in the last minute");
      }
      if (logging::roller_unreachable()) {
        level = "yellow";
        reasons.push_back("log-roller unreachable: " + std::to_string(logging::stderr_lines())
                          + " lines went to stderr");
      }
      return nlohmann::json{{"level", level}, {"reasons", reasons}}.dump();
    },
    [self](metrics_atom) {
      std::map<std::string, uint64_t> handled, mailbox, restarts;
      for (auto& r : self->state.cfg.registry->all()) {
        if (!r.counted)
          continue;
        handled[r.type] += r.handled;
        mailbox[r.type] += r.mailbox;
        restarts[r.type] += r.restarts;
      }
      std::vector<std::string> names;
      std::vector<uint64_t> values;
      for (auto& [type, n] : handled) {
        names.push_back("troupe_actor_messages_handled_total;type;" + type);
        values.push_back(n);
        names.push_back("troupe_actor_mailbox_size;type;" + type);
        values.push_back(mailbox[type]);
        names.push_back("troupe_actor_restarts_total;type;" + type);
        values.push_back(restarts[type]);
      }
      return caf::make_message(std::move(names), std::move(values));
    },
  };
}

} // namespace

caf::actor spawn_inspector(caf::actor_system& sys, inspector_config cfg) {
  return sys.spawn(inspector, std::move(cfg));
}

} // namespace troupe
