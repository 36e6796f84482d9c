// The cluster's state as JSON, asked of any node: the vnode map, the deployments with their
// instances, the persisted bus topics, the migrations and every member's supervision tree.
// `troupe ctl` prints them (as tables or with --json) and the web view (GET /api/view) serves
// them together; both ask through these, so the page and the CLI never disagree. The two
// commands the web view offers (kill an actor, run a failed migration again) are here too.
#pragma once

#include "protocols/clock.hpp"

#include <caf/fwd.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <string>

namespace troupe {

/// What a query answered: its JSON, or what stopped it (a sentence and the exit code a
/// client command gives for it).
struct query_result {
  nlohmann::json value;  // null when `problem` is set
  std::string problem;
  int code = 0;
  explicit operator bool() const { return problem.empty(); }
};

/// {"version", "vnodes": [{"vnode", "owner", "epoch"}]}: the vnode map, linearizable.
query_result vnodes_query(caf::actor_system& sys, caf::scoped_actor& self, const caf::actor& node,
                          duration timeout);

/// {"version", "deployments": [{"name", "type", "routing", "delivery", "config", "created",
/// "running", "vnodes", "instances": [{"vnode", "worker", "state"}]}]}: the deployments, and
/// the instances every reachable worker that is up reports.
query_result deployments_query(caf::actor_system& sys, caf::scoped_actor& self,
                               const caf::actor& node, duration timeout);

/// {"topics": [{"topic", "kept", "last_index"}]}: the persisted bus topics.
query_result topics_query(caf::actor_system& sys, caf::scoped_actor& self, const caf::actor& node,
                          duration timeout);

/// {"changes": [{"at_ms", "name", "incarnation", "from", "to", "cause"}]}: the member state
/// changes a coordinator's replica applied (this node's when it is a coordinator), oldest first.
query_result member_changes_query(caf::actor_system& sys, caf::scoped_actor& self,
                                  const caf::actor& node, duration timeout);

/// {"main_worker", "waiting_for", "migrations": [...]}: the migrations, as the node's migrator
/// lists them.
query_result migrations_query(caf::actor_system& sys, caf::scoped_actor& self,
                              const caf::actor& node, duration timeout);

/// {"nodes": [tree of each live member], "skipped": [{"node", "reason"}]}: every live
/// member's supervision tree (the same as `troupe ctl tree --json`), with mailbox sizes.
query_result trees_query(caf::actor_system& sys, caf::scoped_actor& self, const caf::actor& node,
                         duration timeout);

/// The shared work as the leader sees it (actors/jobs/jobs_view.hpp): `queue` "" with `what`
/// "": {"queues": [...], "workers_up"}; a queue with "": its counts and running attempts by
/// worker; "dead": its dead letters; "job:ID": one job.
query_result jobs_query(caf::actor_system& sys, caf::scoped_actor& self, const caf::actor& node,
                        duration timeout, const std::string& queue, const std::string& what);

/// The instance records the cluster keeps (of `deployment`, or all when ""): a JSON array of
/// {"deployment", "created", "vnode", "epoch", "snapshot_bytes", "snapshot_pos",
/// "saved_index", "logged_events", "logged_bytes"}.
query_result snapshots_query(caf::actor_system& sys, caf::scoped_actor& self,
                             const caf::actor& node, duration timeout,
                             const std::string& deployment);

/// A client command's output of `r`: its problem on stderr after `prefix` (returns its exit
/// code), else its JSON with `as_json`, else what `print` makes of it (returns 0).
int print_query(const query_result& r, bool as_json, const std::string& prefix,
                const std::function<void(const nlohmann::json&)>& print);

// Commands, with the console token (empty: none).

/// Kills actor `id` ("<node>/<n>") on its member, with the console token `token`; its
/// supervisor restarts it. Answers the inspector's JSON.
query_result kill_actor(caf::actor_system& sys, caf::scoped_actor& self, const caf::actor& node,
                        duration timeout, const std::string& token, const std::string& id,
                        const std::string& reason);

/// Runs failed migration `id` (every failed one when empty) again on the main worker.
query_result retry_migration(caf::actor_system& sys, caf::scoped_actor& self,
                             const caf::actor& node, duration timeout, const std::string& token,
                             const std::string& id);

} // namespace troupe
