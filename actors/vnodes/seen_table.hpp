// The at-least-once de-duplication table of one instance: the (sender, sequence) pairs it
// handled, bounded per sender. It moves with the instance's state, so that a retry that
// crosses a hand-over is still recognized. Encoded as text: "sender:seq,from-to,;sender:...;"
// (runs of consecutive numbers as ranges).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>

namespace troupe {

/// How many sequence numbers are kept per sender (the oldest go first).
constexpr size_t seen_per_sender = 100000;

/// The sequence numbers of one sender an instance handled: the highest `limit` of them. A
/// sender numbers its events in order, so nearly every one is appended at the end: a sorted
/// deque does that without an allocation per event (a std::set made one, and used six times
/// the memory); one that comes late (a retry) is inserted in place.
class seen_seqs {
public:
  explicit seen_seqs(size_t limit = seen_per_sender) : limit_(limit) {}

  bool contains(uint64_t seq) const;

  /// Remembers `seq`; beyond the limit, the lowest is forgotten.
  void insert(uint64_t seq);

  /// Forgets `seq` (an event that was not logged after all).
  void erase(uint64_t seq);

  size_t size() const { return seqs_.size(); }
  auto begin() const { return seqs_.begin(); }
  auto end() const { return seqs_.end(); }

private:
  size_t limit_;
  std::deque<uint64_t> seqs_;  // ascending, no duplicates
};

using seen_table = std::map<uint64_t, seen_seqs>;  // sender -> sequences handled

std::string encode_seen(const seen_table& t);

/// Decodes what encode_seen returns; a malformed text gives what it holds up to the fault.
seen_table decode_seen(const std::string& text);

} // namespace troupe
