#include "actors/supervision/service_errc.hpp"
#include "actors/membership_server.hpp"

#include "actors/link/process_links.hpp"

#include "actors/api/counted_actor.hpp"
#include "actors/bus/bus_actor.hpp"
#include "actors/endpoint.hpp"
#include "actors/handlers.hpp"
#include "actors/logging.hpp"
#include "actors/raft/raft_actor.hpp"
#include "actors/reply.hpp"
#include "actors/workload_pull.hpp"
#include "actors/vnodes/vnodes.hpp"
#include "actors/wall_clock.hpp"
#include "actors/wire.hpp"
#include "protocols/cluster_state/state_machine.hpp"
#include "protocols/membership/codec.hpp"

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <spdlog/spdlog.h>

#include <map>
#include <optional>
#include <set>
#include <unordered_map>

namespace troupe {

namespace ms = membership;

namespace {

struct link {
  caf::actor handle;
  uint64_t incarnation = 0;
};

struct server_state {
  membership_server_config cfg;
  std::optional<ms::membership_table> table_;  // set when the actor starts
  ms::membership_table& table() { return *table_; }
  std::shared_ptr<spdlog::logger> log = logging::get("membership");
  std::unordered_map<std::string, link> links;          // name -> joined member's agent
  std::unordered_map<caf::actor_addr, std::string> by_addr;
  // The replicated membership, as this coordinator's replica last applied it.
  state::member_registry registry;
  state::vnode_map vnodes;
  std::string workload;             // the last cluster view as bytes, pushed to workers
  std::string main_worker;          // as the last cluster view has it
  uint64_t bus_head = 0;            // the last persisted broadcast's index
  uint64_t workload_pushed = 0;     // vnode and deployment versions last pushed, combined
  uint64_t workload_version = 0;
  uint64_t broadcast_version = 0;
  bool broadcast_once = false;
  // Local failure detection's last word on each member, to propose with its state.
  std::unordered_map<std::string, std::string> causes;
  std::set<std::string> in_flight;                          // proposals awaiting an answer
  // Members evicted for a desynchronized link, until the evicted process is gone: its next
  // heartbeat or join is answered with the eviction (the message sent at once may be lost
  // with the very link that went wrong).
  struct eviction {
    uint64_t incarnation = 0;
    uint32_t pid = 0;
    std::string reason;
  };
  std::map<std::string, eviction> evicting;
  // Evictions this coordinator's health shows (`troupe status`), for a minute each.
  std::map<std::string, caf::actor_clock::time_point> evictions_shown;
  std::unordered_map<std::string, time_point> unknown_since;  // held here, not connected
  std::set<std::string> draining;  // leaving gracefully: their replicated state is `leaving`
  uint64_t self_incarnation = 0;
  bool registering = false;
  time_point last_register{};
  uint64_t bad_frames = 0;
  bool started = false;
  bool leader_known = false;   // its Raft replica knows a leader (leader_contact_atom)
  time_point leader_lost_at{};  // when it stopped knowing one

