// Instance state, as part of the replicated cluster state: for each instance (a deployment's
// instance on one vnode) its last snapshot and, for a durable deployment, the events it was
// given since, in order. It lives apart from the KV namespace: writing it bumps no KV revision
// and lists nothing under `kv list`; an undeploy drops it.
//
// Only the vnode's owner of the moment writes an instance's record: it claims the record with
// its ownership epoch (the claim answers with the snapshot, the events to replay and a new
// claim number), and every append or save carries that claim number. A later claim (a new
// owner, or the same owner starting the instance again) refuses the writes made under the
// earlier one, so an event logged after the record was read for a replay is never
// acknowledged: its sender sends it again, to the instance that replayed.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

namespace troupe::cluster_state::wire {
class StateSnapshot;
} // namespace troupe::cluster_state::wire

namespace troupe::state {

/// Which instance: a deployment (by name and the log index it was created at: a deployment
/// created again under the same name starts afresh) and its vnode (0 for a singleton).
struct instance_id {
  std::string deployment;
  uint64_t created = 0;
  uint32_t vnode = 0;

  bool operator<(const instance_id& o) const {
    return std::tie(deployment, created, vnode) < std::tie(o.deployment, o.created, o.vnode);
  }
  bool operator==(const instance_id& o) const {
    return deployment == o.deployment && created == o.created && vnode == o.vnode;
  }
};

/// An event a durable instance was given, numbered in the order it was given them.
struct logged_event {
  uint64_t pos = 0;
  uint64_t sender = 0;  // the at-least-once sender and its sequence number (de-duplication)
  uint64_t seq = 0;
  std::string key;
  std::string payload;
};

/// What the cluster keeps of one instance.
struct instance_record {
  uint64_t epoch = 0;         // of the owner that claimed it last
  uint64_t claim = 0;         // how many claims it had: the last one's writes are accepted
  std::string snapshot;       // the instance's state after the events up to snapshot_pos
  std::string seen;           // its de-duplication table then (seen_table.hpp's text)
  uint64_t snapshot_pos = 0;
  uint64_t next_pos = 1;      // the position the next logged event gets
  uint64_t saved_index = 0;   // the log index of the last save (0: none)
  std::deque<logged_event> log;  // the events after snapshot_pos, in order
  size_t log_bytes = 0;          // keys and payloads of `log`
};

/// The vnode's new owner takes the record over (creating it); answered with the record.
struct instance_claim {
  instance_id id;
  uint64_t epoch = 0;
};

/// Events handed to a durable instance, logged before it handles them.
struct instance_append {
  instance_id id;
  uint64_t claim = 0;
  uint64_t sender = 0;
  std::vector<uint64_t> seqs;
  std::vector<std::string> keys;
  std::vector<std::string> payloads;
};

/// The instance's state after the events up to `covers` (0 for a deployment that logs
/// nothing): it replaces the snapshot and drops those events from the log.
struct instance_save {
  instance_id id;
  uint64_t claim = 0;
  uint64_t covers = 0;
  std::string snapshot;
  std::string seen;
};

struct instance_cmd {
  std::variant<instance_claim, instance_append, instance_save> op;
};

/// Instance commands of many instances in one log entry, applied in order (a worker's vnodes
/// write their records through one writer, which gathers what they write meanwhile).
struct instances_cmd {
  std::vector<instance_cmd> ops;
};

/// Why an instance command was refused.
enum class instance_refusal : uint8_t {
  none = 0,
  no_deployment,  // the deployment (at that creation index) does not exist
  fenced,         // claimed again since (or under a later epoch), or never claimed
  log_full,       // the events since the last snapshot reached the bound
  malformed,      // an append whose lists differ in length, a save past the log
};

const char* to_string(instance_refusal r);

class instance_store {
public:
  /// An append is refused once the record's log holds `max_log_bytes` of keys and payloads:
  /// a claim's answer (snapshot and log) must fit in one frame of the wire.
  explicit instance_store(size_t max_log_bytes = 2u << 20) : max_log_bytes_(max_log_bytes) {
  }

  struct result {
    instance_refusal refusal = instance_refusal::none;
    uint64_t pos = 0;  // an append: the position of its first event
    const instance_id* claimed = nullptr;  // a claim applied: its record (until the next apply)
  };

  /// Applies `c` (the deployment it names exists: the state machine checked), at log `index`.
  result apply(const instance_cmd& c, uint64_t index);

  /// Forgets every record of the deployment `name` (it was undeployed).
  void drop(const std::string& name);

  const instance_record* find(const instance_id& id) const;
  const std::map<instance_id, instance_record>& all() const { return records_; }

  /// Replaces every record (a snapshot being restored).
  void restore(std::map<instance_id, instance_record> records) { records_ = std::move(records); }

  size_t max_log_bytes() const { return max_log_bytes_; }

private:
  result append(const instance_append& a);
  result save(const instance_save& s, uint64_t index);

  size_t max_log_bytes_;
  std::map<instance_id, instance_record> records_;
};

/// Returns the record of `id` as bytes (a claim's answer), or one with nothing in it.
std::string encode_record(const instance_id& id, const instance_record* r);

/// Decodes what encode_record returns; false when malformed.
bool decode_record(const std::string& bytes, instance_id& id, instance_record& out);

/// Puts every record of `s` in a snapshot of the cluster state.
void put_instances(const instance_store& s, cluster_state::wire::StateSnapshot& out);

/// Restores the records of a snapshot; false when one is malformed.
bool get_instances(const cluster_state::wire::StateSnapshot& in, instance_store& s);

} // namespace troupe::state
