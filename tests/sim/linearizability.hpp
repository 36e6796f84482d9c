// A linearizability checker for a history of register operations (write, read, compare-and-
// set) on independent keys: Wing & Gong's search with Lowe's memoization of (linearized set,
// state). Linearizability is compositional, so each key is checked on its own.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace troupe::sim {

struct kv_op {
  enum kind_t : uint8_t { write, read, cas } kind = write;
  std::string key;
  std::string value;     // write: the value; cas: the new value
  std::string expected;  // cas: the value it expects
  // Outcome. For reads: `result` is the value seen (nullopt: key absent). For cas: ok.
  std::optional<std::string> result;
  bool ok = true;
  uint64_t call = 0;
  uint64_t ret = std::numeric_limits<uint64_t>::max();  // max: unknown outcome (may or may not apply)
  bool unknown() const { return ret == std::numeric_limits<uint64_t>::max(); }
};

struct check_result {
  bool ok = true;
  std::string key;       // the key whose history is not linearizable
  size_t ops = 0;        // how many operations were checked
  bool gave_up = false;  // the search exceeded its budget (counted as ok, reported)
};

/// Checks that `history` is linearizable. Operations with unknown outcome may take effect at
/// any point after their call, or never.
check_result check_linearizable(const std::vector<kv_op>& history, size_t max_states = 2'000'000);

} // namespace troupe::sim
