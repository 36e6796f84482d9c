// A vnode actor's state and the helpers its files share (private to actors/vnodes/):
// vnode_actor.cpp (instances, the ownership core's effects, events, the actor) and
// vnode_snapshots.cpp (periodic snapshots).
#pragma once

#include "actors/vnodes/vnode_actor.hpp"

#include "actors/logging.hpp"
#include "actors/owed_promises.hpp"
#include "actors/vnodes/seen_table.hpp"
#include "protocols/ownership/vnode_owner.hpp"

#include "protocols/cluster_state/instance_store.hpp"

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

/// At-least-once events of one deployment: answered once each was handled (their replies, in
/// order). What the events of a batch share (the gather, the deployment, the sender's
/// headers) is made once.
struct reliable_batch : reply_gather {
  std::string dep;
  uint64_t sender = 0;
  std::string sender_text;
  owed_promises::id owed{};
};

/// An at-least-once batch of a durable instance, until it is answered: once the instance
/// handled its fresh events and every append proposed up to `wait_for` (its own, or for a
/// batch of retries only, the last one proposed when it came) was logged.
struct durable_batch {
  std::shared_ptr<reliable_batch> gather;  // the replies (vnode_actor.cpp)
  uint64_t wait_for = 0;
  bool handled = false;
};

/// A durable deployment's instance (`--durable`): its events are logged in its record in the
/// cluster state (protocols/cluster_state/instance_store.hpp). It is given them as they come,
/// while their append is on its way; appends are logged in the order they were proposed, so
/// the record's order is the order it was given them. Any append that fails starts it again
/// from its record.
struct durable_log {
  state::instance_id id;
  uint64_t claim = 0;          // the claim its writes carry
  uint64_t generation = 0;     // of the vnode's instance starts: older answers are ignored
  uint64_t logged_upto = 0;    // the last position its appends were given
  uint64_t unlogged = 0;       // events given whose append is on its way
  uint64_t saved_pos = 0;      // covered by the last snapshot saved
  size_t unsaved_bytes = 0;    // of the events given since saved_pos
  uint64_t proposed = 0;       // appends proposed
  std::set<uint64_t> open;     // appends not answered yet
  std::map<uint64_t, durable_batch> batches;  // not answered yet
  uint64_t next_batch = 1;
  seen_table given;            // the (sender, seq) of the events it was given: retries are
                               // skipped by it, and a snapshot carries it
  bool warned_no_snapshot = false;

  /// The position of the last event given, once the appends on their way are logged.
  uint64_t given_upto() const { return logged_upto + unlogged; }
};

struct instance {
  caf::actor handle;
  caf::actor_clock::time_point last_snapshot{};
  // Snapshots are taken only of an instance that was given events since its last one, and
  // written only when they differ from the last written: an idle deployment writes nothing.
  uint64_t delivered = 0;     // events handed to it
  uint64_t snapshotted = 0;   // `delivered` when its last snapshot was asked for
  std::string last_written;   // the last snapshot written to its record
  uint64_t claim = 0;         // the claim of its record its saves carry (0: none)
  bool saving = false;        // a snapshot is on its way to its record
  std::unique_ptr<durable_log> durable;  // a durable deployment's
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
                                               // (a durable one's: durable_log::given)
  std::map<std::string, std::string> states;   // deployment -> state from the old owner
  std::set<std::string> claiming;              // deployments whose record is being claimed
  uint64_t generation = 0;                     // of instance starts (durable_log::generation)
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

/// The deployment's snapshot period (0: none; a durable one's default: durable_snapshot_every).
milliseconds snapshot_every(const state::deployment_spec& d);

/// A durable deployment without `snapshot-every-ms` saves its instances' snapshots this often.
constexpr milliseconds durable_snapshot_every{1000};

/// A durable instance saves its snapshot once the events given since its last one hold this
/// many bytes, however soon: its record's log stays far below the bound on its size.
constexpr size_t durable_save_bytes = 256u << 10;

/// True when a deployment of the slot's view takes snapshots.
bool wants_snapshots(const vnode_actor_state& st);

/// True while an instance with snapshots was given events its last snapshot does not cover.
bool snapshots_pending(const vnode_actor_state& st);

/// Asks for restart_atom after the restart delay, unless it was asked for already.
inline void restart_soon(vnode_ptr self) {
  auto& st = self->state;
  if (!st.restart_scheduled) {
    st.restart_scheduled = true;
    self->delayed_send(self, st.cfg().restart_delay, restart_atom::value);
  }
}

/// Writes the snapshots that are due.
void take_snapshots(vnode_ptr self);

/// Starts the snapshot ticks, unless they run or no deployment takes snapshots.
void start_snapshot_ticks(vnode_ptr self);

/// Asks `inst` for its snapshot and saves it to its record, when it changed.
void save_snapshot(vnode_ptr self, const std::string& name, instance& inst,
                   const state::deployment_spec& d);

/// The record of `d`'s instance on this vnode.
state::instance_id record_of(const vnode_actor_state& st, const state::deployment_spec& d);

/// Proposes an instance command through the worker's record writer: `ok(pos, data)` once applied,
/// `refused(refusal, why)` when the cluster state refused it, `failed(err)` when its outcome
/// is not known (it may still be applied).
void propose_instance(vnode_ptr self, const state::instance_cmd& c,
                      std::function<void(uint64_t, std::string&)> ok,
                      std::function<void(state::instance_refusal, const std::string&)> refused,
                      std::function<void(const caf::error&)> failed);

// -- instances (vnode_actor.cpp) -------------------------------------------------------------

/// Starts the instance of `d` from `snapshot` (when not empty); `claim`: its record's claim
/// (0: none); `written`: the record holds that snapshot (else it is saved once it can be).
/// nullptr when this node does not have the deployment's actor type.
instance* start_instance(vnode_ptr self, const state::deployment_spec& d,
                         const std::string& snapshot, uint64_t claim, bool written);

/// Stops the instance of `name` and forgets it (its registry row too).
void drop_instance(vnode_ptr self, const std::string& name);

/// Counts `n` events handed to `inst`; its deployment's snapshots start ticking if they wait.
void delivered_to(vnode_ptr self, instance& inst, uint64_t n);

// -- durable deployments (vnode_durable.cpp) -------------------------------------------------

/// Starts the instance of `d` from its record: claims it, restores its snapshot and gives it
/// the events logged since; with `handed` (a non-durable deployment's state from the old
/// owner) instead of the record's snapshot.
void start_from_record(vnode_ptr self, const state::deployment_spec& d,
                       std::optional<std::string> handed);

/// An at-least-once batch for a durable instance: logs its fresh events, then gives them.
void deliver_durable(vnode_ptr self, const std::string& dep, instance& inst,
                     std::shared_ptr<reliable_batch> b, std::vector<std::string> keys,
                     std::vector<std::string> payloads, std::vector<uint64_t> seqs);

/// Fails every batch a durable instance still owes an answer (it stops, or starts again).
void fail_durable_batches(vnode_ptr self, instance& inst, const std::string& why);

} // namespace troupe::vnode_internal
