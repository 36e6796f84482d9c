#include "actors/vnode_host.hpp"

#include "actors/api/counted_actor.hpp"
#include "actors/api/main_worker.hpp"
#include "actors/logging.hpp"
#include "actors/wire.hpp"
#include "actors/workload_pull.hpp"
#include "actors/wall_clock.hpp"
#include "actors/raft/raft_actor.hpp"
#include "actors/router.hpp"
#include "protocols/cluster_state/state_machine.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>
#include <map>
#include <set>

namespace troupe {

namespace {

using restart_atom = caf::atom_constant<caf::atom("vh_restart")>;
using handoff_timeout_atom = caf::atom_constant<caf::atom("vh_hotime")>;
using snapshot_tick_atom = caf::atom_constant<caf::atom("vh_snap")>;

using instance_key = std::pair<std::string, uint32_t>;  // deployment, vnode

struct instance {
  caf::actor handle;
  std::string type;
  uint32_t restarts = 0;
  caf::actor_clock::time_point last_snapshot{};
};

/// An at-least-once batch being handled: the instances' replies, answered once all came.
struct gather {
  std::vector<std::string> replies;
  size_t waiting = 0;
  bool failed = false;
  caf::response_promise rp;
};

/// An instance whose state is on its way from the old owner, and the events that wait for it.
struct pending_instance {
  uint64_t generation = 0;
  std::vector<std::pair<event, caf::response_promise>> buffered;
};

struct host_state {
  vnode_host_config cfg;
  state::cluster_view view;
  uint64_t version = 0;
  std::map<instance_key, instance> instances;
  std::map<caf::actor_addr, instance_key> by_addr;
  std::set<std::shared_ptr<gather>> gathers;  // at-least-once batches not answered yet
  std::set<std::string> unknown_types;  // deployments whose type this node lacks (logged once)
  bool restart_scheduled = false;
  bool fenced = false;
  std::string waiting_for;  // the migration deployments wait for ("" : none)
  std::map<instance_key, pending_instance> pending;   // gained, waiting for the old state
  std::map<instance_key, std::string> early;          // states that came before the workload
  uint64_t next_generation = 1;
  uint64_t handoffs_sent = 0;
  uint64_t handoffs_received = 0;
  uint64_t buffer_refused = 0;
  // At-least-once: the (sender, sequence) numbers each instance has handled, bounded.
  std::map<instance_key, std::map<uint64_t, std::set<uint64_t>>> seen;
  uint64_t duplicates = 0;
  uint64_t delivered = 0;     // events handed to instances
  uint64_t kv_client = 0;     // this host's client id for KV writes (de-duplicated retries)
  uint64_t kv_seq = 0;
  bool snapshot_tick_running = false;
  std::map<instance_key, uint64_t> reg_seq;  // each instance's id in the node's actor registry
  std::shared_ptr<spdlog::logger> log = logging::get("vnodes");

