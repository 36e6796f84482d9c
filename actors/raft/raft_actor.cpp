#include "actors/raft/raft_actor.hpp"
#include "actors/raft/raft_actor_state.hpp"

#include "actors/api/counted_actor.hpp"
#include "actors/link/link.hpp"
#include "actors/bus/bus_actor.hpp"
#include "actors/supervision/exit_errc.hpp"
#include "actors/handlers.hpp"
#include "actors/logging.hpp"
#include "actors/relay.hpp"
#include "actors/wire.hpp"
#include "actors/api/errors.hpp"
#include "actors/wall_clock.hpp"
#include "protocols/cluster_state/state_machine.hpp"
#include "protocols/membership/types.hpp"
#include "protocols/raft/codec.hpp"
#include "protocols/raft/raft.hpp"
#include "protocols/supervision/backoff.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/io/middleman_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <optional>
#include <random>

namespace troupe {

namespace r = troupe::raft;

namespace raft_detail {

void fail_pending(raft_ptr self, raft_errc why) {
  auto& st = self->state;
  for (auto& [idx, w] : st.writes)
    w.promise.deliver(failure(why));
  st.writes.clear();
  for (auto& [ctx, rd] : st.reads_waiting)
    rd.promise.deliver(failure(raft_errc::no_quorum));
  st.reads_waiting.clear();
  for (auto& [idx, rd] : st.reads_ready)
    rd.promise.deliver(failure(raft_errc::no_quorum));
  st.reads_ready.clear();
  for (auto& [id, w] : st.watches)
    w.promise.deliver(failure(raft_errc::no_quorum));
  st.watches.clear();
}

void log_member_changes(raft_actor_state& st, const std::vector<state::member_change>& changes) {
  namespace ms = troupe::membership;
  for (auto& c : changes) {
    st.member_history.push_back({wall_clock_ms(), c});
    if (st.member_history.size() > raft_actor_state::member_history_max)
      st.member_history.pop_front();
    if (!c.to)
      st.log->info("member {} (incarnation {}) forgotten: {}", c.name, c.incarnation, c.cause);
    else if (c.from)
      st.log->info("member {} (incarnation {}) {} -> {}: {}", c.name, c.incarnation,
                   ms::to_string(*c.from), ms::to_string(*c.to), c.cause);
    else
      st.log->info("member {} (incarnation {}) is {}: {}", c.name, c.incarnation,
                   ms::to_string(*c.to), c.cause);
  }
}

void log_vnode_moves(raft_actor_state& st, const state::vnode_moves_cmd& c) {
  std::map<std::string, uint32_t> counts;
  for (auto& o : st.sm.vnodes().owners())
    ++counts[o.empty() ? std::string{"(none)"} : o];
  std::string spread;
  for (auto& [w, n] : counts)
    spread += (spread.empty() ? "" : ", ") + w + " " + std::to_string(n);
  st.log->info("vnode map at {}: {} vnodes moved; now {}", st.sm.vnodes().version(),
               c.moves.size(), spread);
}

/// Hands the cluster view to the node's membership server whenever it changed.
void publish_members(raft_ptr self) {
  auto& st = self->state;
  if (!st.member_listener)
    return;
  auto v = st.sm.members().version();
  auto vv = st.sm.vnodes().version();
  // The rest only grows (log indices), so their sum changes exactly when one of them does.
  auto dv = st.sm.deployments().version() + st.sm.main().epoch()
            + st.sm.migrations().version();
  auto head = st.sm.bus().head();
  if (st.member_view_sent && v == st.member_version_sent && vv == st.vnode_version_sent
      && dv == st.deployments_version_sent) {
    // Only a persisted broadcast: its index alone, not a whole view for every node to decode.
    if (head != st.bus_head_sent) {
      st.bus_head_sent = head;
      self->send(st.member_listener, bus_head_atom::value, head);
    }
    return;
  }
  st.bus_head_sent = head;
  st.member_view_sent = true;
  st.member_version_sent = v;
  st.vnode_version_sent = vv;
  st.deployments_version_sent = dv;
  self->send(st.member_listener, member_view_atom::value, v,
             state::encode_view(st.sm, st.applied));
}

/// Answers applied instance commands: a claim with its record as it stands now.
void answer_instance(raft_ptr self, caf::response_promise& rp, const state::apply_result& res) {
  std::vector<uint64_t> refusals;
  std::vector<uint64_t> positions;
  std::vector<std::string> data;
  for (auto& r : res.instances) {
    refusals.push_back(static_cast<uint64_t>(r.refusal));
    positions.push_back(r.pos);
    if (r.refusal != state::instance_refusal::none)
      data.emplace_back(state::to_string(r.refusal));
    else if (r.claimed) // as the batch left it: what follows a claim in it (writes under an
                        // earlier claim, fenced) changes nothing
      data.push_back(state::encode_record(*r.claimed, self->state.sm.instances().find(*r.claimed)));
    else
      data.emplace_back();
  }
  rp.deliver(std::move(refusals), std::move(positions), std::move(data));
}

void apply_entry(raft_ptr self, const r::entry& e) {
  auto& st = self->state;
  st.applied = e.index;
  state::apply_result res;
  bool is_command = false;
  if (e.type == r::entry_type::normal) {
    state::command cmd;
    if (state::decode(e.data, cmd)) {
      std::vector<state::member_change> changes;
      auto* jc = std::get_if<state::jobs_cmd>(&cmd.body);
      auto expiring = jc ? jobs_expiring(self, *jc) : std::vector<std::string>{};
      res = st.sm.apply(cmd, e.index, changes);
      if (jc)
        jobs_applied(self, *jc, res.jobs, expiring);
      if (!changes.empty())
        st.jobs_dirty = true; // a worker up offers slots
      log_member_changes(st, changes);
      if (auto* mv = std::get_if<state::vnode_moves_cmd>(&cmd.body); mv && res.ok)
        log_vnode_moves(st, *mv);
      is_command = true;
    } else {
      // Every replica skips it the same way: the log is not the place to crash.
      st.log->error("entry {} holds an undecodable command; skipped", e.index);
    }
  }
  auto w = st.writes.find(e.index);
  if (w == st.writes.end())
    return;
  if (w->second.term != e.term || !is_command)
    w->second.promise.deliver(failure(raft_errc::leadership_lost));
  else if (w->second.shape == reply_shape::member)
    w->second.promise.deliver(res.ok, res.incarnation, res.reason);
  else if (w->second.shape == reply_shape::jobs) {
    std::vector<uint64_t> outcomes;
    std::vector<uint64_t> epochs;
    for (auto& j : res.jobs) {
      outcomes.push_back(static_cast<uint64_t>(j.result));
      epochs.push_back(j.epoch);
    }
    w->second.promise.deliver(std::move(outcomes), std::move(epochs));
  } else if (w->second.shape == reply_shape::instance)
    answer_instance(self, w->second.promise, res);
  else
    w->second.promise.deliver(res.ok, res.revision);
  st.writes.erase(w);
}

r::raft& replica(raft_ptr self) {
  auto& st = self->state;
  if (st.tick_origin != time_point{}) {
    auto due = static_cast<uint64_t>((self->clock().now() - st.tick_origin) / st.cfg.tick_interval);
    // After a stall (a slow fsync, a paused process) more ticks are owed than its timer would
    // have made; making them all before the messages that waited meanwhile would have a leader
    // judge its followers silent (check-quorum) and step down. The surplus is dropped, as a
    // tick message waiting in the mailbox was: time passed without ticks.
    auto limit = static_cast<uint64_t>(st.node->quiet_ticks()) + 1;
    if (due > st.ticks_made + limit)
      st.ticks_made = due - limit;
    for (; st.ticks_made < due; ++st.ticks_made)
      st.node->tick();
  }
  return *st.node;
}

void arm_tick(raft_ptr self) {
  auto& st = self->state;
  if (st.tick_origin == time_point{})
    return; // not started
  auto quiet = leader_has_timed_work(self) ? 0 : st.node->quiet_ticks();
  auto want = st.ticks_made + static_cast<uint64_t>(quiet) + 1;
  if (st.tick_armed != 0 && st.tick_armed <= want)
    return; // an earlier timer wakes it, and looks again
  st.tick_armed = want;
  auto at = st.tick_origin + static_cast<int64_t>(want) * st.cfg.tick_interval;
  auto now = self->clock().now();
  self->delayed_send(self, at > now ? at - now : time_point::duration{0}, tick_atom::value, want);
}

void process_ready(raft_ptr self) {
  auto& st = self->state;
  for (int round = 0; round < 100 && !st.failed && st.node->has_ready(); ++round) {
    auto rd = st.node->take_ready();
    // 0. A leader's appends and heartbeats leave first, so that its own fsync overlaps the
    // followers' (Raft thesis, 10.2.1). That is safe because the leader counts an entry as
    // its own only once this function's sync below has returned: a follower's acknowledgement
    // is handled by a later call, after the sync. Everything else waits for the sync.
    std::vector<r::message> after_sync;
    for (auto& m : rd.messages) {
      if (r::sent_before_sync(m.type))
        send_raft(self, m);
      else
        after_sync.push_back(std::move(m));
    }
    // 1. Durable before anything else leaves or is acknowledged.
    if (rd.snap) {
      if (auto err = st.storage->save_snapshot(*rd.snap, true)) {
        st.log->critical("cannot store snapshot: {}", err.message);
        st.failed = true;
        fail_pending(self, raft_errc::replica_stopped); // their outcome is unknown
        st.owed.fail_all(failure(raft_errc::replica_stopped));
        self->quit(caf::make_error(exit_errc::storage_failed,
                                   "raft storage: cannot store a snapshot: " + err.message));
        return;
      }
    }
    st.storage->append(rd.entries);
    if (rd.hard)
      st.storage->set_hard_state(*rd.hard);
    if (auto err = st.storage->sync()) {
      st.log->critical("cannot sync the raft log: {}", err.message);
      st.failed = true;
      fail_pending(self, raft_errc::replica_stopped); // their outcome is unknown
      st.owed.fail_all(failure(raft_errc::replica_stopped));
      self->quit(caf::make_error(exit_errc::storage_failed,
                                 "raft storage: cannot sync the log: " + err.message));
      return;
    }
    // 2. Send what needed the sync: votes, acknowledgements.
    for (auto& m : after_sync)
      send_raft(self, m);
    // 3. Apply.
    if (rd.snap) {
      if (!st.sm.restore(rd.snap->data))
        st.log->error("snapshot at {} does not decode", rd.snap->meta.index);
      st.applied = rd.snap->meta.index;
      st.last_snapshot = st.applied;
      for (auto it = st.writes.begin(); it != st.writes.end() && it->first <= st.applied;) {
        it->second.promise.deliver(failure(raft_errc::leadership_lost));
        it = st.writes.erase(it);
      }
    }
    for (auto& e : rd.committed)
      apply_entry(self, e);
    for (auto& rs : rd.reads) {
      auto it = st.reads_waiting.find(rs.context);
      if (it == st.reads_waiting.end())
        continue;
      st.reads_ready.emplace_back(rs.index, std::move(it->second));
      st.reads_waiting.erase(it);
    }
    serve_reads(self);
    serve_watches(self);
  }
  plan_jobs(self, false);
  publish_members(self);
  // Compact once enough has been applied since the last snapshot.
  if (st.cfg.snapshot_every > 0 && st.applied >= st.last_snapshot + st.cfg.snapshot_every) {
    auto term = st.node->log().term_at(st.applied);
    if (term) {
      auto data = st.sm.snapshot();
      st.node->compact(st.applied, data);
      if (auto err = st.storage->save_snapshot(r::snapshot{{st.applied, *term}, data}, false))
        st.log->error("cannot store snapshot: {}", err.message);
      else
        st.last_snapshot = st.applied;
    }
  }
  // Role changes: log them, and settle what a lost leadership leaves open.
  auto role = st.node->current_role();
  auto leader = st.node->leader();
  if (role != st.last_role || leader != st.last_leader) {
    if (role == r::role::leader) {
      st.log->info("became leader at term {}", st.node->term());
      // Every peer gets a full peer_timeout before it can be judged lost, and every down
      // member a full lease from now (this leader cannot know when others saw it down).
      for (auto& [id, p] : st.peers)
        st.last_heard[id] = self->clock().now();
      st.lost_proposed.clear();
      st.down_seen.clear();
    }
    else if (st.last_role == r::role::leader)
      st.log->info("stepped down at term {} ({})", st.node->term(), r::to_string(role));
    else if (leader != st.last_leader && leader != r::no_node)
      st.log->info("following leader {} at term {}", leader, st.node->term());
    if (st.last_role == r::role::leader && role != r::role::leader) {
      fail_pending(self, raft_errc::leadership_lost);
      for (auto& rp : st.stepping_down)
        rp.deliver(true);
      st.stepping_down.clear();
    }
    // The membership server answers workers' heartbeats only while a leader is known: a
    // coordinator cut off from the quorum must not keep their leases alive.
    if ((leader != r::no_node) != (st.last_leader != r::no_node) && st.member_listener)
      self->send(st.member_listener, leader_contact_atom::value, leader != r::no_node);
    st.last_role = role;
    st.last_leader = leader;
  }
  arm_tick(self); // a new role acts sooner (a leader heartbeats before a follower's timeout)
}

/// Where a request this node cannot serve should go: the leader's Raft actor, if reachable.
caf::actor leader_handle(raft_ptr self) {
  auto& st = self->state;
  auto l = st.node->leader();
  if (l == r::no_node || l == st.cfg.raft.id)
    return nullptr;
  auto it = st.peers.find(l);
  return it == st.peers.end() ? nullptr : it->second.handle;
}

/// True when the current request came from another coordinator (over a link whose peer said
/// so in its hello): it was already forwarded once and must not bounce between two nodes that
/// disagree on the leader.
bool from_peer(raft_ptr self) {
  auto peer = link_peer_of(self->current_sender());
  return peer && peer->coordinator;
}

/// Relays a request to the leader and its reply (of types Rs...) back to the requester.
template <class... Rs, class... Ts>
caf::response_promise forward_to_leader(raft_ptr self, Ts&&... xs) {
  auto leader = leader_handle(self);
  if (!leader || from_peer(self)) {
    auto rp = self->make_response_promise();
    rp.deliver(failure(raft_errc::no_quorum));
    return rp;
  }
  return relay<Rs...>(self, &self->state.owed, leader, self->state.cfg.request_timeout,
                      std::forward<Ts>(xs)...);
}

caf::response_promise propose(raft_ptr self, const std::string& bytes, reply_shape shape) {
  auto& st = self->state;
  auto rp = self->make_response_promise();
  auto res = replica(self).propose(bytes);
  if (res.error != r::errc::none) {
    rp.deliver(res.error == r::errc::not_leader
                 ? failure(raft_errc::no_quorum)
                 : failure(raft_errc::no_quorum, std::string{"not applied: "}
                                                   + r::to_string(res.error)));
    return rp;
  }
  st.writes.emplace(res.index, pending_write{res.term, shape, rp});
  schedule_flush(self);
  return rp;
}

caf::response_promise propose(raft_ptr self, const state::command& cmd) {
  return propose(self, state::encode(cmd), reply_shape::kv);
}

std::optional<uint64_t> expected(int64_t x) {
  return x < 0 ? std::nullopt : std::optional<uint64_t>{static_cast<uint64_t>(x)};
}

} // namespace raft_detail

using namespace raft_detail;

auto replica_handlers(raft_ptr self) {
  return std::make_tuple(
    [self](start_atom) {
      // Sent once the node's ports are bound: nothing is logged or connected before then,
      // so a node that cannot start prints only its one error line.
      auto& st = self->state;
      if (st.started)
        return;
      st.started = true;
      st.log->info("raft replica {} of {} voters at term {}, log {}..{}, commit {}",
                   st.cfg.raft.id, st.cfg.raft.voters.size(), st.node->term(),
                   st.node->log().first_index(), st.node->last_index(),
                   st.node->commit_index());
      for (auto& [id, p] : st.peers)
        connect_peer(self, id);
      if (st.cfg.raft.voters.size() == 1)
        st.node->campaign(); // alone: no reason to wait for an election timeout
      schedule_flush(self);
      st.tick_origin = self->clock().now();
      arm_tick(self);
    },
    [self](tick_atom, uint64_t tick) {
      auto& st = self->state;
      if (tick == st.tick_armed)
        st.tick_armed = 0;
      replica(self);
      leader_duties(self);
      // Most wake-ups change nothing (a leader of one): no flush for those.
      if (st.node->has_ready() || st.node->current_role() != st.last_role
          || st.node->leader() != st.last_leader)
        schedule_flush(self);
      arm_tick(self);
    },
    [self](flush_atom) {
      self->state.flush_scheduled = false;
      process_ready(self);
    },
    [self](peer_retry_atom, r::node_id id, uint64_t gen) {
      auto& p = self->state.peers[id];
      if (gen == p.generation && !p.handle)
        connect_peer(self, id);
    },
    [](peer_hello_atom) { return true; },
    [self](const raft_frame& f) {
      r::message m;
      auto err = r::decode(f.bytes, m);
      if (err != r::codec_errc::none) {
        self->state.log->warn("rejected a raft frame: {}", r::to_string(err));
        return;
      }
      if (m.to != self->state.cfg.raft.id)
        return;
      if (self->state.peers.count(m.from) > 0)
        self->state.last_heard[m.from] = self->clock().now();
      replica(self).step(m);
      schedule_flush(self);
    }
  );
}

/// The KV store: writes, reads and watches.
auto kv_handlers(raft_ptr self) {
  return std::make_tuple(
    [self](kv_put_atom a, std::string& key, std::string& value, int64_t exp, uint64_t client,
           uint64_t seq) -> caf::result<bool, uint64_t> {
      if (auto n = key.size() + value.size(); n > self->state.cfg.max_kv_bytes)
        return failure(raft_errc::malformed,
                       "a key and value of " + std::to_string(n) + " bytes are over the bound of "
                         + std::to_string(self->state.cfg.max_kv_bytes)
                         + " (--max-frame-bytes less 64 KiB); nothing was written");
      if (self->state.node->current_role() != r::role::leader)
        return forward_to_leader<bool, uint64_t>(self, a, std::move(key), std::move(value), exp,
                                                 client, seq);
      return propose(self, state::command{client, seq,
                                          state::put_cmd{std::move(key), std::move(value),
                                                         expected(exp)}});
    },
    [self](kv_del_atom a, std::string& key, int64_t exp, uint64_t client,
           uint64_t seq) -> caf::result<bool, uint64_t> {
      if (self->state.node->current_role() != r::role::leader)
        return forward_to_leader<bool, uint64_t>(self, a, std::move(key), exp, client, seq);
      return propose(self,
                     state::command{client, seq, state::del_cmd{std::move(key), expected(exp)}});
    },
    [self](kv_get_atom a, std::string& key)
      -> caf::result<bool, std::string, uint64_t, uint64_t> {
      if (self->state.node->current_role() != r::role::leader)
        return forward_to_leader<bool, std::string, uint64_t, uint64_t>(self, a,
                                                                        std::move(key));
      pending_read rd;
      rd.key = std::move(key);
      return read(self, std::move(rd));
    },
    [self](kv_list_atom a, std::string& prefix, uint64_t limit)
      -> caf::result<std::vector<std::string>, std::vector<std::string>, uint64_t> {
      if (self->state.node->current_role() != r::role::leader)
        return forward_to_leader<std::vector<std::string>, std::vector<std::string>, uint64_t>(
          self, a, std::move(prefix), limit);
      pending_read rd;
      rd.list = true;
      rd.key = std::move(prefix);
      rd.limit = static_cast<size_t>(std::min<uint64_t>(limit, 100000));
      return read(self, std::move(rd));
    },
    [self](kv_watch_atom a, std::string& prefix, uint64_t after)
      -> caf::result<std::vector<std::string>, std::vector<std::string>, std::vector<std::string>,
                     std::vector<uint64_t>, uint64_t> {
      if (self->state.node->current_role() != r::role::leader)
        return forward_to_leader<std::vector<std::string>, std::vector<std::string>,
                                 std::vector<std::string>, std::vector<uint64_t>, uint64_t>(
          self, a, std::move(prefix), after);
      pending_read rd;
      rd.watch = true;
      rd.key = std::move(prefix);
      rd.after = after;
      return read(self, std::move(rd));
    },
    [self](watch_timeout_atom, uint64_t id) {
      auto it = self->state.watches.find(id);
      if (it == self->state.watches.end())
        return;
      answer_watch(self, it->second, true); // no event in time: an empty answer
      self->state.watches.erase(it);
    }
  );
}

/// The cluster state and the replicas' status.
auto cluster_handlers(raft_ptr self) {
  return std::make_tuple(
    [self](raft_status_atom) -> raft_status { return own_status(self->state); },
    [self](raft_status_all_atom) -> caf::result<std::vector<raft_status>> {
      return all_status(self);
    },
    [self](state_cmd_atom a, std::string& bytes) -> caf::result<bool, uint64_t, std::string> {
      if (self->state.node->current_role() != r::role::leader)
        return forward_to_leader<bool, uint64_t, std::string>(self, a, std::move(bytes));
      state::command cmd;
      if (!state::decode(bytes, cmd))
        return failure(raft_errc::malformed, "malformed cluster state command");
      if (std::holds_alternative<state::put_cmd>(cmd.body)
          || std::holds_alternative<state::del_cmd>(cmd.body))
        return failure(raft_errc::malformed, "KV writes go through kv_put/kv_del");
      if (auto* d = std::get_if<state::deploy_cmd>(&cmd.body))
        if (auto why = self->state.sm.deploy_refusal(d->spec.type); !why.empty())
          return {false, uint64_t{0}, std::move(why)};
      return propose(self, bytes, reply_shape::member);
    },
    [self](jobs_cmd_atom a, std::string& bytes)
      -> caf::result<std::vector<uint64_t>, std::vector<uint64_t>> {
      if (self->state.node->current_role() != r::role::leader)
        return forward_to_leader<std::vector<uint64_t>, std::vector<uint64_t>>(self, a,
                                                                              std::move(bytes));
      state::command cmd;
      auto* jc = state::decode(bytes, cmd) ? std::get_if<state::jobs_cmd>(&cmd.body) : nullptr;
      if (!jc || jc->ops.empty())
        return failure(raft_errc::malformed, "malformed jobs batch");
      if (!state::client_may_propose(*jc))
        return failure(raft_errc::malformed, "hand-outs and expiries are the leader's own");
      for (auto& op : jc->ops) {
        if (auto* q = std::get_if<jobs::create_queue_cmd>(&op))
          if (auto why = self->state.sm.deploy_refusal(q->config.handler); !why.empty())
            return caf::make_error(jobs_errc::invalid, "queue " + q->config.name + ": " + why);
        if (auto* t = std::get_if<jobs::start_task_cmd>(&op))
          if (auto why = self->state.sm.deploy_refusal(t->spec.type); !why.empty())
            return caf::make_error(jobs_errc::invalid, "task " + t->spec.name + ": " + why);
      }
      state::stamp(*jc, wall_clock_ms());
      return propose(self, state::encode(cmd), reply_shape::jobs);
    },
    [self](bus_fetch_atom, const std::vector<std::string>& topics,
           const std::vector<uint64_t>& after) -> caf::result<std::string> {
      // A local read: the node asking learned the head from this replica's own view.
      if (topics.size() != after.size() || topics.size() > 10000)
        return failure(raft_errc::malformed, "malformed bus fetch");
      return state::encode_bus_fetch(self->state.sm.bus(), topics, after);
    },
    [self](member_changes_atom) {
      namespace ms = troupe::membership;
      auto out = nlohmann::json::array();
      for (auto& [at, c] : self->state.member_history)
        out.push_back({{"at_ms", at},
                       {"name", c.name},
                       {"incarnation", c.incarnation},
                       {"from", c.from ? ms::to_string(*c.from) : "new"},
                       {"to", c.to ? ms::to_string(*c.to) : "forgotten"},
                       {"cause", c.cause}});
      return out.dump();
    },
    [self](bus_topics_atom)
      -> caf::result<std::vector<std::string>, std::vector<uint64_t>, std::vector<uint64_t>> {
      std::vector<std::string> names;
      std::vector<uint64_t> kept, last;
      for (auto& [topic, entries] : self->state.sm.bus().topics()) {
        names.push_back(topic);
        kept.push_back(entries.size());
        last.push_back(entries.empty() ? 0 : entries.back().index);
      }
      return {std::move(names), std::move(kept), std::move(last)};
    },
    [self](vnodes_atom a)
      -> caf::result<std::vector<std::string>, std::vector<uint64_t>, uint64_t> {
      if (self->state.node->current_role() != r::role::leader)
        return forward_to_leader<std::vector<std::string>, std::vector<uint64_t>, uint64_t>(
          self, a);
      pending_read rd;
      rd.vnodes = true;
      return read(self, std::move(rd));
    },
    [self](deployments_atom a) -> caf::result<std::vector<std::string>, uint64_t> {
      if (self->state.node->current_role() != r::role::leader)
        return forward_to_leader<std::vector<std::string>, uint64_t>(self, a);
      pending_read rd;
      rd.deployments = true;
      return read(self, std::move(rd));
    },
    [self](instance_cmd_atom a, std::string& bytes)
      -> caf::result<std::vector<uint64_t>, std::vector<uint64_t>, std::vector<std::string>> {
      using strings = std::vector<std::string>;
      using numbers = std::vector<uint64_t>;
      if (self->state.node->current_role() != r::role::leader)
        return forward_to_leader<numbers, numbers, strings>(self, a, std::move(bytes));
      // Not decoded here (it is, once, as it is applied): only members send them, through
      // their record writer; one that does not decode is skipped by every replica and
      // answered with an error.
      if (bytes.empty())
        return failure(raft_errc::malformed, "malformed instance command");
      return propose(self, bytes, reply_shape::instance);
    },
    [self](instances_view_atom a, std::string& deployment) -> caf::result<std::string> {
      if (self->state.node->current_role() != r::role::leader)
        return forward_to_leader<std::string>(self, a, std::move(deployment));
      pending_read rd;
      rd.instances = std::move(deployment);
      return read(self, std::move(rd));
    },
    [self](jobs_view_atom a, std::string& queue,
           std::string& what) -> caf::result<std::string> {
      if (self->state.node->current_role() != r::role::leader)
        return forward_to_leader<std::string>(self, a, std::move(queue), std::move(what));
      pending_read rd;
      rd.jobs = jobs::parse_view(queue, what);
      if (!rd.jobs)
        return failure(raft_errc::malformed, "a jobs view is '', 'dead', 'job:ID', 'state:STATE', 'tasks', 'set' or 'member:M'");
      return read(self, std::move(rd));
    }
  );
}

auto lifecycle_handlers(raft_ptr self) {
  return std::make_tuple(
    [self](leave_atom) -> caf::result<bool> {
      auto& st = self->state;
      if (st.node->current_role() != r::role::leader)
        return true;
      r::node_id best = r::no_node;
      for (auto& [id, p] : st.peers)
        if (p.handle && (best == r::no_node || st.node->match_of(id) > st.node->match_of(best)))
          best = id;
      if (best == r::no_node)
        return false; // nobody to hand over to
      st.log->info("stopping: handing leadership to replica {}", best);
      replica(self).transfer_leadership(best);
      schedule_flush(self);
      auto rp = self->make_response_promise<bool>();
      st.stepping_down.push_back(rp);
      auto wait = st.cfg.tick_interval * (2 * st.cfg.raft.election_ticks);
      self->delayed_send(self, wait, leave_atom::value, true);
      return rp;
    },
    [self](leave_atom, bool) {
      // The transfer did not finish in time: stop anyway; the followers elect a leader.
      for (auto& rp : self->state.stepping_down)
        rp.deliver(false);
      self->state.stepping_down.clear();
    },
    [self](member_listen_atom, caf::actor& listener) {
      auto& st = self->state;
      st.member_listener = caf::actor_cast<member_listener_actor>(std::move(listener));
      st.member_view_sent = false;
      self->send(st.member_listener, leader_contact_atom::value,
                 st.node->leader() != r::no_node);
      publish_members(self);
    }
  );
}

raft_impl::behavior_type raft_behavior(raft_ptr self, const raft_actor_config& cfg,
                            std::unique_ptr<r::raft_storage> storage,
                            r::restored_state restored) {
  auto& st = self->state;
  st.cfg = cfg;
  st.rng.seed(static_cast<uint32_t>(cfg.raft.seed));
  st.storage = std::move(storage);
  if (restored.snap) {
    if (!st.sm.restore(restored.snap->data))
      st.log->error("snapshot at {} does not decode", restored.snap->meta.index);
    st.applied = restored.snap->meta.index;
    st.last_snapshot = st.applied;
  }
  st.node = std::make_unique<r::raft>(cfg.raft, std::move(restored));
  for (auto& [id, ep] : cfg.peers) {
    auto& p = st.peers[id];
    p.ep = ep;
    p.backoff.emplace(milliseconds(50), std::chrono::seconds(2));
  }
  self->set_down_handler([self](const caf::down_msg& dm) {
    for (auto& [id, p] : self->state.peers)
      if (p.handle && p.handle.address() == dm.source) {
        peer_lost(self, id, self->system().render(dm.reason));
        return;
      }
  });
  self->set_error_handler([self](caf::error& err) {
    self->state.log->warn("unexpected error message: {}", self->system().render(err));
  });
  // Stopped (the node stops, or its supervisor restarts it): whoever waits for an answer
  // gets one now rather than at their timeout.
  self->set_exit_handler([self](caf::exit_msg& em) {
    fail_pending(self, raft_errc::replica_stopped);
    self->state.owed.fail_all(failure(raft_errc::replica_stopped));
    for (auto& rp : self->state.stepping_down)
      rp.deliver(false);
    self->state.stepping_down.clear();
    self->quit(std::move(em.reason));
  });
  return join_handlers<raft_impl::behavior_type>(replica_handlers(self), kv_handlers(self),
                                                 cluster_handlers(self), lifecycle_handlers(self));
}

raft_actor spawn_raft_actor(caf::actor_system& sys, raft_actor_config cfg,
                            std::unique_ptr<r::raft_storage> storage, r::restored_state restored,
                            std::shared_ptr<actor_stats> stats) {
  // Storage and state move into the actor through shared holders: CAF copies spawn arguments.
  auto holder = std::make_shared<std::unique_ptr<r::raft_storage>>(std::move(storage));
  auto rs = std::make_shared<r::restored_state>(std::move(restored));
  return spawn_counted_as<raft_class>(
    sys,
    [cfg, holder, rs](raft_ptr self) {
      return raft_behavior(self, cfg, std::move(*holder), std::move(*rs));
    },
    std::move(stats));
}

} // namespace troupe
