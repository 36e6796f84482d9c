// Periodic snapshots of a vnode's instances (`snapshot-every-ms`): taken only of an instance
// that was given events since its last one, written only when the bytes changed.
#include "actors/vnodes/vnode_actor_state.hpp"

#include "actors/raft/raft_actor.hpp"
#include "actors/wire.hpp"

namespace troupe::vnode_internal {

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

/// Where an instance's periodic snapshot is kept. The deployment's creation index is part of
/// the key, so that a deployment created again under the same name starts afresh.
std::string snapshot_key(const state::deployment_spec& d, uint32_t vnode) {
  return std::string{snapshot_prefix} + d.name + "@" + std::to_string(d.created) + "/"
         + std::to_string(vnode);
}

/// True when a deployment of the slot's view takes snapshots.
bool wants_snapshots(const vnode_actor_state& st) {
  if (!st.info)
    return false;
  for (auto& d : st.info->deployments)
    if (snapshot_every(d).count() > 0)
      return true;
  return false;
}

/// True while an instance of a deployment with snapshots was given events its last snapshot
/// does not cover.
bool snapshots_pending(const vnode_actor_state& st) {
  for (auto& [name, inst] : st.instances)
    if (inst.delivered != inst.snapshotted)
      if (auto* d = deployment(st, name); d && snapshot_every(*d).count() > 0)
        return true;
  return false;
}

/// Writes the snapshots that are due to the cluster's KV namespace: of the instances given
/// events since their last one, when what they return differs from what was written last.
void take_snapshots(vnode_ptr self) {
  auto& st = self->state;
  auto now = self->clock().now();
  auto kv = service_of(self, service::ingress);
  if (!kv || st.core->phase() != own::vnode_phase::serving)
    return;
  for (auto& [name, inst] : st.instances) {
    auto* d = deployment(st, name);
    auto every = d ? snapshot_every(*d) : milliseconds{0};
    if (every.count() <= 0 || inst.delivered == inst.snapshotted
        || now - inst.last_snapshot < every)
      continue;
    inst.last_snapshot = now;
    inst.snapshotted = inst.delivered;
    auto k = snapshot_key(*d, ctx_vnode(st));
    auto asked = inst.handle;
    auto again = [self, name = name, asked] { // not written: the next tick tries again
      auto it = self->state.instances.find(name);
      if (it != self->state.instances.end() && it->second.handle == asked)
        it->second.snapshotted = it->second.delivered - 1;
    };
    self->request(inst.handle, std::chrono::seconds(2), snapshot_atom::value)
      .then(
        [self, k, kv, name = name, asked, again](std::string& bytes) {
          auto& st = self->state;
          auto it = st.instances.find(name);
          if (it == st.instances.end() || it->second.handle != asked
              || it->second.last_written == bytes)
            return; // gone, or nothing changed: nothing to write
          it->second.last_written = bytes;
          self
            ->request(kv, std::chrono::seconds(5), kv_put_atom::value, k, std::move(bytes),
                      int64_t{-1}, st.kv_client, ++st.kv_seq)
            .then([](bool, uint64_t) {},
                  [self, k, name, asked, again](const caf::error& err) {
                    self->state.log->debug("snapshot {} not written: {}", k,
                                           self->system().render(err));
                    auto it = self->state.instances.find(name);
                    if (it != self->state.instances.end() && it->second.handle == asked)
                      it->second.last_written.clear();
                    again();
                    start_snapshot_ticks(self);
                  });
        },
        [](const caf::error&) {}); // a type without snapshots: nothing to keep
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
