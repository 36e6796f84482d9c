// The replicated cluster state: what every coordinator applies from the Raft log, in log
// order. It holds the KV namespace and the membership; later issues add the vnode map,
// deployments and the rest here, each as its own part with its own commands.
#pragma once

#include "protocols/cluster_state/commands.hpp"
#include "protocols/cluster_state/kv_store.hpp"
#include "protocols/cluster_state/member_registry.hpp"

#include <string>
#include <vector>

namespace troupe::state {

class state_machine {
public:
  explicit state_machine(size_t kv_history_limit = 10000) : kv_(kv_history_limit) {
  }

  /// Applies the command of the log entry at `index`; appends membership changes to `changes`.
  apply_result apply(const command& c, uint64_t index, std::vector<member_change>& changes);

  const kv_store& kv() const { return kv_; }
  const member_registry& members() const { return members_; }
  const vnode_map& vnodes() const { return vnodes_; }
  const deployment_table& deployments() const { return deployments_; }

  /// Returns the whole state, for a Raft snapshot.
  std::string snapshot() const;

  /// Replaces the state with a snapshot; false when malformed.
  bool restore(const std::string& bytes);

private:
  kv_store kv_;
  member_registry members_;
  vnode_map vnodes_;
  deployment_table deployments_;
};

/// Returns the membership (records, version, cluster id) as bytes: how a coordinator's Raft
/// replica hands it to the node's membership server.
std::string encode_members(const member_registry& r, const vnode_map& v);

/// Decodes what encode_members returns; false when malformed.
bool decode_members(const std::string& bytes, member_registry& out, vnode_map& v);

} // namespace troupe::state
