#include "actors/vnodes/vnodes.hpp"

#include "actors/errors.hpp"
#include "actors/api/counted_actor.hpp"
#include "actors/api/errors.hpp"
#include "actors/api/main_worker.hpp"
#include "actors/api/actor_stats.hpp"
#include "actors/handlers.hpp"
#include "actors/logging.hpp"
#include "actors/owed_promises.hpp"
#include "actors/router.hpp"
#include "actors/vnodes/vnode_actor.hpp"
#include "actors/wall_clock.hpp"
#include "actors/wire.hpp"
#include "actors/workload_pull.hpp"
#include "protocols/cluster_state/migration_table.hpp"
#include "protocols/cluster_state/state_machine.hpp"
#include "protocols/membership/types.hpp"

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <spdlog/spdlog.h>

#include <cstring>
#include <map>

namespace troupe {

namespace {

using respawn_atom = caf::atom_constant<caf::atom("vn_respawn")>;

struct slot_actor {
  vnode_actor handle;
  uint64_t reg_seq = 0;
  serving_gate gate = std::make_shared<std::atomic<uint64_t>>(0);  // kept across restarts
};

struct vnodes_state {
  std::shared_ptr<vnode_shared> shared;
  state::cluster_view view;
  uint64_t version = 0;
  bool have_view = false;
  bool fenced = false;
  std::string waiting_for;  // the migration deployments wait for ("": none)
  std::map<uint32_t, slot_actor> slots;
  std::map<caf::actor_addr, uint32_t> by_addr;
  std::map<uint32_t, std::shared_ptr<const slot_info>> infos;  // last sent to each slot
  owed_promises owed;  // batches waiting for their vnode actors' answers
  std::shared_ptr<spdlog::logger> log = logging::get("vnodes");

  const vnodes_config& cfg() const { return shared->cfg; }

