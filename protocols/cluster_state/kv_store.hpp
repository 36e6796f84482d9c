// The cluster's KV namespace as a deterministic state machine, applied from the Raft log: every
// change gets the next revision (etcd's model), compare-and-set works on a key's mod revision,
// and a bounded history of events lets a watcher resume after any revision it has seen without
// a gap (or learn that it must re-read, if that revision fell out of the history).
//
// Retries are de-duplicated: a command carries (client, sequence); a client's command with a
// sequence it already applied returns the first outcome instead of applying twice, so a client
// may safely resend a write whose acknowledgement it never received.
#pragma once

#include "protocols/cluster_state/commands.hpp"

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

namespace troupe::state {

struct kv_record {
  std::string key;
  std::string value;
  uint64_t create_revision = 0;
  uint64_t mod_revision = 0;
  uint64_t version = 0;  // puts since creation
};

struct kv_event {
  enum type_t : uint8_t { put = 0, del = 1 } type = put;
  kv_record record;  // for del: the key and the deletion's revision in mod_revision
};

class kv_store {
public:
  /// `history_limit` bounds the events kept for watchers. It shapes the state (what a watcher
  /// can resume from), so every replica of a cluster must use the same value.
  explicit kv_store(size_t history_limit = 10000) : history_limit_(history_limit) {
  }

  /// Applies a committed put or delete (other commands are not the KV store's).
  apply_result apply(const command& c);

  /// Returns the record at `key`.
  std::optional<kv_record> get(const std::string& key) const;

  /// Returns up to `limit` records whose key starts with `prefix`, in key order, starting after
  /// `after` (for paging).
  std::vector<kv_record> list(const std::string& prefix, size_t limit,
                              const std::string& after = {}) const;

  struct compacted {
    uint64_t oldest_available = 0;  // resume from a full read at this revision or later
  };

  /// Returns every event on keys starting with `prefix` with a revision after `after`, in
  /// order, or `compacted` when some of them are no longer kept.
  std::variant<std::vector<kv_event>, compacted> events_after(const std::string& prefix,
                                                              uint64_t after) const;

  uint64_t revision() const { return revision_; }
  size_t size() const { return data_.size(); }

  /// Returns the whole state, for a Raft snapshot.
  std::string snapshot() const;

  /// Replaces the state with a snapshot; false when malformed.
  bool restore(const std::string& bytes);

private:
  void record(kv_event ev);

  std::map<std::string, kv_record> data_;
  uint64_t revision_ = 0;
  std::deque<kv_event> history_;
  uint64_t compacted_revision_ = 0;  // events at or before it are gone from history_
  size_t history_limit_;
  struct seen {
    uint64_t sequence = 0;
    apply_result result;
  };
  std::unordered_map<uint64_t, seen> clients_;
};

} // namespace troupe::state
