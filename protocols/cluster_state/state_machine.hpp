// The replicated cluster state: what every coordinator applies from the Raft log, in log
// order. It holds the KV namespace and the membership; later issues add the vnode map,
// deployments and the rest here, each as its own part with its own commands.
#pragma once

#include "protocols/cluster_state/commands.hpp"
#include "protocols/cluster_state/instance_store.hpp"
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
  const main_worker& main() const { return main_; }
  const bus_log& bus() const { return bus_; }
  const migration_table& migrations() const { return migrations_; }
  const jobs::job_table& jobs() const { return jobs_; }
  const instance_store& instances() const { return instances_; }

  /// Why a deployment of actor type `type` must be refused before it is proposed: every live
  /// worker advertises its actor types and none has this one (the sentence names the types
  /// they have). "" to go ahead, also when no worker is live or one does not advertise (a
  /// release before actor_types): then a worker without the type turns its health yellow.
  /// Checked by the leader, never in apply(): a replica of another release must apply the log
  /// the same way.
  std::string deploy_refusal(const std::string& type) const;

  /// Returns the whole state, for a Raft snapshot.
  std::string snapshot() const;

  /// Replaces the state with a snapshot; false when malformed.
  bool restore(const std::string& bytes);

private:
  /// True when `name` is a live member (up, suspect, leaving) at the current index.
  bool live(const std::string& name) const;

  /// Tells the job table which workers changed between live and not (at `at_ms`): a worker
  /// offers its slots while it is live, and its attempts go back when it stops being live.
  /// Applies an instance command, for a deployment that exists.
  instance_store::result apply_instance(const instance_cmd& c, uint64_t index);

  void jobs_follow_members(const std::vector<member_change>& changes, size_t from, int64_t at_ms);

  kv_store kv_;
  member_registry members_;
  vnode_map vnodes_;
  deployment_table deployments_;
  main_worker main_;
  bus_log bus_;
  migration_table migrations_;
  jobs::job_table jobs_;
  instance_store instances_;
};

/// What nodes need of the cluster state beyond the KV namespace: the membership, the vnode
/// map, the deployments, the main worker, the migrations and the last persisted broadcast's
/// index (the broadcasts themselves are fetched by the nodes that subscribe). A coordinator's Raft replica hands it to the node's membership
/// server, which pushes it on to the workers.
struct cluster_view {
  member_registry members;
  vnode_map vnodes;
  deployment_table deployments;
  main_worker main;
  migration_table migrations;
  uint64_t bus_head = 0;
  uint64_t index = 0;  // the log index it is as of (0: unknown)
};

/// The worker that runs vnode `vnode` of deployment `d` ("" : none): the vnode's owner, or
/// for a singleton (vnode 0) the main worker.
inline const std::string& owner_of(const cluster_view& view, const deployment_spec& d,
                                   uint32_t vnode) {
  static const std::string none;
  if (d.route == routing::singleton)
    return vnode == 0 ? view.main.name() : none;
  auto& owners = view.vnodes.owners();
  return vnode < owners.size() ? owners[vnode] : none;
}

/// Returns the cluster view of `sm` as bytes, as of log index `index` (the last applied).
std::string encode_view(const state_machine& sm, uint64_t index = 0);

/// Decodes what encode_view returns; false when malformed.
bool decode_view(const std::string& bytes, cluster_view& out);

} // namespace troupe::state