  static inline const char* name = "troupe.vnodes";
};

// Besides its interface, the supervisor tells itself to start a crashed vnode actor again.
using vnodes_impl = vnodes_actor::extend<caf::reacts_to<respawn_atom, uint32_t>>;
using vnodes_class = vnodes_impl::stateful_base<vnodes_state>;
using vnodes_ptr = vnodes_class*;

// -- the vnode actors -----------------------------------------------------------------------------

vnode_actor spawn_slot(vnodes_ptr self, uint32_t slot) {
  auto& st = self->state;
  auto stats = std::make_shared<actor_stats>();
  auto& s = st.slots[slot];
  auto a = spawn_vnode_actor(self->system(), slot, st.shared, s.gate, stats);
  self->monitor(a);
  st.by_addr[a.address()] = slot;
  s.handle = a;
  if (s.reg_seq != 0) {
    st.cfg().registry->restarted(s.reg_seq, caf::actor_cast<caf::actor>(a), std::move(stats),
                                 wall_clock_ms());
  } else {
    actor_row row;
    row.name = vnode_name(slot);
    row.type = "vnode";
    row.kind = "vnode";
    row.supervisor = "vnodes";
    row.state = "running";
    row.started_ms = wall_clock_ms();
    row.handle = caf::actor_cast<caf::actor>(a);
    s.reg_seq = st.cfg().registry->add(std::move(row), std::move(stats));
  }
  if (auto it = st.infos.find(slot); it != st.infos.end())
    self->send(a, slot_view_atom::value, it->second);
  return a;
}

/// The actor of `slot`, started when it has none.
vnode_actor slot_of(vnodes_ptr self, uint32_t slot) {
  auto it = self->state.slots.find(slot);
  if (it != self->state.slots.end() && it->second.handle)
    return it->second.handle;
  return spawn_slot(self, slot);
}

// -- the cluster view -----------------------------------------------------------------------------

/// The migration deployments wait for ("" when all are done or none are registered).
std::string first_pending_migration(const vnodes_state& st) {
  if (!st.cfg().migrations)
    return {};
  std::vector<state::registered_migration> list;
  for (auto& m : st.cfg().migrations->all())
    list.push_back({m.id, m.idempotent});
  return state::first_pending(list, st.view.migrations);
}

/// What vnode `slot` is in the current view, for its actor.
std::shared_ptr<slot_info> info_of(vnodes_state& st, uint32_t slot) {
  auto info = std::make_shared<slot_info>();
  info->version = st.version;
  info->waiting_for = st.waiting_for;
  for (auto& [name, d] : st.view.deployments.all())
    if ((d.route == state::routing::singleton) == (slot == main_slot))
      info->deployments.push_back(d);
  auto& v = info->view;
  if (slot == main_slot) {
    v.owner = st.view.main.name();
    v.epoch = st.view.main.epoch();
    v.from = st.view.main.previous();
    v.handoff = st.view.main.handoff();
  } else {
    auto& vm = st.view.vnodes;
    v.owner = vm.owners()[slot];
    v.epoch = vm.epochs()[slot];
    v.from = vm.previous()[slot];
    v.handoff = vm.handoffs()[slot];
  }
  return info;
}

/// Gives every vnode actor that has a part in the view its part of it.
void distribute(vnodes_ptr self) {
  auto& st = self->state;
  bool singletons = false;
  for (auto& [name, d] : st.view.deployments.all())
    singletons = singletons || d.route == state::routing::singleton;
  std::vector<uint32_t> slots;
  for (uint32_t v = 0; v < st.view.vnodes.size(); ++v)
    slots.push_back(v);
  if (singletons || st.slots.count(main_slot))
    slots.push_back(main_slot);
  size_t gained = 0, handed = 0, owned = 0;
  for (auto slot : slots) {
    auto info = info_of(st, slot);
    bool mine = info->view.owner == st.cfg().node_name;
    auto before = st.infos.find(slot);
    bool was_mine = before != st.infos.end() && before->second->view.owner == st.cfg().node_name;
    gained += mine && !was_mine;
    handed += was_mine && !mine && info->view.handoff;
    owned += mine;
    st.infos[slot] = info;
    if (!mine && !st.slots.count(slot))
      continue; // never had it: no actor needed
    self->send(slot_of(self, slot), slot_view_atom::value,
               std::shared_ptr<const slot_info>{info});
  }
  if (gained + handed > 0)
    st.log->info("{} vnodes gained, {} handed over; {} owned", gained, handed, owned);
}

void log_migration_gate(vnodes_ptr self, const std::string& next) {
  auto& st = self->state;
  if (!next.empty() && st.waiting_for != next)
    st.log->info("deployments wait for migration {} ({})", next,
                 st.view.migrations.find(next)
                   ? state::to_string(st.view.migrations.find(next)->state)
                   : "pending");
  if (next.empty() && !st.waiting_for.empty())
    st.log->info("migrations done: starting deployments");
  st.waiting_for = next;
}

void on_workload(vnodes_ptr self, uint64_t version, const std::string& bytes) {
  auto& st = self->state;
  if (st.have_view && version < st.version)
    return;
  // Fenced, a view confirms this worker's vnodes only while its lease holds: one read while
  // it does not was sent before this worker lost its coordinator (queued while its process
  // was paused, say), and its ownership, main worker role included, may have moved since.
  // The view after its rejoin (or its next renewed heartbeat) confirms them.
  if (st.fenced && st.cfg().services
      && !st.cfg().services->lease().valid(clock_type::now())) {
    st.log->debug("a view read while the lease does not hold confirms nothing: ignored");
    return;
  }
  state::cluster_view view;
  if (!state::decode_view(bytes, view)) {
    st.log->error("a workload that does not decode was ignored");
    return;
  }
  // A view from before this worker's join may not show what moved while it was gone.
  if (auto inc = st.cfg().services ? st.cfg().services->lease().incarnation() : 0;
      inc != 0 && view.index < inc)
    return;
  st.version = version;
  st.have_view = true;
  st.view = std::move(view);
  if (st.cfg().services) // an undeployed deployment's missing type is no longer a problem
    st.cfg().services->problems().clear_unless(missing_type_key, [&](const std::string& key) {
      return st.view.deployments.find(key.substr(std::strlen(missing_type_key))) != nullptr;
    });
  auto main = st.view.main.name() == st.cfg().node_name ? st.view.main.epoch() : 0;
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
  log_migration_gate(self, first_pending_migration(st));
  distribute(self);
}

// -- events ---------------------------------------------------------------------------------------

/// Stops every vnode until the coordinator confirms this worker's vnodes again.
void fence(vnodes_ptr self, const char* why) {
  auto& st = self->state;
  if (st.fenced)
    return;
  st.fenced = true;
  detail::set_main_worker(0); // no longer main either, until confirmed again
  for (auto& [slot, s] : st.slots)
    if (s.handle)
      self->send(s.handle, fence_atom::value);
  st.log->warn("fenced ({}): every vnode stops until the coordinator confirms this worker's "
               "vnodes",
               why);
}

/// True while this worker may hand events on: not fenced, and its lease holds now (checked
/// at each delivery, so a worker that wakes from a pause longer than its lease fences itself
/// before it handles anything that waited).
bool serving(vnodes_ptr self) {
  auto& st = self->state;
  if (st.fenced)
    return false;
  if (st.cfg().services && !st.cfg().services->lease().valid(self->clock().now())) {
    fence(self, "its lease ran out");
    return false;
  }
  return true;
}

/// The vnode actor's slot for an event of `deployment` on `vnode`.
std::optional<uint32_t> slot_for(const vnodes_state& st, const std::string& deployment,
                                 uint32_t vnode) {
  auto* d = st.view.deployments.find(deployment);
  if (d && d->route == state::routing::singleton)
    return main_slot;
  if (vnode >= st.view.vnodes.size())
    return std::nullopt;
  return vnode;
}

/// True when the events of `slot` under `epoch` go to its actor here: this worker owns it
/// as far as it knows, or the sender saw a newer view (the actor waits for it).
bool goes_here(vnodes_state& st, uint32_t slot, uint64_t epoch) {
  auto it = st.infos.find(slot);
  if (it == st.infos.end())
    return epoch > 0 && st.have_view;
  auto& v = it->second->view;
  return v.owner == st.cfg().node_name || epoch > v.epoch;
}

caf::result<std::string> deliver(vnodes_ptr self, const std::string& dep, uint32_t vnode,
                                  uint64_t epoch, event& ev) {
  auto& st = self->state;
  if (!serving(self))
    return refuse(routing_errc::fenced, st.cfg().node_name + " is fenced: it lost its coordinator or lease");
  auto slot = slot_for(st, dep, vnode);
  if (!slot)
    return refuse(routing_errc::malformed, "vnode " + std::to_string(vnode) + " of " + dep + " does not exist");
  if (goes_here(st, *slot, epoch))
    return self->delegate(slot_of(self, *slot), deliver_atom::value, dep, epoch, std::move(ev));
  auto* d = st.view.deployments.find(dep);
  auto owner = d ? state::owner_of(st.view, *d, vnode) : std::string{};
  auto router = lookup_as<router_actor>(st.cfg().services, service::router);
  if (!owner.empty() && owner != st.cfg().node_name && router
      && ev.headers.count("troupe-passed-on") == 0) {
    // Sent by a node that has not seen the move yet: pass it on to the new owner, once
    // (two nodes that disagree about the owner must not pass an event back and forth).
    ev.headers["troupe-passed-on"] = st.cfg().node_name;
    return self->delegate(router, deliver_atom::value, dep, vnode, std::move(ev));
  }
  return refuse(routing_errc::not_served, "vnode " + std::to_string(vnode) + " of " + dep + " is not served by "
                + st.cfg().node_name);
}

/// A message of the user's own types, handed on to the vnode's actor with its request (the
/// instance answers the requester); an error to the requester when this worker does not
/// serve the vnode under that epoch (not passed on: a typed message is sent at most once).
void deliver_msg(vnodes_ptr self, const std::string& dep, uint32_t vnode, uint64_t epoch,
                 caf::message& msg) {
  auto& st = self->state;
  auto rp = self->make_response_promise();
  if (!serving(self)) {
    rp.deliver(refuse(routing_errc::fenced, st.cfg().node_name + " is fenced: it lost its coordinator or lease"));
    return;
  }
  auto slot = slot_for(st, dep, vnode);
  if (!slot)
    rp.deliver(refuse(routing_errc::malformed, "vnode " + std::to_string(vnode) + " of " + dep + " does not exist"));
  else if (!goes_here(st, *slot, epoch))
    rp.deliver(refuse(routing_errc::not_served, "vnode " + std::to_string(vnode) + " of " + dep
                                                  + " is not served by " + st.cfg().node_name));
  else
    rp.delegate(caf::actor_cast<caf::actor>(slot_of(self, *slot)), deliver_msg_atom::value, dep,
                epoch, std::move(msg));
}

/// A batch cut into one part per vnode actor, in input order within each part.
struct batch_part {
  std::vector<size_t> idx;
  std::vector<uint64_t> epochs;
  std::vector<std::string> keys, payloads;
  std::vector<uint64_t> seqs;
};

std::map<uint32_t, batch_part> split(vnodes_state& st, const std::string& dep,
                                     const std::vector<uint32_t>& vnodes,
                                     const std::vector<uint64_t>& epochs,
                                     std::vector<std::string>& keys,
                                     std::vector<std::string>& payloads,
                                     const std::vector<uint64_t>* seqs, std::string& problem) {
  std::map<uint32_t, batch_part> parts;
  for (size_t i = 0; i < vnodes.size(); ++i) {
    auto slot = slot_for(st, dep, vnodes[i]);
    if (!slot || !goes_here(st, *slot, epochs[i])) {
      problem = "vnode " + std::to_string(vnodes[i]) + " of " + dep + " is not running on "
                + st.cfg().node_name + " (yet)";
      return {};
    }
    auto& p = parts[*slot];
    p.idx.push_back(i);
    p.epochs.push_back(epochs[i]);
    p.keys.push_back(std::move(keys[i]));
    p.payloads.push_back(std::move(payloads[i]));
    if (seqs)
      p.seqs.push_back((*seqs)[i]);
  }
  return parts;
}

caf::result<uint64_t> deliver_batch(vnodes_ptr self, const std::string& dep,
                                    std::vector<uint32_t>& vnodes, std::vector<uint64_t>& epochs,
                                    std::vector<std::string>& keys,
                                    std::vector<std::string>& payloads) {
  auto& st = self->state;
  if (!serving(self) || vnodes.size() != epochs.size() || keys.size() != vnodes.size()
      || payloads.size() != vnodes.size())
    return uint64_t{0};
  std::string problem;
  auto parts = split(st, dep, vnodes, epochs, keys, payloads, nullptr, problem);
  // At most once, so no answer is awaited from a vnode that serves the part's epoch: its
  // events are accepted (what its actor would answer). The others (a vnode that has not seen
  // its new view yet, or one that moved) are asked, and answer how many they took.
  struct tally {
    size_t waiting = 1;
    uint64_t accepted = 0;
  };
  auto t = std::make_shared<tally>();
  auto owed = st.owed.add(self->make_response_promise());
  auto done = [self, t, owed]() mutable {
    if (--t->waiting == 0)
      self->state.owed.deliver(owed, t->accepted);
  };
  for (auto& [slot, p] : parts) {
    auto a = slot_of(self, slot);
    auto serving = st.slots[slot].gate->load(std::memory_order_acquire);
    if (serving != 0
        && std::all_of(p.epochs.begin(), p.epochs.end(), [&](uint64_t e) { return e == serving; })) {
      t->accepted += p.keys.size();
      caf::anon_send(a, deliver_batch_atom::value, dep, std::move(p.epochs), std::move(p.keys),
                     std::move(p.payloads));
      continue;
    }
    ++t->waiting;
    self
      ->request(a, std::chrono::seconds(5), deliver_batch_atom::value, dep, std::move(p.epochs),
                std::move(p.keys), std::move(p.payloads))
      .then(
        [t, done](uint64_t n) mutable {
          t->accepted += n;
          done();
        },
        [done](const caf::error&) mutable { done(); });
  }
  done();
  return caf::delegated<uint64_t>{};
}

caf::result<std::vector<std::string>>
deliver_batch_reliably(vnodes_ptr self, const std::string& dep, std::vector<uint32_t>& vnodes,
                       std::vector<uint64_t>& epochs, std::vector<std::string>& keys,
                       std::vector<std::string>& payloads, uint64_t sender,
                       std::vector<uint64_t>& seqs) {
  auto& st = self->state;
  if (!serving(self))
    return refuse(routing_errc::fenced, st.cfg().node_name + " is fenced: it lost its coordinator or lease");
  auto n = vnodes.size();
  if (epochs.size() != n || keys.size() != n || payloads.size() != n || seqs.size() != n)
    return refuse(routing_errc::malformed, "malformed batch");
  std::string problem;
  auto parts = split(st, dep, vnodes, epochs, keys, payloads, &seqs, problem);
  if (!problem.empty())
    return refuse(routing_errc::not_served, problem);
  auto g = std::make_shared<reply_gather>();
  g->replies.resize(n);
  g->waiting = parts.size();
  auto owed = st.owed.add(self->make_response_promise());
  if (parts.empty())
    st.owed.deliver(owed, std::move(g->replies));
  for (auto& [slot, p] : parts)
    self
      ->request(slot_of(self, slot), std::chrono::seconds(20), deliver_batch_atom::value, dep,
                std::move(p.epochs), std::move(p.keys), std::move(p.payloads), sender,
                std::move(p.seqs))
      .then(
        [self, g, owed, idx = p.idx](std::vector<std::string>& replies) mutable {
          for (size_t k = 0; k < idx.size() && k < replies.size(); ++k)
            g->replies[idx[k]] = std::move(replies[k]);
          g->one_done(self->state.owed, owed);
        },
        [self, g, owed](caf::error& err) { g->fail(self->state.owed, owed, std::move(err)); });
  return caf::delegated<std::vector<std::string>>{};
}

// -- the actor ------------------------------------------------------------------------------------

void on_slot_down(vnodes_ptr self, const caf::down_msg& dm) {
  auto& st = self->state;
  auto it = st.by_addr.find(dm.source);
  if (it == st.by_addr.end())
    return;
  auto slot = it->second;
  st.by_addr.erase(it);
  auto& s = st.slots[slot];
  s.handle = vnode_actor{};
  s.gate->store(0, std::memory_order_release); // it crashed: it serves nothing
  st.cfg().registry->exited(s.reg_seq, self->system().render(dm.reason), "restarting");
  st.log->warn("{} exited ({}): starting it again", vnode_name(slot),
               self->system().render(dm.reason));
  self->delayed_send(self, st.cfg().restart_delay, respawn_atom::value, slot);
}

auto handoff_handlers(vnodes_ptr self) {
  // From other workers (through the router and the ingress): to the vnode's actor, which is
  // started for them when there is none (an early state waits there for its view).
  return std::make_tuple(
    [self](vnode_state_atom, uint32_t vnode, uint64_t epoch, std::vector<std::string>& deps,
           std::vector<std::string>& states, std::vector<std::string>& seen) {
      self->send(slot_of(self, vnode), vnode_state_atom::value, epoch, std::move(deps),
                 std::move(states), std::move(seen));
    },
    [self](vnode_no_state_atom, uint32_t vnode, uint64_t epoch, std::string& ask_instead) {
      self->send(slot_of(self, vnode), vnode_no_state_atom::value, epoch, std::move(ask_instead));
    },
    [self](vnode_request_atom, uint32_t vnode, uint64_t epoch, std::string& requester) {
      self->send(slot_of(self, vnode), vnode_request_atom::value, epoch, std::move(requester));
    }
  );
}

auto listing_handlers(vnodes_ptr self) {
  return std::make_tuple(
    [self](instances_atom) {
      std::vector<std::string> out;
      for (auto& r : self->state.cfg().registry->all())
        if (r.kind == "instance" && r.state == "running" && r.supervisor.rfind("vnode-", 0) == 0) {
          auto colon = r.name.rfind(':'); // "<deployment>:<vnode>"
          out.push_back(r.name.substr(0, colon) + "/" + r.name.substr(colon + 1) + "/running");
        }
      return out;
    },
    [self](instances_atom, const std::string& dep, uint32_t vnode) -> caf::result<caf::actor> {
      auto slot = slot_for(self->state, dep, vnode);
      auto it = slot ? self->state.slots.find(*slot) : self->state.slots.end();
      if (it == self->state.slots.end() || !it->second.handle)
        return caf::actor{};
      return self->delegate(it->second.handle, instances_atom::value, dep);
    },
    [self](metrics_atom) -> metrics_result {
      auto& st = self->state;
      auto& c = st.shared->counters;
      std::vector<std::string> names;
      std::vector<uint64_t> values;
      auto add = [&](std::string n, uint64_t v) {
        names.push_back(std::move(n));
        values.push_back(v);
      };
      std::map<std::string, uint64_t> per_deployment;
      for (auto& r : st.cfg().registry->all())
        if (r.kind == "instance" && r.state == "running")
          ++per_deployment[r.name.substr(0, r.name.rfind(':'))];
      for (auto& [name, d] : st.view.deployments.all())
        add("troupe_instances;deployment;" + name, per_deployment[name]);
      add("troupe_events_delivered_total", c.delivered);
      add("troupe_handoff_buffered_events", c.buffered);
      add("troupe_handoff_buffer_refused_total", c.buffer_refused);
      add("troupe_vnode_handoffs_sent_total", c.handoffs_sent);
      add("troupe_vnode_handoffs_received_total", c.handoffs_received);
      add("troupe_duplicates_skipped_total", c.duplicates);
      add("troupe_fenced", st.fenced ? 1 : 0);
      return {std::move(names), std::move(values)};
    }
  );
}

vnodes_impl::behavior_type vnodes_behavior(vnodes_ptr self, vnodes_config cfg) {
  auto& st = self->state;
  st.shared = std::make_shared<vnode_shared>();
  st.shared->cfg = std::move(cfg);
  if (!st.shared->cfg.registry)
    st.shared->cfg.registry = std::make_shared<actor_registry>(st.shared->cfg.node_name);
  st.shared->writer = spawn_record_writer(self->system(), {st.shared->cfg.services});
  self->set_down_handler([self](caf::down_msg& dm) { on_slot_down(self, dm); });
  // The vnode actors are not linked to it: it stops them itself when it is told to exit (they
  // stop their instances), so that none outlives it.
  self->set_exit_handler([self](caf::exit_msg& em) {
    self->state.owed.fail_all(refuse(routing_errc::stopped, self->state.cfg().node_name
                                     + "'s vnodes stopped before the events were confirmed"));
    for (auto& [slot, s] : self->state.slots)
      if (s.handle) {
        self->demonitor(s.handle.address());
        self->send_exit(s.handle, em.reason);
        self->state.cfg().registry->remove(s.reg_seq);
      }
    self->state.slots.clear();
    self->send_exit(self->state.shared->writer, em.reason);
    self->quit(std::move(em.reason));
  });
  pull_workload(self, st.cfg().services); // a restarted supervisor missed the views
  return join_handlers<vnodes_impl::behavior_type>(handoff_handlers(self), listing_handlers(self),
                                                   std::make_tuple(
    [self](workload_atom, uint64_t version, const std::string& bytes) {
      on_workload(self, version, bytes);
    },
    [self](fence_atom) { fence(self, "lost its coordinator"); },
    [self](respawn_atom, uint32_t slot) {
      auto it = self->state.slots.find(slot);
      if (it != self->state.slots.end() && !it->second.handle)
        spawn_slot(self, slot);
    },
    [self](deliver_atom, const std::string& dep, uint32_t vnode, uint64_t epoch,
           event& ev) -> caf::result<std::string> {
      return deliver(self, dep, vnode, epoch, ev);
    },
    [self](deliver_msg_atom, const std::string& dep, uint32_t vnode, uint64_t epoch,
           caf::message& msg) { deliver_msg(self, dep, vnode, epoch, msg); },
    [self](deliver_batch_atom, const std::string& dep, std::vector<uint32_t>& vnodes,
           std::vector<uint64_t>& epochs, std::vector<std::string>& keys,
           std::vector<std::string>& payloads) {
      return deliver_batch(self, dep, vnodes, epochs, keys, payloads);
    },
    [self](deliver_batch_atom, const std::string& dep, std::vector<uint32_t>& vnodes,
           std::vector<uint64_t>& epochs, std::vector<std::string>& keys,
           std::vector<std::string>& payloads, uint64_t sender, std::vector<uint64_t>& seqs) {
      return deliver_batch_reliably(self, dep, vnodes, epochs, keys, payloads, sender, seqs);
    }
  ));
}

} // namespace

vnodes_actor spawn_vnodes(caf::actor_system& sys, vnodes_config cfg,
                          std::shared_ptr<actor_stats> stats) {
  return spawn_counted_as<vnodes_class>(
    sys, [cfg](vnodes_ptr self) { return vnodes_behavior(self, cfg); }, std::move(stats));
}

} // namespace troupe
