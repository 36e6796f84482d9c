// A vnode actor's state and the helpers its files share (private to actors/vnodes/):
// vnode_actor.cpp (instances, the ownership core's effects, events, the actor) and
// vnode_snapshots.cpp (periodic snapshots).
#pragma once

#include "actors/vnodes/vnode_actor.hpp"

#include "actors/logging.hpp"
#include "actors/owed_promises.hpp"
#include "actors/vnodes/seen_table.hpp"
#include "protocols/ownership/vnode_owner.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

namespace troupe::vnode_internal {

namespace own = troupe::ownership;

using restart_atom = caf::atom_constant<caf::atom("vn_restart")>;
using vnode_tick_atom = caf::atom_constant<caf::atom("vn_tick")>;
using snapshot_tick_atom = caf::atom_constant<caf::atom("vn_snap")>;

struct instance {
  caf::actor handle;
  caf::actor_clock::time_point last_snapshot{};
  // Snapshots are taken only of an instance that was given events since its last one, and
  // written only when they differ from the last written: an idle deployment writes nothing.
  uint64_t delivered = 0;     // events handed to it
  uint64_t snapshotted = 0;   // `delivered` when its last snapshot was asked for
  std::string last_written;   // the last snapshot written to the KV namespace
};

struct vnode_actor_state {
  uint32_t slot = 0;
  std::shared_ptr<vnode_shared> shared;
  serving_gate gate;
  owed_promises owed;  // at-least-once batches waiting for their instance's answers
  std::optional<own::vnode_owner> core;
  std::shared_ptr<const slot_info> info;
  std::map<std::string, instance> instances;   // deployment -> its instance here
  std::map<caf::actor_addr, std::string> by_addr;
  std::map<std::string, uint64_t> reg_seq;     // deployment -> its registry id
  std::map<std::string, seen_table> seen;      // deployment -> at-least-once events handled
  std::map<std::string, std::string> states;   // deployment -> state from the old owner
  // Work that waits for the vnode to be served: called with true once it is, false when it
  // will not be here.
  std::deque<std::function<void(bool)>> waiting;
  size_t waiting_events = 0;
  bool restart_scheduled = false;
  bool ticking = false;
  bool snapshot_ticking = false;
  std::set<std::string> unknown_types;
  uint64_t kv_client = 0;
  uint64_t kv_seq = 0;
  std::shared_ptr<spdlog::logger> log = logging::get("vnodes");

  const vnodes_config& cfg() const { return shared->cfg; }

  static inline const char* name = "troupe.vnode";
};

// Besides its interface, a vnode actor tells itself to restart crashed instances, to step its
// ownership core, and to take periodic snapshots.
using vnode_impl = vnode_actor::extend<caf::reacts_to<restart_atom>, caf::reacts_to<vnode_tick_atom>,
                                       caf::reacts_to<snapshot_tick_atom>>;
using vnode_class = vnode_impl::stateful_base<vnode_actor_state>;
using vnode_ptr = vnode_class*;

inline caf::actor service_of(vnode_ptr self, service s) {
  return lookup(self->state.cfg().services, s);
}

inline std::string what(vnode_ptr self) {
  auto& st = self->state;
  return st.slot == main_slot ? std::string{"the singletons"}
                              : "vnode " + std::to_string(st.slot);
}

/// The instance's vnode as its context and its registry row say it.
inline uint32_t ctx_vnode(const vnode_actor_state& st) {
  return st.slot == main_slot ? 0 : st.slot;
}

/// The deployment `name` in the slot's view, or nullptr.
inline const state::deployment_spec* deployment(const vnode_actor_state& st, const std::string& name) {
  if (!st.info)
    return nullptr;
  for (auto& d : st.info->deployments)
    if (d.name == name)
      return &d;
  return nullptr;
}

// -- periodic snapshots (vnode_snapshots.cpp) ----------------------------------------------

/// The deployment's snapshot period (0: none).
milliseconds snapshot_every(const state::deployment_spec& d);

/// Where an instance's periodic snapshot is kept.
std::string snapshot_key(const state::deployment_spec& d, uint32_t vnode);

/// True when a deployment of the slot's view takes snapshots.
bool wants_snapshots(const vnode_actor_state& st);

/// True while an instance with snapshots was given events its last snapshot does not cover.
bool snapshots_pending(const vnode_actor_state& st);

/// Writes the snapshots that are due.
void take_snapshots(vnode_ptr self);

/// Starts the snapshot ticks, unless they run or no deployment takes snapshots.
void start_snapshot_ticks(vnode_ptr self);

} // namespace troupe::vnode_internal