  static inline const char* name = "troupe.vnode_host";
};

using host_actor = caf::stateful_actor<host_state>;

caf::actor service_of(host_actor* self, service s) {
  auto& dir = self->state.cfg.services;
  return dir ? dir->get(s) : caf::actor{};
}

/// The node's ingress: KV requests for periodic snapshots go there.
caf::actor node_of(host_actor* self) {
  return service_of(self, service::ingress);
}

/// Takes an instance out of the node's actor registry (it stopped, or its vnode moved).
void forget_instance(host_state& st, const instance_key& key) {
  if (auto it = st.reg_seq.find(key); it != st.reg_seq.end()) {
    st.cfg.registry->remove(it->second);
    st.reg_seq.erase(it);
  }
}

void forget_all_instances(host_state& st) {
  for (auto& [key, seq] : st.reg_seq)
    st.cfg.registry->remove(seq);
  st.reg_seq.clear();
}

/// Watches an instance: its down message restarts it. Not linked: an instance killed with
/// `exit_reason::kill` would take its host down through a link.
void watch(host_actor* self, const caf::actor& a) {
  self->monitor(a);
}

/// Stops an instance on purpose: no restart follows.
void stop_handle(host_actor* self, const caf::actor& a, const caf::error& reason) {
  self->demonitor(a);
  self->send_exit(a, reason);
}

void stop_instance(host_actor* self, std::map<instance_key, instance>::iterator it) {
  forget_instance(self->state, it->first);
  self->state.by_addr.erase(it->second.handle.address());
  stop_handle(self, it->second.handle, caf::exit_reason::user_shutdown);
  self->state.instances.erase(it);
}

bool is_live(const state::cluster_view& view, const std::string& name) {
  namespace ms = troupe::membership;
  auto* r = view.members.find(name);
  // A leaving worker is alive: it hands its vnodes over before it goes.
  return r && (r->info.state == ms::member_state::up || r->info.state == ms::member_state::suspect
               || r->info.state == ms::member_state::leaving);
}

/// Starts the instance of `key`, from `snapshot` when it is not empty, then delivers what
/// waited for it. Returns false when the type is unknown here.
bool start_instance(host_actor* self, const instance_key& key, const std::string& snapshot) {
  auto& st = self->state;
  auto* d = st.view.deployments.find(key.first);
  if (!d)
    return false;
  context ctx{d->name, key.second, d->config, st.cfg.data_dir, {}, st.cfg.services};
  auto stats = std::make_shared<actor_stats>();
  auto a = st.cfg.types ? st.cfg.types->spawn(d->type, self->system(), ctx, stats)
                        : caf::actor{};
  if (!a) {
    if (st.unknown_types.insert(d->name).second)
      st.log->error("deployment {} needs actor type '{}', which this node does not have",
                    d->name, d->type);
    return false;
  }
  watch(self, a);
  st.by_addr[a.address()] = key;
  st.instances[key] = instance{a, d->type, 0};
  if (auto r = st.reg_seq.find(key); r != st.reg_seq.end()) {
    st.cfg.registry->restarted(r->second, a, stats, wall_clock_ms());
  } else {
    actor_row row;
    row.name = key.first + ":" + std::to_string(key.second);
    row.type = d->type;
    row.kind = "instance";
    row.supervisor = "vnodes";
    row.state = "running";
    row.started_ms = wall_clock_ms();
    row.handle = a;
    st.reg_seq[key] = st.cfg.registry->add(std::move(row), stats);
  }
  if (!snapshot.empty())
    self->send(a, restore_atom::value, snapshot); // before any event: the mailbox keeps order
  if (auto p = st.pending.find(key); p != st.pending.end()) {
    for (auto& [ev, rp] : p->second.buffered)
      rp.delegate(a, std::move(ev));
    st.pending.erase(p);
  }
  return true;
}

/// Where an instance's periodic snapshot is kept. The deployment's creation index is part of
/// the key, so that a deployment created again under the same name starts afresh.
std::string snapshot_key(const state::deployment_spec& d, uint32_t vnode) {
  return std::string{snapshot_prefix} + d.name + "@" + std::to_string(d.created) + "/"
         + std::to_string(vnode);
}

/// The deployment's snapshot period (0: none).
milliseconds snapshot_every(const state::deployment_spec& d) {
  auto it = d.config.find(snapshot_every_key);
  if (it == d.config.end())
    return milliseconds{0};
  try {
    return milliseconds{std::stoll(it->second)};
  } catch (const std::exception&) {
    return milliseconds{0};
  }
}

/// Starts an instance that gets no state handed over: from its last periodic snapshot when
/// its deployment keeps them, else empty. Returns whether it started (or will, once read).
bool start_fresh(host_actor* self, const instance_key& key) {
  auto& st = self->state;
  auto* d = st.view.deployments.find(key.first);
  auto kv = node_of(self);
  if (!d || !kv || snapshot_every(*d).count() <= 0)
    return start_instance(self, key, {});
  auto gen = st.next_generation++;
  st.pending[key].generation = gen;
  self->request(kv, std::chrono::seconds(5), kv_get_atom::value,
                snapshot_key(*d, key.second))
    .then(
      [self, key, gen](bool found, std::string& value, uint64_t, uint64_t) {
        auto p = self->state.pending.find(key);
        if (p == self->state.pending.end() || p->second.generation != gen)
          return;
        if (found)
          self->state.log->info("{} on vnode {} starts from its last snapshot ({} bytes)",
                                key.first, key.second, value.size());
        start_instance(self, key, found ? value : std::string{});
      },
      [self, key, gen](const caf::error& err) {
        auto p = self->state.pending.find(key);
        if (p == self->state.pending.end() || p->second.generation != gen)
          return;
        self->state.log->warn("cannot read the last snapshot of {} on vnode {} ({}): starting "
                              "it empty",
                              key.first, key.second, self->system().render(err));
        start_instance(self, key, {});
      });
  return true;
}

/// True when a deployment keeps periodic snapshots.
bool wants_snapshots(const host_state& st) {
  for (auto& [name, d] : st.view.deployments.all())
    if (snapshot_every(d).count() > 0)
      return true;
  return false;
}

/// Writes the snapshots that are due to the cluster's KV namespace.
void take_snapshots(host_actor* self) {
  auto& st = self->state;
  auto now = self->clock().now();
  for (auto& [key, inst] : st.instances) {
    auto* d = st.view.deployments.find(key.first);
    auto every = d ? snapshot_every(*d) : milliseconds{0};
    if (every.count() <= 0 || now - inst.last_snapshot < every || !node_of(self))
      continue;
    inst.last_snapshot = now;
    auto k = snapshot_key(*d, key.second);
    self->request(inst.handle, std::chrono::seconds(2), snapshot_atom::value)
      .then(
        [self, k](std::string& bytes) {
          auto& st = self->state;
          auto kv = node_of(self);
          if (!kv)
            return;
          self
            ->request(kv, std::chrono::seconds(5), kv_put_atom::value, k, std::move(bytes),
                      int64_t{-1}, st.kv_client, ++st.kv_seq)
            .then([](bool, uint64_t) {},
                  [self, k](const caf::error& err) {
                    self->state.log->debug("snapshot {} not written: {}", k,
                                           self->system().render(err));
                  });
        },
        [](const caf::error&) {}); // a type without snapshots: nothing to keep
  }
}

using seen_table = std::map<uint64_t, std::set<uint64_t>>;  // sender -> sequences handled

/// The at-least-once de-duplication table of an instance as text ("sender:seq,seq;..."): it
/// moves with the instance's state, so a retry that crosses the move is still recognized.
std::string encode_seen(const seen_table& t) {
  std::string out;
  for (auto& [sender, seqs] : t) {
    out += std::to_string(sender) + ":";
    for (auto s : seqs)
      out += std::to_string(s) + ",";
    out += ";";
  }
  return out;
}

seen_table decode_seen(const std::string& text) {
  seen_table out;
  size_t pos = 0;
  while (pos < text.size()) {
    auto colon = text.find(':', pos);
    auto end = text.find(';', pos);
    if (colon == std::string::npos || end == std::string::npos || colon > end)
      break;
    auto& seqs = out[std::stoull(text.substr(pos, colon - pos))];
    for (size_t p = colon + 1; p < end;) {
      auto comma = text.find(',', p);
      if (comma == std::string::npos || comma > end)
        break;
      seqs.insert(std::stoull(text.substr(p, comma - p)));
      p = comma + 1;
    }
    pos = end + 1;
  }
  return out;
}

/// The old owner's side of a move: snapshot, stop, ship the state to the new owner.
void hand_off(host_actor* self, const instance_key& key, caf::actor inst,
              const std::string& to) {
  auto& st = self->state;
  auto router = service_of(self, service::router);
  std::string seen;
  if (auto it = st.seen.find(key); it != st.seen.end()) {
    seen = encode_seen(it->second);
    st.seen.erase(it);
  }
  auto send_state = [self, key, inst, to, router, seen](std::string bytes) {
    self->send_exit(inst, caf::exit_reason::user_shutdown);
    ++self->state.handoffs_sent;
    if (router)
      self->send(router, handoff_atom::value, to, key.first, key.second, std::move(bytes),
                 seen);
  };
  self->request(inst, st.cfg.handoff_timeout / 2, snapshot_atom::value)
    .then([send_state](std::string& bytes) mutable { send_state(std::move(bytes)); },
          [send_state](const caf::error&) mutable { send_state({}); }); // no snapshot hook
}

/// Starts and stops instances until they match the view: one per (deployment, owned vnode).
/// `before` is the view this one replaces: it tells a move between live workers (hand the
/// state over) from a move away from a crashed one (start empty).
void reconcile(host_actor* self, const state::cluster_view* before = nullptr) {
  auto& st = self->state;
  std::set<instance_key> want;
  auto& owners = st.view.vnodes.owners();
  for (auto& [name, d] : st.view.deployments.all()) {
    if (d.route == state::routing::singleton) {
      if (st.view.main.name() == st.cfg.node_name) // one instance, on the main worker
        want.emplace(name, 0);
      continue;
    }
    for (uint32_t v = 0; v < owners.size(); ++v)
      if (owners[v] == st.cfg.node_name)
        want.emplace(name, v);
  }
  size_t stopped = 0;
  size_t handed = 0;
  for (auto it = st.instances.begin(); it != st.instances.end();) {
    auto d = st.view.deployments.find(it->first.first);
    if (want.count(it->first) == 0 || !d || d->type != it->second.type) {
      auto key = it->first;
      auto next = std::next(it);
      auto to = d ? state::owner_of(st.view, *d, key.second) : std::string{};
      if (d && d->type == it->second.type && !to.empty() && is_live(st.view, to)) {
        auto inst = it->second.handle;
        self->demonitor(inst);
        st.by_addr.erase(inst.address());
        st.instances.erase(it);
        forget_instance(st, key);
        hand_off(self, key, inst, to);
        ++handed;
      } else {
        stop_instance(self, it);
        ++stopped;
      }
      it = next;
    } else {
      ++it;
    }
  }
  for (auto it = st.pending.begin(); it != st.pending.end();) {
    if (want.count(it->first) == 0) {
      for (auto& [ev, rp] : it->second.buffered)
        rp.deliver(caf::make_error(caf::sec::runtime_error, "the vnode moved on before it started"));
      it = st.pending.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = st.reg_seq.begin(); it != st.reg_seq.end();) {
    if (want.count(it->first) == 0) { // died, and its vnode or deployment went meanwhile
      st.cfg.registry->remove(it->second);
      it = st.reg_seq.erase(it);
    } else {
      ++it;
    }
  }
  size_t started = 0;
  size_t waiting = 0;
  // Deployments start once the registered migrations are done (the Kibana RFC's workers
  // waiting for the saved-object migration); instances already running keep running.
  if (st.cfg.migrations && !want.empty()) {
    std::vector<state::registered_migration> list;
    for (auto& m : st.cfg.migrations->all())
      list.push_back({m.id, m.idempotent});
    auto next = state::first_pending(list, st.view.migrations);
    if (!next.empty()) {
      if (st.waiting_for != next)
        st.log->info("deployments wait for migration {} ({})", next,
                     st.view.migrations.find(next)
                       ? state::to_string(st.view.migrations.find(next)->state)
                       : "pending");
      st.waiting_for = next;
      return;
    }
    if (!st.waiting_for.empty())
      st.log->info("migrations done: starting deployments");
    st.waiting_for.clear();
  }
  for (auto& key : want) {
    if (st.instances.count(key) || st.pending.count(key))
      continue;
    if (auto e = st.early.find(key); e != st.early.end()) {
      auto bytes = std::move(e->second);
      st.early.erase(e);
      started += start_instance(self, key, bytes);
      continue;
    }
    std::string from;
    if (before)
      if (auto* bd = before->deployments.find(key.first))
        from = state::owner_of(*before, *bd, key.second);
    if (!from.empty() && from != st.cfg.node_name && is_live(st.view, from)
        && before->deployments.find(key.first)) {
      // The old owner is alive and hands the state over: wait for it, buffering events.
      auto gen = st.next_generation++;
      st.pending[key].generation = gen;
      self->delayed_send(self, st.cfg.handoff_timeout, handoff_timeout_atom::value, key.first,
                         key.second, gen);
      ++waiting;
      continue;
    }
    started += start_fresh(self, key);
  }
  if (started + stopped + handed + waiting > 0)
    st.log->info("{} instances started, {} waiting for their state, {} handed over, {} stopped; "
                 "{} running",
                 started, waiting, handed, stopped, st.instances.size());
}

/// Stops every instance until the coordinator confirms this worker's vnodes again.
void fence(host_actor* self, const char* why) {
  auto& st = self->state;
  if (st.fenced)
    return;
  st.fenced = true;
  detail::set_main_worker(0); // no longer main either, until confirmed again
  auto n = st.instances.size();
  for (auto& [key, inst] : st.instances)
    stop_handle(self, inst.handle, caf::exit_reason::user_shutdown);
  st.instances.clear();
  st.by_addr.clear();
  forget_all_instances(st);
  st.log->warn("fenced ({}): stopped {} instances until the coordinator confirms this worker's "
               "vnodes",
               why, n);
}

/// True while this worker may hand events to its instances: not fenced, and its lease holds
/// now (checked at each delivery, so a worker that wakes from a pause longer than its lease
/// fences itself before it handles anything that waited).
bool serving(host_actor* self) {
  auto& st = self->state;
  if (st.fenced)
    return false;
  if (st.cfg.services && !st.cfg.services->lease().valid(self->clock().now())) {
    fence(self, "its lease ran out");
    return false;
  }
  return true;
}

caf::behavior host(host_actor* self, vnode_host_config cfg) {
  self->state.cfg = std::move(cfg);
  {
    std::random_device rd;
    self->state.kv_client = (static_cast<uint64_t>(rd()) << 32) | rd();
  }
  pull_workload(self, self->state.cfg.services); // a restarted host missed views
  // The instances are not linked to the host (one crashing must not take the others down), so
  // the host stops them itself when it is told to exit (its supervisor, or the console, sends
  // a reason it can trap): no instance outlives its vnode host.
  self->set_exit_handler([self](caf::exit_msg& em) {
    auto& st = self->state;
    // Whoever waits for an answer gets one now (the router sends the events again).
    auto stopped = caf::make_error(caf::sec::runtime_error,
                                   "the vnodes of " + st.cfg.node_name + " stopped");
    for (auto& g : st.gathers)
      g->rp.deliver(stopped);
    st.gathers.clear();
    for (auto& [key, p] : st.pending)
      for (auto& [ev, rp] : p.buffered)
        rp.deliver(stopped);
    st.pending.clear();
    for (auto& [key, inst] : self->state.instances)
      stop_handle(self, inst.handle, em.reason);
    self->state.instances.clear();
    self->state.by_addr.clear();
    forget_all_instances(self->state);
    self->quit(em.reason);
  });
  self->set_down_handler([self](const caf::down_msg& dm) {
    auto& st = self->state;
    auto it = st.by_addr.find(dm.source);
    if (it == st.by_addr.end())
      return;
    auto key = it->second;
    st.by_addr.erase(it);
    st.instances.erase(key);
    if (auto r = st.reg_seq.find(key); r != st.reg_seq.end())
      st.cfg.registry->exited(r->second, self->system().render(dm.reason), "restarting");
    st.log->warn("instance of {} on vnode {} died ({}): starting it again", key.first,
                 key.second, self->system().render(dm.reason));
    if (!st.restart_scheduled) {
      st.restart_scheduled = true;
      self->delayed_send(self, st.cfg.restart_delay, restart_atom::value);
    }
  });
  return {
    [self](workload_atom, uint64_t version, const std::string& bytes) {
      auto& st = self->state;
      if (version < st.version)
        return;
      state::cluster_view view;
      if (!state::decode_view(bytes, view)) {
        st.log->error("a workload that does not decode was ignored");
        return;
      }
      st.version = version;
      auto before = std::move(st.view);
      st.view = std::move(view);
      auto main = st.view.main.name() == st.cfg.node_name ? st.view.main.epoch() : 0;
      if (main != main_worker_epoch()) {
        detail::set_main_worker(main);
        st.log->info(main != 0 ? "this node is the main worker (epoch {})"
                               : "this node is no longer the main worker{}",
                     main != 0 ? std::to_string(main) : std::string{});
      }
      if (st.fenced) {
        st.fenced = false;
        st.log->info("ownership confirmed by the coordinator: serving vnodes again");
      }
      reconcile(self, &before);
      // Periodic snapshots are checked every 100 ms while a deployment asks for them.
      if (!st.snapshot_tick_running && wants_snapshots(st)) {
        st.snapshot_tick_running = true;
        self->send(self, snapshot_tick_atom::value);
      }
    },
    [self](snapshot_tick_atom) {
      auto& st = self->state;
      if (!wants_snapshots(st)) {
        st.snapshot_tick_running = false; // nothing to keep: no timer while idle
        return;
      }
      if (!st.fenced)
        take_snapshots(self);
      self->delayed_send(self, milliseconds(100), snapshot_tick_atom::value);
    },
    [self](restart_atom) {
      self->state.restart_scheduled = false;
      if (!self->state.fenced)
        reconcile(self);
    },
    [self](fence_atom) { fence(self, "lost its coordinator"); },
    [self](deliver_atom, const std::string& deployment, uint32_t vnode,
           event& ev) -> caf::result<caf::message> {
      auto& st = self->state;
      if (!serving(self))
        return caf::make_error(caf::sec::runtime_error,
                               st.cfg.node_name + " is fenced: it lost its coordinator or lease");
      auto it = st.instances.find({deployment, vnode});
      if (it != st.instances.end()) {
        ++st.delivered;
        return self->delegate(it->second.handle, std::move(ev));
      }
      if (auto p = st.pending.find({deployment, vnode}); p != st.pending.end()) {
        if (p->second.buffered.size() >= st.cfg.handoff_buffer) {
          ++st.buffer_refused;
          return caf::make_error(caf::sec::runtime_error,
                                 "vnode " + std::to_string(vnode) + " of " + deployment
                                   + " is moving and its buffer of "
                                   + std::to_string(st.cfg.handoff_buffer) + " events is full");
        }
        auto rp = self->make_response_promise();
        p->second.buffered.emplace_back(std::move(ev), rp);
        return rp;
      }
      auto* d = st.view.deployments.find(deployment);
      auto owner = d ? state::owner_of(st.view, *d, vnode) : std::string{};
      auto router = service_of(self, service::router);
      if (!owner.empty() && owner != st.cfg.node_name && router
          && ev.headers.count("troupe-passed-on") == 0) {
        // Sent by a node that has not seen the move yet: pass it on to the new owner, once
        // (two nodes that disagree about the owner must not pass an event back and forth).
        ev.headers["troupe-passed-on"] = st.cfg.node_name;
        return self->delegate(router, deliver_atom::value, deployment, vnode,
                              std::move(ev));
      }
      if (!st.waiting_for.empty() && owner == st.cfg.node_name)
        return caf::make_error(caf::sec::runtime_error,
                               deployment + " has not started on " + st.cfg.node_name
                                 + ": deployments wait for migration " + st.waiting_for
                                 + " (see troupe ctl migrations)");
      return caf::make_error(caf::sec::runtime_error,
                             "vnode " + std::to_string(vnode) + " of " + deployment
                               + " is not served by " + st.cfg.node_name);
    },
    [self](handoff_atom, const std::string& deployment, uint32_t vnode, std::string& bytes,
           const std::string& seen) {
      auto& st = self->state;
      instance_key key{deployment, vnode};
      ++st.handoffs_received;
      if (!seen.empty())
        for (auto& [sender, seqs] : decode_seen(seen))
          st.seen[key][sender].insert(seqs.begin(), seqs.end());
      if (st.pending.count(key)) {
        st.log->debug("state of {} on vnode {} arrived ({} bytes)", deployment, vnode,
                      bytes.size());
        start_instance(self, key, bytes);
      } else if (!st.instances.count(key)) {
        st.early[key] = std::move(bytes); // before the workload that gives us the vnode
      }
    },
    [self](handoff_timeout_atom, const std::string& deployment, uint32_t vnode,
           uint64_t generation) {
      auto& st = self->state;
      instance_key key{deployment, vnode};
      auto p = st.pending.find(key);
      if (p == st.pending.end() || p->second.generation != generation)
        return;
      st.log->warn("the state of {} on vnode {} did not come within {} ms: starting it empty",
                   deployment, vnode,
                   std::chrono::duration_cast<milliseconds>(st.cfg.handoff_timeout).count());
      start_fresh(self, key);
    },
    [self](deliver_batch_atom, const std::string& deployment, std::vector<uint32_t>& vnodes,
           std::vector<std::string>& keys, std::vector<std::string>& payloads) {
      auto& st = self->state;
      uint64_t accepted = 0;
      if (!serving(self))
        return accepted;
      auto n = std::min({vnodes.size(), keys.size(), payloads.size()});
      for (size_t i = 0; i < n; ++i) {
        auto it = st.instances.find({deployment, vnodes[i]});
        if (it == st.instances.end())
          continue;
        // Anonymous: the instance's reply has nowhere to go, as the sender asked.
        caf::anon_send(it->second.handle, event{std::move(keys[i]), std::move(payloads[i]), {}});
        ++accepted;
        ++st.delivered;
      }
      return accepted;
    },
    [self](deliver_batch_atom, const std::string& deployment, std::vector<uint32_t>& vnodes,
           std::vector<std::string>& keys, std::vector<std::string>& payloads, uint64_t sender,
           std::vector<uint64_t>& seqs) -> caf::result<std::vector<std::string>> {
      auto& st = self->state;
      auto fail = [](std::string why) {
        return caf::make_error(caf::sec::runtime_error, std::move(why));
      };
      if (!serving(self))
        return fail(st.cfg.node_name + " is fenced: it lost its coordinator or lease");
      auto n = vnodes.size();
      if (keys.size() != n || payloads.size() != n || seqs.size() != n)
        return fail("malformed batch");
      for (auto v : vnodes)
        if (!st.instances.count({deployment, v}))
          return fail("vnode " + std::to_string(v) + " of " + deployment + " is not running on "
                      + st.cfg.node_name + " (yet)");
      auto g = std::make_shared<gather>();
      st.gathers.insert(g);
      g->replies.resize(n);
      g->rp = self->make_response_promise();
      for (size_t i = 0; i < n; ++i) {
        instance_key key{deployment, vnodes[i]};
        auto& done = st.seen[key][sender];
        if (done.count(seqs[i])) {
          ++st.duplicates; // a retry of an event this instance already handled
          continue;
        }
        ++g->waiting;
        event ev{std::move(keys[i]), std::move(payloads[i]),
                 {{sender_header, std::to_string(sender)},
                  {sequence_header, std::to_string(seqs[i])}}};
        auto seq = seqs[i];
        ++st.delivered;
        self->request(st.instances[key].handle, std::chrono::seconds(10), std::move(ev))
          .then(
            [self, g, i, key, sender, seq](std::string& reply) {
              auto& done = self->state.seen[key][sender];
              done.insert(seq);
              if (done.size() > 100000)
                done.erase(done.begin());
              g->replies[i] = std::move(reply);
              if (--g->waiting == 0 && !g->failed && self->state.gathers.erase(g) > 0)
                g->rp.deliver(std::move(g->replies));
            },
            [self, g](caf::error& err) {
              if (!g->failed && self->state.gathers.erase(g) > 0) {
                g->failed = true;
                g->rp.deliver(std::move(err));
              }
            });
      }
      if (g->waiting == 0 && st.gathers.erase(g) > 0)
        g->rp.deliver(std::move(g->replies));
      return g->rp;
    },
    [self](instances_atom, const std::string& deployment, uint32_t vnode) {
      auto it = self->state.instances.find({deployment, vnode});
      return it == self->state.instances.end() ? caf::actor{} : it->second.handle;
    },
    [self](metrics_atom) {
      auto& st = self->state;
      std::vector<std::string> names;
      std::vector<uint64_t> values;
      auto add = [&](std::string n, uint64_t v) {
        names.push_back(std::move(n));
        values.push_back(v);
      };
      std::map<std::string, uint64_t> per_deployment;
      for (auto& [key, inst] : st.instances)
        ++per_deployment[key.first];
      for (auto& [name, d] : st.view.deployments.all())
        add("troupe_instances;deployment;" + name, per_deployment[name]);
      uint64_t buffered = 0;
      for (auto& [key, p] : st.pending)
        buffered += p.buffered.size();
      add("troupe_events_delivered_total", st.delivered);
      add("troupe_handoff_buffered_events", buffered);
      add("troupe_handoff_buffer_refused_total", st.buffer_refused);
      add("troupe_vnode_handoffs_sent_total", st.handoffs_sent);
      add("troupe_vnode_handoffs_received_total", st.handoffs_received);
      add("troupe_duplicates_skipped_total", st.duplicates);
      add("troupe_fenced", st.fenced ? 1 : 0);
      return caf::make_message(std::move(names), std::move(values));
    },
    [self](instances_atom) {
      std::vector<std::string> out;
      for (auto& [key, inst] : self->state.instances)
        out.push_back(key.first + "/" + std::to_string(key.second) + "/running");
      return out;
    },
  };
}

} // namespace

caf::actor spawn_vnode_host(caf::actor_system& sys, vnode_host_config cfg,
                            std::shared_ptr<actor_stats> stats) {
  if (!cfg.registry)
    cfg.registry = std::make_shared<actor_registry>(cfg.node_name);
  return spawn_counted_as<host_actor>(
    sys, [cfg](host_actor* self) { return host(self, cfg); }, std::move(stats));
}

} // namespace troupe
