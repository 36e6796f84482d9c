// The in-memory Raft log: a snapshot boundary plus the entries after it. The driver keeps the
// durable copy; this one answers term lookups, slices and conflict checks.
#pragma once

#include "protocols/raft/types.hpp"

#include <deque>
#include <optional>

namespace troupe::raft {

class raft_log {
public:
  /// Starts after `snap` (or empty), holding `entries` that follow it.
  void reset(const snapshot_meta& snap, std::vector<entry> entries);

  index_t first_index() const { return snap_.index + 1; }
  index_t last_index() const { return snap_.index + entries_.size(); }
  term_t last_term() const { return term_at(last_index()).value_or(0); }
  const snapshot_meta& snapshot_boundary() const { return snap_; }

  /// Returns the term of the entry at `i`; nullopt when compacted away or beyond the end.
  std::optional<term_t> term_at(index_t i) const;

  /// True when the entry at `i` exists with term `t`.
  bool matches(index_t i, term_t t) const {
    auto x = term_at(i);
    return x && *x == t;
  }

  /// Returns entries [from, last] within the limits (always at least one when any exist).
  std::vector<entry> slice(index_t from, size_t max_entries, size_t max_bytes) const;

  /// Returns entries [from, to].
  std::vector<entry> range(index_t from, index_t to) const;

  /// Appends `es` after the entry at es.front().index - 1, dropping any conflicting suffix.
  /// Returns the first index written (for the driver's truncate-and-append).
  index_t append(const std::vector<entry>& es);

  /// Drops entries up to and including `i`, which becomes the snapshot boundary.
  void compact(index_t i);

  /// True when a candidate whose log ends at (idx, term) is at least as up to date (5.4.1).
  bool is_up_to_date(index_t idx, term_t t) const {
    return t > last_term() || (t == last_term() && idx >= last_index());
  }

private:
  snapshot_meta snap_;
  std::deque<entry> entries_;
};

} // namespace troupe::raft
