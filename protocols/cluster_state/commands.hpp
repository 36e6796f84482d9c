// The commands of the replicated cluster state, as Raft log entries carry them: KV writes and
// membership changes. One encoding for all, so one log orders them all.
#pragma once

#include "protocols/cluster_state/bus_log.hpp"
#include "protocols/cluster_state/deployments.hpp"
#include "protocols/cluster_state/instance_store.hpp"
#include "protocols/cluster_state/main_worker.hpp"
#include "protocols/cluster_state/member_registry.hpp"
#include "protocols/cluster_state/migration_table.hpp"
#include "protocols/cluster_state/vnode_map.hpp"
#include "protocols/jobs/job_table.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace troupe::state {

struct put_cmd {
  std::string key;
  std::string value;
  std::optional<uint64_t> expected_revision;  // 0: the key must not exist
};

struct del_cmd {
  std::string key;
  std::optional<uint64_t> expected_revision;
};

/// Shared work: job operations applied in order (a batch: one commit for many jobs).
struct jobs_cmd {
  std::vector<jobs::command> ops;
};

/// True when `c` holds only what clients and workers may propose: queue and task changes,
/// submits, retries, results and set changes (hand-outs, expiries, task placements and worker
/// changes are the leader's own).
bool client_may_propose(const jobs_cmd& c);

/// Sets the time of every operation of `c` to `now_ms`: the leader's clock, not a client's,
/// times submissions and failures (the backoff starts from it).
void stamp(jobs_cmd& c, int64_t now_ms);

struct command {
  uint64_t client = 0;    // with sequence: de-duplicates retried KV writes (0: none)
  uint64_t sequence = 0;
  std::variant<put_cmd, del_cmd, member_join_cmd, member_state_cmd, holder_lost_cmd,
               member_prune_cmd, vnode_moves_cmd, deploy_cmd, undeploy_cmd, main_worker_cmd,
               bus_publish_cmd, migration_cmd, jobs_cmd, instances_cmd>
    body;
};

struct apply_result {
  bool ok = true;             // false: a compare-and-set found another revision, a join or
                              // state change was refused
  uint64_t revision = 0;      // the KV store's revision after the command
  bool duplicate = false;     // a retry of a command already applied
  uint64_t incarnation = 0;   // a join: the member's incarnation; a broadcast: its log index
  std::string reason;         // a refused join: why
  std::vector<jobs::apply_result> jobs;  // a jobs_cmd: each operation's result, in order
  std::vector<instance_store::result> instances;  // an instances_cmd: each one's, in order
};

/// Returns the bytes of `c` for a Raft entry.
std::string encode(const command& c);

/// Decodes a command; false when malformed.
bool decode(const std::string& bytes, command& out);

/// Encodes and decodes one deployment (for snapshots and for the node's runtime).
std::string encode_deployment(const deployment_spec& d);
bool decode_deployment(const std::string& bytes, deployment_spec& out);

} // namespace troupe::state