  static inline const char* name = "troupe.membership_server";
};

// Besides its interface, the server ticks its failure detector.
using server_impl = membership_server_actor::extend<caf::reacts_to<tick_atom>>;
using server_class = server_impl::stateful_base<server_state>;
using server_ptr = server_class*;

/// A joined member's agent, as the membership protocol talks to it.
frame_peer peer(const caf::actor& a) {
  return caf::actor_cast<frame_peer>(a);
}

/// The local table's transitions are logged at debug: the info line comes from the Raft
/// replica when the change is committed, the same on every coordinator.
void note_local(server_state& st, const std::vector<ms::transition>& changes) {
  for (auto& t : changes) {
    st.causes[t.name] = t.cause;
    st.log->debug("local view: member {} (incarnation {}) {}: {}", t.name, t.incarnation,
                  ms::to_string(t.to), t.cause);
  }
}

/// The replicated view; until the cluster state names the cluster, this node's proposal.
ms::view current_view(const server_state& st) {
  auto v = st.registry.view();
  for (auto& m : v.members)
    if (m.roles.worker)
      m.vnodes = st.vnodes.count_of(m.name);
  if (v.cluster_id.empty())
    v.cluster_id = st.cfg.cluster_id;
  return v;
}

/// Pushes the view to every joined member when it changed since the last push.
void broadcast_if_changed(server_ptr self) {
  auto& st = self->state;
  if (st.broadcast_once && st.registry.version() == st.broadcast_version)
    return;
  st.broadcast_once = true;
  st.broadcast_version = st.registry.version();
  frame f{ms::encode(current_view(st))};
  for (auto& kv : st.links)
    self->send(peer(kv.second.handle), f);
}

raft_actor raft_of(server_ptr self) {
  return self->state.cfg.services->get_as<raft_actor>(service::raft);
}

/// Pushes the workload (vnode map, deployments) to every joined member when it changed.
void push_workload_if_changed(server_ptr self) {
  auto& st = self->state;
  if (st.workload.empty() || st.workload_pushed == st.workload_version)
    return;
  st.workload_pushed = st.workload_version;
  for (auto s : {service::vnodes, service::router, service::bus, service::migrator})
    if (auto a = st.cfg.services->get_as<caf::typed_actor<workload_sig>>(s))
      self->send(a, workload_atom::value, st.workload_version, st.workload);
  frame f{ms::encode(ms::workload{st.workload_version, st.workload})};
  for (auto& kv : st.links)
    self->send(peer(kv.second.handle), f);
}

void forget_link(server_ptr self, const std::string& name) {
  auto i = self->state.links.find(name);
  if (i == self->state.links.end())
    return;
  self->demonitor(i->second.handle);
  self->state.by_addr.erase(i->second.handle.address());
  self->state.links.erase(i);
}

/// True while this coordinator may renew workers' leases: its Raft replica knows a leader, or
/// lost it less than leader_grace ago (an election). Cut off from the quorum for longer, it
/// stops answering heartbeats, so its workers fence themselves before the majority's leader,
/// which declares it lost after the failure timeout, moves their vnodes.
bool vouches(server_ptr self) {
  auto& st = self->state;
  if (st.leader_known)
    return true;
  return self->clock().now() - st.leader_lost_at < st.cfg.leader_grace;
}

void reject(server_ptr self, const char* what) {
  ++self->state.bad_frames;
  self->state.log->warn("rejected a frame from {}: {}", caf::to_string(self->current_sender()),
                        what);
  reply_error(self, caf::make_error(service_errc::malformed, what));
}

struct outcome {
  bool committed = false;  // false: no quorum, lost leadership, timeout (see `reason`)
  bool ok = false;         // committed and accepted
  uint64_t incarnation = 0;
  std::string reason;      // why it was refused or not committed
};

/// Proposes a membership command through this coordinator's Raft replica.
void propose(server_ptr self, state::command cmd, std::function<void(outcome)> done) {
  auto raft = raft_of(self);
  if (!raft) {
    done(outcome{false, false, 0, "the Raft replica is restarting"});
    return;
  }
  self->request(raft, self->state.cfg.request_timeout, state_cmd_atom::value, state::encode(cmd))
    .then([done](bool ok, uint64_t inc, std::string& reason) {
            done(outcome{true, ok, inc, std::move(reason)});
          },
          [self, done](const caf::error& err) {
            done(outcome{false, false, 0, self->system().render(err)});
          });
}

/// Proposes a state change once: a proposal still in flight is not made again.
void propose_state(server_ptr self, const std::string& name, uint64_t incarnation,
                   ms::member_state to, const std::string& cause) {
  auto& st = self->state;
  auto key = name + "/" + std::to_string(incarnation) + "/" + ms::to_string(to);
  if (!st.in_flight.insert(key).second)
    return;
  propose(self,
          state::command{0, 0, state::member_state_cmd{name, incarnation, to, cause,
                                                       wall_clock_ms()}},
          [self, key](outcome out) {
            self->state.in_flight.erase(key);
            if (!out.committed)
              self->state.log->debug("proposal {} not committed: {}", key, out.reason);
          });
}

constexpr const char* eviction_key = "evicted/";

/// Forgets the evictions shown for a minute.
void expire_evictions(server_ptr self) {
  auto& st = self->state;
  auto now = self->clock().now();
  for (auto it = st.evictions_shown.begin(); it != st.evictions_shown.end();) {
    if (now - it->second < std::chrono::minutes(1)) {
      ++it;
      continue;
    }
    if (st.cfg.services)
      st.cfg.services->problems().clear(eviction_key + it->first);
    it = st.evictions_shown.erase(it);
  }
}

bool is_self_registered(const server_state& st) {
  auto* r = st.registry.find(st.cfg.self.name);
  return r && st.self_incarnation != 0 && r->info.incarnation == st.self_incarnation
         && !ms::is_gone(r->info.state);
}

/// Registers this coordinator in the replicated state: at start, and again whenever the state
/// lost it (the leader declared it lost while it was cut off).
void register_self(server_ptr self) {
  auto& st = self->state;
  auto now = self->clock().now();
  if (st.registering || is_self_registered(st) || now - st.last_register < milliseconds(200))
    return;
  st.registering = true;
  st.last_register = now;
  auto me = st.cfg.self;
  me.state = ms::member_state::up;
  propose(self,
          state::command{0, 0,
                         state::member_join_cmd{me, me.name, st.cfg.raft_id, wall_clock_ms(),
                                                st.cfg.cluster_id, st.cfg.vnodes}},
          [self](outcome out) {
            auto& st = self->state;
            st.registering = false;
            if (out.ok) {
              st.self_incarnation = out.incarnation;
              st.log->info("coordinator {} registered in the cluster state as incarnation {}",
                           st.cfg.self.name, out.incarnation);
            } else if (out.committed) {
              st.log->error("the cluster state refused this coordinator: {}", out.reason);
              if (st.cfg.on_fatal)
                st.cfg.on_fatal(out.reason);
            } else {
              st.log->debug("registration not committed yet: {}", out.reason);
            }
          });
}

/// Keeps the replicated state in line with what this coordinator sees of its members, and
/// this coordinator's links in line with the replicated state.
void reconcile(server_ptr self) {
  auto& st = self->state;
  auto now = self->clock().now();
  auto wall = wall_clock_ms();
  // 1. Members the replicated state says this coordinator holds.
  for (auto& [name, rec] : st.registry.records()) {
    if (rec.holder != st.cfg.self.name || name == st.cfg.self.name
        || ms::is_gone(rec.info.state))
      continue;
    auto* local = st.table().find(name);
    if (local && local->incarnation == rec.info.incarnation) {
      st.unknown_since.erase(name);
      // A draining member stays `leaving` while it is alive here; once gone, it is gone.
      if (st.draining.count(name) && !ms::is_gone(local->state))
        continue;
      if (local->state != rec.info.state)
        propose_state(self, name, rec.info.incarnation, local->state,
                      st.causes.count(name) ? st.causes[name] : "as its coordinator sees it");
      continue;
    }
    // Not connected here (this coordinator restarted, or the member never came back): it has
    // the failure timeout to join again before it is down.
    auto [it, fresh] = st.unknown_since.emplace(name, now);
    if (now - it->second >= st.cfg.table.detector.timeout)
      propose_state(self, name, rec.info.incarnation, ms::member_state::down,
                    "not connected to its coordinator " + st.cfg.self.name);
  }
  for (auto it = st.unknown_since.begin(); it != st.unknown_since.end();) {
    auto* r = st.registry.find(it->first);
    bool still = r && r->holder == st.cfg.self.name && !ms::is_gone(r->info.state);
    it = still ? std::next(it) : st.unknown_since.erase(it);
  }
  // 2. Links the replicated state has moved past: another incarnation of the member exists, or
  // this one was declared gone. The member must join again.
  std::vector<std::pair<std::string, uint64_t>> stale;
  for (auto& [name, l] : st.links) {
    auto* r = st.registry.find(name);
    if (!r)
      continue; // the replica has not applied the join yet
    auto& info = r->info;
    if (info.incarnation > l.incarnation
        || (info.incarnation == l.incarnation && ms::is_gone(info.state)))
      stale.emplace_back(name, l.incarnation);
  }
  for (auto& [name, inc] : stale) {
    auto changes = st.table().supersede(name, inc, "gone from the cluster state", now, wall);
    note_local(st, changes);
    forget_link(self, name);
    st.log->info("member {} (incarnation {}) is no longer current in the cluster state: it "
                 "must join again",
                 name, inc);
  }
}

void on_join(server_ptr self, ms::member candidate, uint32_t vnodes) {
  auto& st = self->state;
  auto cluster_vnodes = st.registry.vnode_count();
  if (vnodes != 0 && cluster_vnodes != 0 && vnodes != cluster_vnodes) {
    auto why = state::vnodes_mismatch(cluster_vnodes, vnodes);
    st.log->warn("refused join of {}: {}", candidate.name, why);
    return reply(self, frame{ms::encode(ms::join_rejected{why, true})});
  }
  auto sender = caf::actor_cast<caf::actor>(self->current_sender());
  if (!sender)
    return reject(self, "join without a sender");
  if (candidate.name == st.cfg.self.name) {
    auto why = "name '" + candidate.name + "' is the coordinator's own name";
    st.log->warn("refused join: {}", why);
    return reply(self, frame{ms::encode(ms::join_rejected{why, true})});
  }
  if (!self->current_message_id().is_request())
    return reject(self, "join sent without expecting an answer");
  auto rp = self->make_response_promise();
  auto cmd = state::command{0, 0,
                            state::member_join_cmd{candidate, st.cfg.self.name, 0,
                                                   wall_clock_ms(), {}, vnodes}};
  propose(self, std::move(cmd),
          [self, rp, sender, candidate](outcome out) mutable {
            auto& st = self->state;
            if (!out.committed) {
              // No quorum or lost leadership: the joiner retries with backoff.
              st.log->warn("join of {} not committed: {}", candidate.name, out.reason);
              rp.deliver(caf::make_error(raft_errc::no_quorum, out.reason));
              return;
            }
            if (!out.ok) {
              st.log->warn("refused join of {}: {}", candidate.name, out.reason);
              rp.deliver(frame{ms::encode(ms::join_rejected{out.reason, false})});
              return;
            }
            auto inc = out.incarnation;
            candidate.incarnation = inc;
            st.draining.erase(candidate.name);
            auto name = candidate.name;
            note_local(st, st.table().admit(std::move(candidate), self->clock().now(),
                                            wall_clock_ms()));
            auto& l = st.links[name];
            if (l.handle && l.handle != sender) {
              self->demonitor(l.handle);
              st.by_addr.erase(l.handle.address());
            }
            if (l.handle != sender)
              self->monitor(sender);
            l = link{sender, inc};
            st.by_addr[sender.address()] = name;
            rp.deliver(frame{ms::encode(ms::join_accepted{current_view(st).cluster_id, inc})});
            // The view may have been pushed before this link existed.
            self->send(peer(sender), frame{ms::encode(current_view(st))});
            if (!st.workload.empty())
              self->send(peer(sender),
                         frame{ms::encode(ms::workload{st.workload_version, st.workload})});
            if (st.bus_head > 0) // may be past the workload's
              self->send(peer(sender), frame{ms::encode(ms::bus_head{st.bus_head})});
          });
}

void on_leave(server_ptr self, const ms::leave& lv) {
  auto& st = self->state;
  if (lv.drain) {
    // Step one of a graceful stop: `leaving` takes the member's vnodes away while it stays
    // linked (and heartbeating) to hand their state over.
    auto* local = st.table().find(lv.name);
    if (!local || local->incarnation != lv.incarnation || ms::is_gone(local->state))
      return reply(self, frame{ms::encode(ms::heartbeat_ack{true, st.registry.version()})});
    st.draining.insert(lv.name);
    auto rp = self->make_response_promise();
    propose(self,
            state::command{0, 0,
                           state::member_state_cmd{lv.name, lv.incarnation,
                                                   ms::member_state::leaving,
                                                   "stopping: handing its vnodes over",
                                                   wall_clock_ms()}},
            [self, rp](outcome) mutable {
              rp.deliver(frame{ms::encode(ms::heartbeat_ack{false, self->state.registry.version()})});
            });
    return;
  }
  st.draining.erase(lv.name);
  auto changes = st.table().leave(lv.name, lv.incarnation, self->clock().now(), wall_clock_ms());
  if (changes.empty())
    return reply(self, frame{ms::encode(ms::heartbeat_ack{false, st.registry.version()})});
  note_local(st, changes);
  forget_link(self, lv.name);
  // Answer once the departure is committed, so that a stopped node shows `left` at once.
  auto key = lv.name + "/" + std::to_string(lv.incarnation) + "/left";
  st.in_flight.insert(key);
  auto rp = self->make_response_promise();
  propose(self,
          state::command{0, 0,
                         state::member_state_cmd{lv.name, lv.incarnation, ms::member_state::left,
                                                 "left gracefully", wall_clock_ms()}},
          [self, rp, key](outcome) mutable {
            self->state.in_flight.erase(key);
            rp.deliver(frame{ms::encode(ms::heartbeat_ack{false, self->state.registry.version()})});
          });
}

void on_status(server_ptr self) {
  auto& st = self->state;
  ms::status_reply status;
  status.members = current_view(st);
  status.answered_by = st.cfg.self.name;
  status.bad_frames = st.bad_frames;
  status.main_worker = st.main_worker;
  if (!st.registry.find(st.cfg.self.name)) {
    // Not registered yet (no quorum so far): show this coordinator as it sees itself.
    if (auto* me = st.table().find(st.cfg.self.name)) {
      auto m = *me;
      m.state = ms::member_state::joining;
      m.raft = ms::raft_info{"", 0, 0, 0, st.cfg.raft_id};
      status.members.members.insert(status.members.members.begin(), m);
    }
  }
  // What this node found wrong (evictions it made, ...): yellow, with the reasons.
  if (st.cfg.services)
    for (auto& problem : st.cfg.services->problems().all()) {
      status.node_health.level = "yellow";
      status.node_health.reasons.push_back(problem);
    }
  auto rp = self->make_response_promise();
  // Every coordinator's live Raft state; without an answer the status still goes out.
  auto raft = raft_of(self);
  if (!raft) {
    status.node_health.level = "red";
    status.node_health.reasons.push_back("the Raft replica is restarting");
    rp.deliver(frame{ms::encode(status)});
    return;
  }
  self->request(raft, std::chrono::seconds(2), raft_status_all_atom::value)
    .then(
      [rp, status](const std::vector<raft_status>& all) mutable {
        for (auto& m : status.members.members) {
          if (!m.raft)
            continue;
          auto id = m.raft->id;
          m.raft->role = "unreachable";
          for (auto& rs : all)
            if (rs.id == id)
              m.raft = ms::raft_info{rs.role, rs.term, rs.commit_index, rs.leader, rs.id};
        }
        // The first answer is this replica's own.
        if (all.empty() || all.front().leader == 0) {
          status.node_health.level = "red";
          status.node_health.reasons.push_back("no Raft leader: the coordinators have no quorum");
        }
        rp.deliver(frame{ms::encode(status)});
      },
      [rp, status](const caf::error&) mutable {
        status.node_health.level = "yellow";
        status.node_health.reasons.push_back("the Raft replica did not answer");
        rp.deliver(frame{ms::encode(status)});
      });
}

auto cluster_state_handlers(server_ptr self) {
  return std::make_tuple(
    [self](start_atom, uint16_t cluster_port, uint16_t http_port) {
      // The ports are known only once they are bound (0 means "any free port").
      auto& st = self->state;
      if (st.started)
        return;
      st.started = true;
      st.cfg.self.address = advertised_address(st.cfg.self.address, cluster_port);
      st.cfg.self.http_port = http_port;
      note_local(st, st.table().add_local(st.cfg.self, self->clock().now(), wall_clock_ms()));
      st.log->info("coordinator {} at {} serves the membership of cluster {}", st.cfg.self.name,
                   st.cfg.self.address, st.cfg.cluster_id);
      if (auto raft = raft_of(self)) {
        member_listener_actor me = caf::actor_cast<server_impl>(self);
        self->send(raft, member_listen_atom::value, caf::actor_cast<caf::actor>(me));
      }
      register_self(self);
      self->send(self, tick_atom::value);
    },
    [self](tick_atom) {
      auto& st = self->state;
      auto changes = st.table().tick(self->clock().now(), wall_clock_ms());
      for (auto& t : changes)
        if (ms::is_gone(t.to))
          forget_link(self, t.name);
      note_local(st, changes);
      register_self(self);
      reconcile(self);
      expire_evictions(self);
      // Next when a member's verdict can change (a member is down within a millisecond of its
      // timeout), and at the latest after tick_interval.
      auto now = self->clock().now();
      auto next = st.table().next_change(now);
      auto wait = next == time_point::max() || next - now > st.cfg.tick_interval
                    ? st.cfg.tick_interval
                    : std::max<duration>(next - now, milliseconds(1));
      self->delayed_send(self, wait, tick_atom::value);
    },
    [self](member_view_atom, uint64_t version, const std::string& bytes) {
      auto& st = self->state;
      state::cluster_view view;
      if (!state::decode_view(bytes, view) || view.members.version() != version) {
        st.log->error("the Raft replica sent membership records that do not decode");
        return;
      }
      auto& cid = view.members.cluster_id();
      if (!cid.empty() && cid != st.registry.cluster_id() && cid != st.cfg.cluster_id)
        st.log->info("the cluster's id is {} (this coordinator proposed {})", cid,
                     st.cfg.cluster_id);
      auto vnodes_changed = view.vnodes.version() != st.vnodes.version();
      st.registry = std::move(view.members);
      st.vnodes = std::move(view.vnodes);
      st.workload = bytes;
      st.main_worker = view.main.name();
      st.bus_head = std::max(st.bus_head, view.bus_head);
      // Routers need members' addresses too: any change of the view is pushed.
      st.workload_version = st.registry.version() + st.vnodes.version()
                            + view.deployments.version() + view.main.epoch()
                            + view.migrations.version() + view.bus_head;
      if (vnodes_changed)
        st.broadcast_once = false; // push the new counts even if the membership is the same
      reconcile(self);
      broadcast_if_changed(self);
      push_workload_if_changed(self);
    }
  );
}

/// A node's link from `lf.peer` went out of step (Kuzzle): that member is marked down with the
/// reason and told to restart; it rejoins with a new incarnation.
void on_link_fault(server_ptr self, const ms::link_fault& lf) {
  auto& st = self->state;
  auto why = "desynchronized link: " + lf.reason;
  st.log->error("{} reports its link from {} out of step ({}): {} is marked down and told to "
                "restart",
                lf.reporter.empty() ? st.cfg.self.name : lf.reporter, lf.peer, lf.reason, lf.peer);
  if (lf.peer == st.cfg.self.name) {
    if (st.cfg.on_evicted)
      st.cfg.on_evicted(why);
    return;
  }
  auto* r = st.registry.find(lf.peer);
  if (!r || ms::is_gone(r->info.state))
    return;
  propose_state(self, lf.peer, r->info.incarnation, ms::member_state::down, why);
  st.evicting[lf.peer] = server_state::eviction{r->info.incarnation, r->info.pid, why};
  if (st.cfg.services) {
    st.cfg.services->problems().set(eviction_key + lf.peer, lf.peer + " evicted: " + why);
    st.evictions_shown[lf.peer] = self->clock().now();
  }
  auto ep = parse_endpoint(r->info.address);
  if (!ep || !st.cfg.resolver)
    return;
  self->request(st.cfg.resolver, st.cfg.request_timeout, caf::connect_atom::value, ep->host,
                ep->port)
    .then(
      [self, why](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>&) {
        if (auto a = caf::actor_cast<caf::actor>(ptr))
          caf::anon_send(a, frame{ms::encode(ms::evicted{why})});
      },
      [self, peer = lf.peer](const caf::error& err) {
        self->state.log->warn("cannot tell {} to restart: {}", peer, self->system().render(err));
      });
}

/// Why the link the message came over may not say it, or "": a join, heartbeat, leave or link
/// fault speaks for one member, and only that member's own link carries it (with TLS, the name
/// its certificate names); an eviction comes from a coordinator; a client only asks for the
/// status. Messages of this process's own actors are not checked.
std::string not_theirs(server_ptr self, const ms::decoded& msg) {
  auto peer = link_peer_of(self->current_sender());
  if (!peer)
    return {};
  const std::string* speaks_for = nullptr;
  if (auto* j = std::get_if<ms::join_request>(&msg.body))
    speaks_for = &j->self.name;
  else if (auto* hb = std::get_if<ms::heartbeat>(&msg.body))
    speaks_for = &hb->name;
  else if (auto* lv = std::get_if<ms::leave>(&msg.body))
    speaks_for = &lv->name;
  else if (auto* lf = std::get_if<ms::link_fault>(&msg.body))
    speaks_for = &lf->reporter;
  else if (std::holds_alternative<ms::evicted>(msg.body) && !peer->coordinator)
    return "an eviction from a node that is not a coordinator";
  if (!speaks_for)
    return {};
  if (peer->kind == wire::peer_kind::client)
    return "a membership message for " + *speaks_for + " from a client";
  if (peer->name != *speaks_for)
    return "a membership message for " + *speaks_for + " from " + peer->name;
  return {};
}

/// A membership protocol message from a member (or a client asking for the status).
void on_frame(server_ptr self, const frame& f) {
  auto& st = self->state;
  ms::decoded msg;
  if (auto err = ms::decode(f.bytes, msg); err != ms::codec_errc::none)
    return reject(self, ms::to_string(err));
  if (auto why = not_theirs(self, msg); !why.empty()) {
    auto peer = link_peer_of(self->current_sender());
    link_context_of(self->system())
      ->refused(wire::wire_errc::not_permitted,
                peer->kind == wire::peer_kind::client ? "a client" : peer->name + " at " + peer->address,
                why + ": a member speaks only for itself");
    return reply_error(self, caf::make_error(service_errc::malformed,
                                             why + ": a member speaks only for itself"));
  }
  if (auto* join = std::get_if<ms::join_request>(&msg.body)) {
    if (auto ev = st.evicting.find(join->self.name); ev != st.evicting.end()) {
      if (ev->second.pid == join->self.pid) // the evicted process itself: still not gone
        return reply(self, frame{ms::encode(ms::evicted{ev->second.reason})});
      st.evicting.erase(ev); // a new process under that name
    }
    return on_join(self, std::move(join->self), join->vnodes);
  }
  if (auto* hb = std::get_if<ms::heartbeat>(&msg.body)) {
    if (auto ev = st.evicting.find(hb->name);
        ev != st.evicting.end() && ev->second.incarnation == hb->incarnation)
      return reply(self, frame{ms::encode(ms::evicted{ev->second.reason})});
    auto out = st.table().heartbeat(hb->name, hb->incarnation, self->clock().now(),
                                    wall_clock_ms());
    note_local(st, out.changes);
    if (!out.changes.empty())
      reconcile(self);
    if (!vouches(self))
      return; // unanswered: the worker's lease runs out and it looks for another coordinator
    return reply(self, frame{ms::encode(ms::heartbeat_ack{out.rejoin, st.registry.version()})});
  }
  if (auto* lv = std::get_if<ms::leave>(&msg.body))
    return on_leave(self, *lv);
  if (std::holds_alternative<ms::status_request>(msg.body))
    return on_status(self);
  if (auto* lf = std::get_if<ms::link_fault>(&msg.body))
    return on_link_fault(self, *lf);
  if (auto* ev = std::get_if<ms::evicted>(&msg.body)) {
    st.log->error("evicted by the cluster: {}", ev->reason);
    if (st.cfg.on_evicted)
      st.cfg.on_evicted(ev->reason);
    return;
  }
  return reject(self, "unexpected message type for a coordinator");
}

auto member_handlers(server_ptr self) {
  return std::make_tuple(
    [self](const frame& f) -> caf::result<frame> {
      on_frame(self, f); // requests are answered there, through reply() or a promise
      return caf::delegated<frame>{};
    },
    [self](bus_head_atom a, uint64_t head) {
      // From the Raft replica: only the bus head changed. Every node's bus learns it.
      auto& st = self->state;
      if (head <= st.bus_head)
        return;
      st.bus_head = head;
      if (auto bus = self->state.cfg.services->get_as<bus_actor>(service::bus))
        self->send(bus, a, head);
      frame f{ms::encode(ms::bus_head{head})};
      for (auto& kv : st.links)
        self->send(peer(kv.second.handle), f);
    },
    [self](workload_pull_atom) {
      auto& st = self->state;
      answer_workload_pull(self, st.cfg.services, st.workload_version, st.workload, st.bus_head);
    },
    [self](leader_contact_atom, bool known) {
      auto& st = self->state;
      if (known == st.leader_known)
        return;
      st.leader_known = known;
      if (!known) {
        st.leader_lost_at = self->clock().now();
        st.log->info("no Raft leader known: answering workers' heartbeats for {} ms more",
                     std::chrono::duration_cast<milliseconds>(st.cfg.leader_grace).count());
      } else {
        st.log->debug("a Raft leader is known again");
      }
    }
  );
}

server_impl::behavior_type server(server_ptr self, membership_server_config cfg) {
  auto& st = self->state;
  st.table_.emplace(cfg.cluster_id, cfg.table);
  st.cfg = std::move(cfg);
  self->set_error_handler([self](caf::error& err) {
    self->state.log->warn("unexpected error message: {}", self->system().render(err));
  });
  self->set_down_handler([self](const caf::down_msg& dm) {
    auto& st = self->state;
    auto i = st.by_addr.find(dm.source);
    if (i == st.by_addr.end())
      return;
    auto name = i->second;
    auto inc = st.links[name].incarnation;
    st.by_addr.erase(i);
    st.links.erase(name);
    st.log->debug("monitor of {} fired: {}", name, self->system().render(dm.reason));
    note_local(st, st.table().connection_lost(name, inc, self->clock().now(), wall_clock_ms()));
    reconcile(self);
  });
  return join_handlers<server_impl::behavior_type>(cluster_state_handlers(self),
                                                   member_handlers(self));
}

} // namespace

membership_server_actor spawn_membership_server(caf::actor_system& sys,
                                                membership_server_config cfg,
                                                std::shared_ptr<actor_stats> stats) {
  return spawn_counted_as<server_class>(
    sys, [cfg](server_ptr self) { return server(self, cfg); }, std::move(stats));
}

} // namespace troupe
