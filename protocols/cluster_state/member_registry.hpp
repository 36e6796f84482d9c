// The cluster's membership as part of the replicated state: every coordinator applies the same
// commands from the Raft log, so every coordinator serves the same view, and a member's entry
// survives the coordinator it joined through.
//
// Failure detection stays local: the coordinator that holds a member's connection (its
// `holder`) watches its heartbeats and proposes the member's state changes. The registry only
// decides, deterministically, what is true:
//   - a join gets the log index of its command as incarnation, which grows cluster-wide;
//   - a state change applies only to the incarnation it names, and gone (down, left) is final
//     for an incarnation: a late "up" from a coordinator that lost the member changes nothing;
//   - when the leader stops hearing a coordinator, `holder_lost` marks that coordinator and
//     every member it holds down, so a dead coordinator does not leave its workers "up".
#pragma once

#include "protocols/membership/types.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace troupe::state {

/// A member joins (or joins again) through the coordinator `holder`. A coordinator registers
/// itself with holder == its own name and its Raft replica id.
struct member_join_cmd {
  membership::member candidate;
  std::string holder;
  uint64_t raft_id = 0;  // coordinators: their Raft replica id; 0 for workers
  int64_t wall_ms = 0;   // when the holder saw the join (for state_since_ms)
  std::string cluster_id;  // coordinators: their proposal; the first one applied names the cluster
  uint32_t vnodes = 0;     // the joiner's --vnodes (0: not given); fixed by the first coordinator
};

/// The holder of `name` saw its incarnation change state.
struct member_state_cmd {
  std::string name;
  uint64_t incarnation = 0;
  membership::member_state to = membership::member_state::up;
  std::string cause;
  int64_t wall_ms = 0;
};

/// The leader stopped hearing the coordinator with Raft id `raft_id`.
struct holder_lost_cmd {
  uint64_t raft_id = 0;
  std::string cause;
  int64_t wall_ms = 0;
};

/// Drops members gone since before `before_ms` from the view.
struct member_prune_cmd {
  int64_t before_ms = 0;
};

/// What a member entry holds beyond the member itself.
struct member_record {
  membership::member info;
  std::string holder;
  uint64_t raft_id = 0;
};

/// One change of a member's state, for the info log.
struct member_change {
  std::string name;
  uint64_t incarnation = 0;
  std::optional<membership::member_state> from;  // empty: a new member
  std::optional<membership::member_state> to;    // empty: forgotten
  std::string cause;
};

struct join_result {
  bool accepted = false;
  uint64_t incarnation = 0;
  std::string reason;  // why it was refused
};

/// The refusal of a node started with another vnode count than the cluster's.
std::string vnodes_mismatch(uint32_t cluster, uint32_t given);

class member_registry {
public:
  explicit member_registry(size_t max_members = 10000) : max_members_(max_members) {
  }

  /// Applies a join at log index `index`.
  join_result join(const member_join_cmd& c, uint64_t index, std::vector<member_change>& out);

  /// Applies a state change; false when it names an incarnation that is not current or gone.
  bool set_state(const member_state_cmd& c, std::vector<member_change>& out);

  /// Marks the coordinator `c.raft_id` and every member it holds down; returns how many.
  size_t holder_lost(const holder_lost_cmd& c, std::vector<member_change>& out);

  /// Forgets members gone before `c.before_ms`; returns how many.
  size_t prune(const member_prune_cmd& c, std::vector<member_change>& out);

  /// Returns the view: coordinators first, then by name in natural order.
  membership::view view() const;

  /// The cluster's id: proposed by the coordinator whose registration was applied first.
  const std::string& cluster_id() const { return cluster_id_; }

  /// The cluster's vnode count, fixed with its id (0 until then).
  uint32_t vnode_count() const { return vnode_count_; }

  const member_record* find(const std::string& name) const;
  const std::map<std::string, member_record>& records() const { return members_; }

  /// Counts changes; every replica that applied the same log has the same version.
  uint64_t version() const { return version_; }

  /// Returns whether some gone member changed state before `before_ms`.
  bool has_gone_before(int64_t before_ms) const;

  /// Returns the records for a snapshot, in name order.
  std::vector<member_record> dump() const;

  /// Replaces the state with what dump returned.
  void restore(std::vector<member_record> records, uint64_t version, std::string cluster_id,
               uint32_t vnode_count);

private:
  void change(member_record& r, membership::member_state to, const std::string& cause,
              int64_t wall_ms, std::vector<member_change>& out);

  std::map<std::string, member_record> members_;
  uint64_t version_ = 0;
  std::string cluster_id_;
  uint32_t vnode_count_ = 0;
  size_t max_members_;
};

} // namespace troupe::state
