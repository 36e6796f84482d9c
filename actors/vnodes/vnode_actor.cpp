#include "actors/vnodes/vnode_actor.hpp"
#include "actors/vnodes/vnode_actor_state.hpp"

#include "actors/errors.hpp"
#include "actors/api/counted_actor.hpp"
#include "actors/api/errors.hpp"
#include "actors/api/event.hpp"
#include "actors/owed_promises.hpp"
#include "actors/api/actor_stats.hpp"
#include "actors/handlers.hpp"
#include "actors/logging.hpp"
#include "actors/raft/raft_actor.hpp"
#include "actors/router.hpp"
#include "actors/vnodes/seen_table.hpp"
#include "actors/wall_clock.hpp"
#include "actors/wire.hpp"
#include "protocols/ownership/lease.hpp"

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <spdlog/spdlog.h>

#include <deque>
#include <functional>
#include <map>
#include <random>
#include <set>

namespace troupe {

namespace own = troupe::ownership;

std::string vnode_name(uint32_t slot) {
  return slot == main_slot ? std::string{"vnode-main"} : "vnode-" + std::to_string(slot);
}

namespace vnode_internal {

// -- instances ------------------------------------------------------------------------------------

void list_instance(vnode_ptr self, const state::deployment_spec& d, const caf::actor& a,
                   std::shared_ptr<actor_stats> stats) {
  auto& st = self->state;
  auto& reg = *st.cfg().registry;
  if (auto r = st.reg_seq.find(d.name); r != st.reg_seq.end()) {
    reg.restarted(r->second, a, std::move(stats), wall_clock_ms());
    return;
  }
  actor_row row;
  row.name = d.name + ":" + std::to_string(ctx_vnode(st));
  row.type = d.type;
  row.kind = "instance";
  row.supervisor = vnode_name(st.slot);
  row.state = "running";
  row.started_ms = wall_clock_ms();
  row.handle = a;
  st.reg_seq[d.name] = reg.add(std::move(row), std::move(stats));
}


instance* start_instance(vnode_ptr self, const state::deployment_spec& d,
                         const std::string& snapshot, uint64_t claim, bool written) {
  auto& st = self->state;
  auto ctx = std::make_shared<const context>(
    context{d.name, ctx_vnode(st), d.config, st.cfg().data_dir, {}, st.cfg().services});
  auto stats = std::make_shared<actor_stats>();
  auto a = st.cfg().types ? st.cfg().types->spawn(d.type, self->system(), ctx, stats)
                          : caf::actor{};
  if (!a) {
    if (st.unknown_types.insert(d.name).second) {
      std::string known;
      for (auto& n : st.cfg().types ? st.cfg().types->names() : std::vector<std::string>{})
        known += (known.empty() ? "" : ", ") + n;
      auto why = "deployment " + d.name + " needs actor type '" + d.type
                 + "', which this node does not have (it has: "
                 + (known.empty() ? std::string{"none"} : known) + ")";
      // Logged once a node, not once a vnode.
      if (!st.cfg().services || st.cfg().services->problems().set(missing_type_key + d.name, why))
        st.log->error("{}", why);
    }
    return nullptr;
  }
  if (st.unknown_types.erase(d.name) > 0 && st.cfg().services)
    st.cfg().services->problems().clear(missing_type_key + d.name); // it has the type now
  self->monitor(a);
  st.by_addr[a.address()] = d.name;
  auto& inst = st.instances[d.name];
  inst = instance{};
  inst.handle = a;
  inst.last_snapshot = self->clock().now();
  inst.claim = claim;
  if (written)
    inst.last_written = snapshot;
  else
    inst.snapshotted = ~uint64_t{0}; // a handed-over state its record does not have yet
  list_instance(self, d, a, std::move(stats));
  if (!snapshot.empty())
    // Before any event: the mailbox keeps order.
    self->send(caf::actor_cast<instance_actor>(a), restore_atom::value, snapshot);
  if (!written)
    start_snapshot_ticks(self);
  return &inst;
}

void drop_instance(vnode_ptr self, const std::string& name) {
  auto& st = self->state;
  auto it = st.instances.find(name);
  if (it == st.instances.end())
    return;
  if (it->second.durable)
    fail_durable_batches(self, it->second, name + " on " + what(self) + " stopped");
  self->demonitor(it->second.handle);
  self->send_exit(it->second.handle, caf::exit_reason::user_shutdown);
  st.by_addr.erase(it->second.handle.address());
  if (auto r = st.reg_seq.find(name); r != st.reg_seq.end()) {
    st.cfg().registry->remove(r->second);
    st.reg_seq.erase(r);
  }
  st.instances.erase(it);
}

void stop_instances(vnode_ptr self) {
  auto& st = self->state;
  for (auto& [name, inst] : st.instances) {
    if (inst.durable)
      fail_durable_batches(self, inst, name + " on " + what(self) + " stopped");
    self->demonitor(inst.handle);
    self->send_exit(inst.handle, caf::exit_reason::user_shutdown);
    if (auto r = st.reg_seq.find(name); r != st.reg_seq.end())
      st.cfg().registry->remove(r->second);
  }
  st.instances.clear();
  st.by_addr.clear();
  st.reg_seq.clear();
}

/// While serving: one instance per deployment of the slot, unless the deployments wait for a
/// migration; instances of deployments that went away stop.
void reconcile(vnode_ptr self) {
  auto& st = self->state;
  if (!st.info || st.core->phase() != own::vnode_phase::serving)
    return;
  std::vector<std::string> gone;
  for (auto& [name, inst] : st.instances)
    if (auto* d = deployment(st, name); !d || (inst.durable && inst.durable->id.created != d->created))
      gone.push_back(name);
  for (auto& name : gone) {
    drop_instance(self, name);
    st.seen.erase(name);
  }
  if (!st.info->waiting_for.empty())
    return; // deployments start once the registered migrations are done
  for (auto& d : st.info->deployments) {
    if (st.instances.count(d.name) || st.claiming.count(d.name))
      continue;
    std::optional<std::string> handed;
    if (auto s = st.states.find(d.name); s != st.states.end()) {
      handed = std::move(s->second);
      st.states.erase(s);
    }
    if (d.durable || snapshot_every(d).count() > 0)
      start_from_record(self, d, std::move(handed));
    else
      start_instance(self, d, handed.value_or(std::string{}), 0, true);
  }
}

// -- the ownership core's effects ---------------------------------------------------------------

/// Sends `msg` to worker `to`'s vnodes, through this node's router.
void to_worker(vnode_ptr self, const std::string& to, caf::message msg) {
  if (auto router = lookup_as<router_actor>(self->state.cfg().services, service::router))
    self->send(router, forward_atom::value, to, std::move(msg));
}

/// The old owner's side of a hand-over: snapshot every instance, stop them, ship the states.
void hand_over(vnode_ptr self, const std::string& to, uint64_t epoch) {
  auto& st = self->state;
  struct gather {
    std::vector<std::string> deployments, states, seen;
    size_t waiting = 0;
  };
  auto g = std::make_shared<gather>();
  auto instances = std::move(st.instances);
  auto seen = std::move(st.seen);
  st.instances.clear();
  st.seen.clear();
  st.by_addr.clear();
  for (auto& [name, inst] : instances) {
    if (inst.durable) // its record has every logged event: the new owner replays them
      fail_durable_batches(self, inst, what(self) + " moved to " + to);
    self->demonitor(inst.handle); // it stops on purpose: no restart
    if (auto r = st.reg_seq.find(name); r != st.reg_seq.end())
      st.cfg().registry->remove(r->second);
  }
  st.reg_seq.clear();
  auto finish = [self, g, to, epoch] {
    ++self->state.shared->counters.handoffs_sent;
    to_worker(self, to,
              caf::make_message(vnode_state_atom::value, self->state.slot, epoch, g->deployments,
                                g->states, g->seen));
  };
  g->waiting = instances.size();
  if (g->waiting == 0)
    return finish();
  for (auto& [name, inst] : instances) {
    auto seen_text = encode_seen(seen[name]);
    self->request(inst.handle, milliseconds(1000), snapshot_atom::value)
      .then(
        [self, g, finish, name, seen_text, h = inst.handle](std::string& bytes) {
          g->deployments.push_back(name);
          g->states.push_back(std::move(bytes));
          g->seen.push_back(seen_text);
          self->send_exit(h, caf::exit_reason::user_shutdown);
          if (--g->waiting == 0)
            finish();
        },
        [self, g, finish, name, seen_text, h = inst.handle](const caf::error&) {
          g->deployments.push_back(name); // no snapshot hook: it starts empty there
          g->states.emplace_back();
          g->seen.push_back(seen_text);
          self->send_exit(h, caf::exit_reason::user_shutdown);
          if (--g->waiting == 0)
            finish();
        });
  }
}

void release_waiting(vnode_ptr self, bool serve) {
  auto& st = self->state;
  auto waiting = std::move(st.waiting);
  st.waiting.clear();
  st.shared->counters.buffered -= st.waiting_events;
  st.waiting_events = 0;
  for (auto& w : waiting)
    w(serve);
}

/// While awaiting a state, the core is told the time every 50 ms (it asks again, or gives
/// up waiting); no timer runs otherwise.
void start_ticking(vnode_ptr self) {
  if (self->state.ticking)
    return;
  self->state.ticking = true;
  self->delayed_send(self, milliseconds(50), vnode_tick_atom::value);
}

void publish_phase(vnode_actor_state& st) {
  st.gate->store(st.core->phase() == own::vnode_phase::serving ? st.core->epoch() : 0,
                 std::memory_order_release);
}

void apply_effects(vnode_ptr self, const own::vnode_effects& fx) {
  auto& st = self->state;
  if (fx.stop || fx.hand_over_to || fx.ask_state_from || fx.no_state_to)
    st.log->debug("{}: {}{}{}{} (epoch {})", what(self), fx.stop ? "stops" : "",
                  fx.hand_over_to ? ", hands its state over to " + *fx.hand_over_to : "",
                  fx.ask_state_from ? "asks " + *fx.ask_state_from + " for its state" : "",
                  fx.no_state_to ? "has no state for " + *fx.no_state_to : "", fx.epoch);
  if (fx.stop) {
    if (fx.hand_over_to)
      hand_over(self, *fx.hand_over_to, fx.epoch);
    else
      stop_instances(self);
    st.seen.clear();
  }
  if (fx.no_state_to)
    to_worker(self, *fx.no_state_to,
              caf::make_message(vnode_no_state_atom::value, st.slot, fx.epoch, fx.ask_instead));
  if (fx.ask_state_from)
    to_worker(self, *fx.ask_state_from,
              caf::make_message(vnode_request_atom::value, st.slot, fx.epoch,
                                st.cfg().node_name));
  if (fx.drop_buffer)
    release_waiting(self, false);
  publish_phase(st);
  if (fx.start) {
    if (!fx.from_state)
      st.states.clear();
    if (!fx.gave_up_on.empty()) // what its instances held there is lost: operators must know
      st.log->warn("{} starts afresh at epoch {}: no state came from its old owner {} in time",
                   what(self), st.core->epoch(), fx.gave_up_on);
    st.log->debug("{} served from epoch {} ({})", what(self), st.core->epoch(),
                  fx.from_state ? "its old owner's state" : "afresh");
    reconcile(self);
    release_waiting(self, true);
  }
  if (st.core->phase() == own::vnode_phase::awaiting)
    start_ticking(self);
}

// -- events -------------------------------------------------------------------------------------

/// Why an event under `epoch` cannot be handled here now (not waiting either).
std::string not_here(vnode_ptr self, uint64_t epoch) {
  auto& st = self->state;
  if (st.core->phase() == own::vnode_phase::serving && epoch < st.core->epoch())
    return what(self) + " changed owner at epoch " + std::to_string(st.core->epoch())
           + " (the event was routed under epoch " + std::to_string(epoch) + "): send it again";
  return what(self) + " is not served by " + st.cfg().node_name;
}

/// Why a deployment's instance does not run on a served vnode.
std::string not_running(vnode_ptr self, const std::string& dep) {
  auto& st = self->state;
  if (st.info && !st.info->waiting_for.empty())
    return dep + " has not started on " + st.cfg().node_name
           + ": deployments wait for migration " + st.info->waiting_for
           + " (see troupe ctl migrations)";
  return dep + " does not run on " + what(self) + " of " + st.cfg().node_name + " (yet)";
}

/// Queues work until the vnode is served; false when the buffer is full.
bool wait_for_state(vnode_ptr self, size_t events, std::function<void(bool)> work) {
  auto& st = self->state;
  if (st.waiting_events + events > st.cfg().handoff_buffer) {
    st.shared->counters.buffer_refused += events;
    return false;
  }
  st.waiting_events += events;
  st.shared->counters.buffered += events;
  st.waiting.push_back(std::move(work));
  return true;
}

/// Counts `n` events handed to `inst`; its deployment's snapshots start ticking if they wait.
void delivered_to(vnode_ptr self, instance& inst, uint64_t n) {
  self->state.shared->counters.delivered += n;
  inst.delivered += n;
  start_snapshot_ticks(self);
}

caf::result<std::string> deliver_one(vnode_ptr self, const std::string& dep, uint64_t epoch,
                                      event& ev) {
  auto& st = self->state;
  if (auto* d = deployment(st, dep); d && d->durable)
    return refuse(routing_errc::malformed, dep + " is durable: its events are sent at least once");
  if (st.core->admits(epoch)) {
    auto it = st.instances.find(dep);
    if (it == st.instances.end())
      return refuse(routing_errc::not_served, not_running(self, dep));
    delivered_to(self, it->second, 1);
    return self->delegate(caf::actor_cast<instance_actor>(it->second.handle), std::move(ev));
  }
  if (!st.core->buffers(epoch))
    return refuse(routing_errc::not_served, not_here(self, epoch));
  auto rp = self->make_response_promise();
  auto queued = wait_for_state(self, 1, [self, rp, dep, epoch, ev](bool serve) mutable {
    auto& st = self->state;
    auto it = st.instances.find(dep);
    if (!serve || !st.core->admits(epoch) || it == st.instances.end()) {
      rp.deliver(refuse(routing_errc::not_served, serve ? not_running(self, dep) : not_here(self, epoch)));
      return;
    }
    delivered_to(self, it->second, 1);
    rp.delegate(it->second.handle, std::move(ev));
  });
  if (!queued)
    return refuse(routing_errc::buffer_full, what(self) + " is moving and its buffer of "
                  + std::to_string(st.cfg().handoff_buffer) + " events is full");
  return rp;
}

/// A message of the user's own types: handed on to the instance with the request it came with,
/// so that the instance's reply (of whatever type) goes to the requester.
void deliver_msg(vnode_ptr self, const std::string& dep, uint64_t epoch, caf::message& msg) {
  auto& st = self->state;
  auto rp = self->make_response_promise();
  if (auto* d = deployment(st, dep); d && d->durable) {
    rp.deliver(refuse(routing_errc::malformed, dep + " is durable: its instances take troupe::event "
                                                     "only, which is logged"));
    return;
  }
  auto hand = [self, dep](caf::response_promise& rp, caf::message& msg) {
    auto it = self->state.instances.find(dep);
    if (it == self->state.instances.end()) {
      rp.deliver(refuse(routing_errc::not_served, not_running(self, dep)));
      return;
    }
    delivered_to(self, it->second, 1);
    rp.delegate(it->second.handle, std::move(msg));
  };
  if (st.core->admits(epoch))
    return hand(rp, msg);
  if (!st.core->buffers(epoch)) {
    rp.deliver(refuse(routing_errc::not_served, not_here(self, epoch)));
    return;
  }
  auto queued = wait_for_state(self, 1, [self, rp, epoch, msg, hand](bool serve) mutable {
    if (!serve || !self->state.core->admits(epoch))
      rp.deliver(refuse(routing_errc::not_served, not_here(self, epoch)));
    else
      hand(rp, msg);
  });
  if (!queued)
    rp.deliver(refuse(routing_errc::buffer_full, what(self) + " is moving and its buffer of "
                      + std::to_string(st.cfg().handoff_buffer) + " events is full"));
}

/// At-most-once events of one deployment, fire and forget; returns how many were handed on.
uint64_t deliver_unreliable(vnode_ptr self, const std::string& dep,
                            std::vector<std::string>& keys, std::vector<std::string>& payloads) {
  auto& st = self->state;
  auto it = st.instances.find(dep);
  if (it == st.instances.end() || it->second.durable)
    return 0; // a durable instance is given only logged events
  auto n = std::min(keys.size(), payloads.size());
  for (size_t i = 0; i < n; ++i)
    // Anonymous: the instance's reply has nowhere to go, as the sender asked.
    caf::anon_send(it->second.handle, event{std::move(keys[i]), std::move(payloads[i]), {}});
  delivered_to(self, it->second, n);
  return n;
}

/// At-least-once events of one deployment (reliable_batch): an event whose (sender, seq) the
/// instance already handled is skipped.
void deliver_reliable(vnode_ptr self, const std::string& dep, std::vector<std::string> keys,
                      std::vector<std::string> payloads, uint64_t sender,
                      std::vector<uint64_t> seqs, caf::response_promise rp) {
  auto& st = self->state;
  auto it = st.instances.find(dep);
  if (it == st.instances.end()) {
    rp.deliver(refuse(routing_errc::not_served, not_running(self, dep)));
    return;
  }
  auto b = std::make_shared<reliable_batch>();
  b->owed = st.owed.add(std::move(rp));
  b->dep = dep;
  b->sender = sender;
  b->sender_text = std::to_string(sender);
  if (it->second.durable)
    return deliver_durable(self, dep, it->second, std::move(b), std::move(keys),
                           std::move(payloads), std::move(seqs));
  auto n = keys.size();
  b->replies.resize(n);
  std::vector<size_t> fresh; // the events this instance has not handled yet
  auto& seen = st.seen[dep][sender];
  for (size_t i = 0; i < n; ++i)
    if (seen.contains(seqs[i]))
      ++st.shared->counters.duplicates; // a retry of an event this instance already handled
    else
      fresh.push_back(i);
  b->waiting = fresh.size();
  if (!fresh.empty())
    delivered_to(self, it->second, fresh.size());
  for (auto i : fresh) {
    event ev{std::move(keys[i]), std::move(payloads[i]),
             {{sender_header, b->sender_text}, {sequence_header, std::to_string(seqs[i])}}};
    // Only the batch's last event carries a deadline: a timer per event costs CAF's clock
    // thread more than the instance's work, and an instance answers in order as a rule (one
    // that does not is still bounded by the router's timeout, after which it retries).
    auto deadline = i == fresh.back() ? caf::duration{std::chrono::seconds(10)}
                                      : caf::duration{caf::infinite};
    self->request(it->second.handle, deadline, std::move(ev))
      .then(
        [self, b, i, seq = seqs[i]](std::string& reply) {
          self->state.seen[b->dep][b->sender].insert(seq);
          b->replies[i] = std::move(reply);
          b->one_done(self->state.owed, b->owed);
        },
        [self, b](caf::error& err) { b->fail(self->state.owed, b->owed, std::move(err)); });
  }
  if (b->waiting == 0)
    st.owed.deliver(b->owed, std::move(b->replies));
}

/// The epoch every event of a batch was routed under (they come from one router's view).
std::optional<uint64_t> one_epoch(const std::vector<uint64_t>& epochs) {
  if (epochs.empty())
    return std::nullopt;
  for (auto e : epochs)
    if (e != epochs.front())
      return std::nullopt;
  return epochs.front();
}

caf::result<std::vector<std::string>>
deliver_batch_reliably(vnode_ptr self, const std::string& dep, std::vector<uint64_t>& epochs,
                       std::vector<std::string>& keys, std::vector<std::string>& payloads,
                       uint64_t sender, std::vector<uint64_t>& seqs) {
  auto& st = self->state;
  auto epoch = one_epoch(epochs);
  if (!epoch || keys.size() != epochs.size() || payloads.size() != epochs.size()
      || seqs.size() != epochs.size())
    return refuse(routing_errc::malformed, "malformed batch");
  auto rp = self->make_response_promise();
  if (st.core->admits(*epoch)) {
    deliver_reliable(self, dep, std::move(keys), std::move(payloads), sender, std::move(seqs), rp);
    return rp;
  }
  if (!st.core->buffers(*epoch))
    return refuse(routing_errc::not_served, not_here(self, *epoch));
  auto work = [self, dep, e = *epoch, keys = std::move(keys), payloads = std::move(payloads),
               sender, seqs = std::move(seqs), rp](bool serve) mutable {
    if (!serve || !self->state.core->admits(e)) {
      rp.deliver(refuse(routing_errc::not_served, not_here(self, e)));
      return;
    }
    deliver_reliable(self, dep, std::move(keys), std::move(payloads), sender, std::move(seqs),
                     rp);
  };
  if (!wait_for_state(self, epochs.size(), std::move(work)))
    return refuse(routing_errc::buffer_full, what(self) + " is moving and its buffer of "
                  + std::to_string(st.cfg().handoff_buffer) + " events is full");
  return rp;
}

// -- the actor ----------------------------------------------------------------------------------

void on_view(vnode_ptr self, std::shared_ptr<const slot_info> info) {
  auto& st = self->state;
  if (st.info && info->version < st.info->version)
    return;
  st.info = std::move(info);
  apply_effects(self, st.core->on_view(st.info->view, self->clock().now()));
  reconcile(self); // deployments added or removed, or a migration done
  // Work that waited for a view this worker now has, and that will not be served here.
  if (st.core->phase() == own::vnode_phase::idle && !st.waiting.empty())
    release_waiting(self, false);
  start_snapshot_ticks(self);
}

void on_instance_down(vnode_ptr self, const caf::down_msg& dm) {
  auto& st = self->state;
  auto it = st.by_addr.find(dm.source);
  if (it == st.by_addr.end())
    return;
  auto name = it->second;
  st.by_addr.erase(it);
  if (auto i = st.instances.find(name); i != st.instances.end() && i->second.durable)
    fail_durable_batches(self, i->second, name + " on " + what(self) + " crashed");
  st.instances.erase(name);
  if (auto r = st.reg_seq.find(name); r != st.reg_seq.end())
    st.cfg().registry->exited(r->second, self->system().render(dm.reason), "restarting");
  st.log->warn("instance of {} on {} died ({}): starting it again", name, what(self),
               self->system().render(dm.reason));
  restart_soon(self);
}

auto ownership_handlers(vnode_ptr self) {
  return std::make_tuple(
    [self](slot_view_atom, std::shared_ptr<const slot_info>& info) { on_view(self, info); },
    [self](fence_atom) {
      auto& st = self->state;
      apply_effects(self, st.core->fence());
      st.info = nullptr; // the next view is taken afresh
    },
    [self](vnode_state_atom, uint64_t epoch, std::vector<std::string>& deps,
           std::vector<std::string>& states, std::vector<std::string>& seen) {
      auto& st = self->state;
      ++st.shared->counters.handoffs_received;
      for (size_t i = 0; i < deps.size() && i < states.size(); ++i) {
        st.states[deps[i]] = std::move(states[i]);
        if (i < seen.size())
          for (auto& [sender, seqs] : decode_seen(seen[i]))
            for (auto seq : seqs)
              st.seen[deps[i]][sender].insert(seq);
      }
      apply_effects(self, st.core->on_state(epoch, self->clock().now()));
    },
    [self](vnode_no_state_atom, uint64_t epoch, const std::string& ask_instead) {
      apply_effects(self, self->state.core->on_no_state(epoch, ask_instead, self->clock().now()));
    },
    [self](vnode_request_atom, uint64_t epoch, const std::string& requester) {
      apply_effects(self, self->state.core->on_request(epoch, requester, self->clock().now()));
    },
    [self](vnode_tick_atom) {
      auto& st = self->state;
      st.ticking = false;
      apply_effects(self, st.core->on_tick(self->clock().now())); // ticks on while awaiting
    }
  );
}

auto event_handlers(vnode_ptr self) {
  return std::make_tuple(
    [self](deliver_atom, const std::string& dep, uint64_t epoch,
           event& ev) -> caf::result<std::string> { return deliver_one(self, dep, epoch, ev); },
    [self](deliver_msg_atom, const std::string& dep, uint64_t epoch, caf::message& msg) {
      deliver_msg(self, dep, epoch, msg);
    },
    [self](deliver_batch_atom, const std::string& dep, std::vector<uint64_t>& epochs,
           std::vector<std::string>& keys, std::vector<std::string>& payloads) -> uint64_t {
      auto epoch = one_epoch(epochs);
      if (!epoch || !self->state.core->admits(*epoch))
        return 0;
      return deliver_unreliable(self, dep, keys, payloads);
    },
    [self](deliver_batch_atom, const std::string& dep, std::vector<uint64_t>& epochs,
           std::vector<std::string>& keys, std::vector<std::string>& payloads, uint64_t sender,
           std::vector<uint64_t>& seqs) -> caf::result<std::vector<std::string>> {
      return deliver_batch_reliably(self, dep, epochs, keys, payloads, sender, seqs);
    },
    [self](instances_atom) {
      std::vector<std::string> out;
      for (auto& [name, inst] : self->state.instances)
        out.push_back(name + "/" + std::to_string(ctx_vnode(self->state)) + "/running");
      return out;
    },
    [self](instances_atom, const std::string& dep) {
      auto it = self->state.instances.find(dep);
      return it == self->state.instances.end() ? caf::actor{} : it->second.handle;
    }
  );
}

vnode_impl::behavior_type vnode_behavior(vnode_ptr self, uint32_t slot, std::shared_ptr<vnode_shared> shared,
                             serving_gate gate) {
  auto& st = self->state;
  st.slot = slot;
  st.shared = std::move(shared);
  st.gate = std::move(gate);
  st.core.emplace(st.cfg().node_name, ownership::reassign_after(st.cfg().lease));
  publish_phase(st);
  {
    std::random_device rd;
    st.kv_client = (static_cast<uint64_t>(rd()) << 32) | rd();
  }
  self->set_down_handler([self](caf::down_msg& dm) { on_instance_down(self, dm); });
  // The instances are not linked to it (one crashing must not take the others down): it
  // stops them itself when it is told to exit, and answers whatever waits.
  self->set_exit_handler([self](caf::exit_msg& em) {
    self->state.gate->store(0, std::memory_order_release);
    self->state.owed.fail_all(refuse(routing_errc::stopped, what(self) + " stopped before its events were confirmed"));
    release_waiting(self, false);
    stop_instances(self);
    self->quit(std::move(em.reason));
  });
  self->set_exception_handler([self](std::exception_ptr& eptr) -> caf::error {
    std::string why = "an unknown exception";
    try {
      std::rethrow_exception(eptr);
    } catch (const std::exception& e) {
      why = e.what();
    } catch (...) {
    }
    self->state.owed.fail_all(refuse(routing_errc::stopped, what(self) + " crashed before its events were confirmed"));
    return caf::make_error(caf::sec::runtime_error, what(self) + " crashed: " + why);
  });
  return join_handlers<vnode_impl::behavior_type>(ownership_handlers(self), event_handlers(self),
                                                  std::make_tuple(
    [self](restart_atom) {
      self->state.restart_scheduled = false;
      reconcile(self);
    },
    [self](snapshot_tick_atom) {
      auto& st = self->state;
      st.snapshot_ticking = false;
      if (!wants_snapshots(st))
        return; // nothing to keep: no timer while idle
      take_snapshots(self);
      if (snapshots_pending(st))
        start_snapshot_ticks(self);
    }
  ));
}

} // namespace vnode_internal

vnode_actor spawn_vnode_actor(caf::actor_system& sys, uint32_t slot,
                              std::shared_ptr<vnode_shared> shared, serving_gate gate,
                              std::shared_ptr<actor_stats> stats) {
  using namespace vnode_internal;
  return spawn_counted_as<vnode_class>(
    sys,
    [slot, shared, gate](vnode_ptr self) { return vnode_behavior(self, slot, shared, gate); },
    std::move(stats));
}

} // namespace troupe
