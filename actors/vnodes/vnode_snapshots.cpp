// Snapshots of a vnode's instances, saved to their records in the cluster state (not the KV
// namespace: protocols/cluster_state/instance_store.hpp): periodically (`snapshot-every-ms`,
// or every second for a durable deployment), taken only of an instance that was given events
// since its last one and saved only when the bytes changed (or, durable, the events they
// cover did).
#include "actors/vnodes/vnode_actor_state.hpp"

#include "actors/raft/raft_actor.hpp"
#include "actors/vnodes/seen_table.hpp"
#include "actors/wire.hpp"

namespace troupe::vnode_internal {

milliseconds snapshot_every(const state::deployment_spec& d) {
  auto it = d.config.find(snapshot_every_key);
  if (it == d.config.end())
    return d.durable ? durable_snapshot_every : milliseconds{0};
  try {
    return milliseconds{std::stoll(it->second)};
  } catch (const std::exception&) {
    return d.durable ? durable_snapshot_every : milliseconds{0};
  }
}

state::instance_id record_of(const vnode_actor_state& st, const state::deployment_spec& d) {
  return state::instance_id{d.name, d.created, ctx_vnode(st)};
}

void propose_instance(vnode_ptr self, const state::instance_cmd& c,
                      std::function<void(uint64_t, std::string&)> ok,
                      std::function<void(state::instance_refusal, const std::string&)> refused,
                      std::function<void(const caf::error&)> failed) {
  // The writer's own bound on a proposal is 5 s: this one is above it, so that the writer's
  // answer (or its error) is what comes.
  self->request(self->state.shared->writer, std::chrono::seconds(7), record_op_atom::value, c)
    .then(
      [ok, refused](uint64_t refusal, uint64_t pos, std::string& data) {
        if (refusal == 0)
          ok(pos, data);
        else
          refused(static_cast<state::instance_refusal>(refusal), data);
      },
      [failed](caf::error& err) { failed(err); });
}

bool wants_snapshots(const vnode_actor_state& st) {
  if (!st.info)
    return false;
  for (auto& d : st.info->deployments)
    if (snapshot_every(d).count() > 0)
      return true;
  return false;
}

bool snapshots_pending(const vnode_actor_state& st) {
  for (auto& [name, inst] : st.instances)
    if (inst.delivered != inst.snapshotted)
      if (auto* d = deployment(st, name); d && snapshot_every(*d).count() > 0)
        return true;
  return false;
}

void save_snapshot(vnode_ptr self, const std::string& name, instance& inst,
                   const state::deployment_spec& d) {
  auto& st = self->state;
  if (inst.claim == 0 || inst.saving)
    return; // no record claimed to save to, or a save on the way
  inst.last_snapshot = self->clock().now();
  inst.snapshotted = inst.delivered;
  inst.saving = true;
  // A durable snapshot covers the events given so far (the request queues behind them in the
  // instance's mailbox); the save queues behind their appends in the record writer.
  uint64_t covers = inst.durable ? inst.durable->given_upto() : 0;
  auto seen = inst.durable ? encode_seen(inst.durable->given) : std::string{};
  if (inst.durable)
    inst.durable->unsaved_bytes = 0;
  auto asked = inst.handle;
  auto id = record_of(st, d);
  auto claim = inst.claim;
  // Finds the instance that was asked, still running; nullptr once it is gone.
  auto same = [self, name, asked]() -> instance* {
    auto it = self->state.instances.find(name);
    return it != self->state.instances.end() && it->second.handle == asked ? &it->second
                                                                            : nullptr;
  };
  auto again = [self, same] { // not saved: the next tick tries again
    if (auto* i = same()) {
      i->saving = false;
      i->last_written.clear();
      i->snapshotted = i->delivered - 1;
      start_snapshot_ticks(self);
    }
  };
  self->request(inst.handle, std::chrono::seconds(2), snapshot_atom::value)
    .then(
      [self, same, again, id, claim, covers, seen, name](std::string& bytes) {
        auto* i = same();
        if (!i)
          return;
        bool covered = !i->durable || covers == i->durable->saved_pos;
        if (i->last_written == bytes && covered) {
          i->saving = false; // nothing changed: nothing to save
          return;
        }
        i->last_written = bytes;
        state::instance_save s{id, claim, covers, std::move(bytes), seen};
        propose_instance(
          self, state::instance_cmd{std::move(s)},
          [same, covers](uint64_t, std::string&) {
            if (auto* i = same()) {
              i->saving = false;
              if (i->durable)
                i->durable->saved_pos = covers;
            }
          },
          [self, again, name](state::instance_refusal r, const std::string& why) {
            self->state.log->debug("snapshot of {} on {} refused: {}", name, what(self), why);
            if (r != state::instance_refusal::fenced && r != state::instance_refusal::no_deployment)
              again();
          },
          [self, again, name](const caf::error& err) {
            self->state.log->debug("snapshot of {} on {} not saved: {}", name, what(self),
                                   self->system().render(err));
            again();
          });
      },
      [self, same, name](const caf::error& err) {
        auto* i = same();
        if (!i)
          return;
        i->saving = false; // a type without snapshots: nothing to keep
        if (i->durable && !i->durable->warned_no_snapshot) {
          i->durable->warned_no_snapshot = true;
          self->state.log->warn("durable {} on {} gives no snapshot ({}): its logged events "
                                "are replayed from the start and the log fills up",
                                name, what(self), self->system().render(err));
        }
      });
}

void take_snapshots(vnode_ptr self) {
  auto& st = self->state;
  auto now = self->clock().now();
  if (st.core->phase() != own::vnode_phase::serving)
    return;
  for (auto& [name, inst] : st.instances) {
    auto* d = deployment(st, name);
    auto every = d ? snapshot_every(*d) : milliseconds{0};
    if (every.count() <= 0 || inst.delivered == inst.snapshotted
        || now - inst.last_snapshot < every)
      continue;
    save_snapshot(self, name, inst, *d);
  }
}

/// Snapshot ticks run while snapshots are pending and stop when none are: an idle
/// deployment costs no timer and no write.
void start_snapshot_ticks(vnode_ptr self) {
  auto& st = self->state;
  if (st.snapshot_ticking || !wants_snapshots(st))
    return;
  st.snapshot_ticking = true;
  self->delayed_send(self, milliseconds(100), snapshot_tick_atom::value);
}

} // namespace troupe::vnode_internal
