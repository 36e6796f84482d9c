#include "actors/raft/raft_actor_state.hpp"

#include "actors/wall_clock.hpp"
#include "protocols/membership/types.hpp"
#include "protocols/ownership/lease.hpp"

#include <caf/event_based_actor.hpp>

namespace troupe::raft_detail {

/// Leader: proposes what the leader itself decides (a coordinator lost, members to prune);
/// nobody waits for the answer, and a lost proposal is made again on a later tick.
void propose_own(raft_ptr self, const state::command& cmd) {
  if (replica(self).propose(state::encode(cmd)).error == r::errc::none)
    schedule_flush(self);
}

/// Leader: notes, on its own monotonic clock, when it first saw each member down (a new
/// leader starts counting when it takes over: later than anyone saw it, so it only waits
/// longer). Nothing compares this with another node's clock.
void note_down(raft_ptr self, time_point now) {
  namespace ms = troupe::membership;
  auto& st = self->state;
  for (auto it = st.down_seen.begin(); it != st.down_seen.end();) {
    auto* r = st.sm.members().find(it->first);
    bool still = r && r->info.state == ms::member_state::down
                 && r->info.incarnation == it->second.incarnation;
    it = still ? std::next(it) : st.down_seen.erase(it);
  }
  for (auto& [name, rec] : st.sm.members().records())
    if (rec.info.state == ms::member_state::down && st.down_seen.count(name) == 0)
      st.down_seen[name] = down_since{rec.info.incarnation, now};
}

/// True while a down member may still serve under its lease (as far as this leader can tell).
bool within_lease(raft_ptr self, const std::string& name, time_point now) {
  auto it = self->state.down_seen.find(name);
  if (it == self->state.down_seen.end())
    return false;
  return now - it->second.since < ownership::reassign_after(self->state.cfg.vnode_lease);
}

/// Leader: keeps a main worker. The current one stays while it is up or suspect; one that
/// leaves is replaced at once, one that went down only once its lease has run out (it may not
/// know yet that it lost its coordinator, and there must never be two). The new one is the
/// first worker that is up, by name.
void pick_main_worker(raft_ptr self, time_point now) {
  namespace ms = troupe::membership;
  auto& st = self->state;
  auto& mw = st.sm.main();
  auto* cur = mw.name().empty() ? nullptr : st.sm.members().find(mw.name());
  if (cur && (cur->info.state == ms::member_state::up
              || cur->info.state == ms::member_state::suspect))
    return;
  if (cur && cur->info.state == ms::member_state::down && within_lease(self, mw.name(), now))
    return; // still within its lease
  if (cur && cur->info.state == ms::member_state::joining)
    return; // back under a new incarnation (a quick restart): live at its first heartbeat
  std::string next;
  for (auto& [name, rec] : st.sm.members().records())
    if (rec.info.roles.worker && rec.info.state == ms::member_state::up && name != mw.name()) {
      next = name;
      break;
    }
  if (next.empty() && mw.name().empty())
    return; // no main worker, and none to pick
  if (st.main_based_on == mw.epoch() && now - st.main_proposed_at < std::chrono::seconds(1))
    return; // proposed already; wait for it to apply
  st.main_based_on = mw.epoch();
  st.main_proposed_at = now;
  st.log->info("main worker: {} -> {}", mw.name().empty() ? "(none)" : mw.name(),
               next.empty() ? "(none: no live worker)" : next);
  propose_own(self, state::command{0, 0, state::main_worker_cmd{mw.epoch(), next}});
}

bool leader_has_timed_work(raft_ptr self) {
  auto& st = self->state;
  if (st.node->current_role() != r::role::leader)
    return false;
  return !st.down_seen.empty()
         || (st.sm.vnodes().size() > 0 && st.balanced_at != st.node->commit_index())
         || st.sm.jobs().busy() // attempts time out, failed ones back off
         || !st.sm.jobs().tasks().tasks().empty() || st.tasks_empty_pushes > 0;
}

/// Leader, on every tick: declares lost the coordinators it has not heard from for
/// peer_timeout, places the vnodes over the live workers, and prunes members gone for
/// member_forget_after.
void leader_duties(raft_ptr self) {
  namespace ms = troupe::membership;
  auto& st = self->state;
  if (st.node->current_role() != r::role::leader)
    return;
  auto now = self->clock().now();
  note_down(self, now);
  for (auto& [name, rec] : st.sm.members().records()) {
    auto id = rec.raft_id;
    if (id == 0 || id == st.cfg.raft.id || rec.holder != name || ms::is_gone(rec.info.state)
        || st.peers.count(id) == 0)
      continue;
    auto heard = st.last_heard[id];
    if (now - heard < st.cfg.peer_timeout)
      continue;
    auto pending = st.lost_proposed.find(id);
    if (pending != st.lost_proposed.end() && now - pending->second < 2 * st.cfg.peer_timeout)
      continue;
    st.lost_proposed[id] = now;
    auto silent = std::chrono::duration_cast<milliseconds>(now - heard).count();
    st.log->info("coordinator {} (replica {}) silent for {} ms: proposing it lost", name, id,
                 silent);
    propose_own(self, state::command{0, 0,
                                     state::holder_lost_cmd{id,
                                                            "its Raft replica was silent for "
                                                              + std::to_string(silent) + " ms",
                                                            wall_clock_ms()}});
  }
  // Place the vnodes over the live workers (up or suspect: a suspect may recover). A worker
  // that went down keeps its vnodes until its lease has run out: it may not have noticed yet
  // that it lost its coordinator, and two owners must never serve one vnode.
  auto& vm = st.sm.vnodes();
  auto commit = st.node->commit_index();
  if (vm.size() > 0 && commit != st.balanced_at) {
    std::vector<placement::worker_view> workers;
    for (auto& [name, rec] : st.sm.members().records()) {
      if (!rec.info.roles.worker)
        continue;
      using ws = placement::worker_view::state;
      auto s = rec.info.state;
      auto w = s == ms::member_state::up || s == ms::member_state::suspect ? ws::live
               : s == ms::member_state::joining                             ? ws::joining
               : s == ms::member_state::down                                ? ws::down
                                                                            : ws::gone;
      workers.push_back({name, w, vm.count_of(name),
                         w == ws::down && within_lease(self, name, now)});
    }
    auto p = placement::plan(workers);
    auto moves = p.hold ? std::vector<placement::move>{} : placement::rebalance(vm.owners(), p.live);
    st.balanced_at = !p.hold && moves.empty() ? commit : 0;
    bool waiting = st.moves_based_on == vm.version() && now - st.moves_proposed_at < std::chrono::seconds(1);
    if (!moves.empty() && !waiting) {
      st.moves_based_on = vm.version();
      st.moves_proposed_at = now;
      propose_own(self, state::command{0, 0, state::vnode_moves_cmd{vm.version(), std::move(moves)}});
    }
  }
  pick_main_worker(self, now);
  plan_jobs(self, true);
  if (now - st.last_prune_check >= std::chrono::seconds(10)) {
    st.last_prune_check = now;
    auto before = wall_clock_ms() - st.cfg.member_forget_after.count();
    if (st.sm.members().has_gone_before(before))
      propose_own(self, state::command{0, 0, state::member_prune_cmd{before}});
  }
}

} // namespace troupe::raft_detail
