#include "tests/sim/linearizability.hpp"

#include <algorithm>
#include <map>
#include <random>
#include <unordered_set>

namespace troupe::sim {

namespace {

using state = std::optional<std::string>;

/// Applies `op` to `s`; returns false when the op's recorded outcome contradicts `s`.
bool apply(const kv_op& op, state& s) {
  switch (op.kind) {
    case kv_op::write:
      s = op.value;
      return true;
    case kv_op::read:
      return op.unknown() || op.result == s;
    case kv_op::cas: {
      bool matches = s && *s == op.expected;
      if (op.unknown()) { // either outcome is possible; it only matters if it took effect
        if (matches)
          s = op.value;
        return true;
      }
      if (matches != op.ok)
        return false;
      if (matches)
        s = op.value;
      return true;
    }
  }
  return false;
}

struct searcher {
  const std::vector<kv_op>& ops;
  size_t max_states;
  // Memo of visited (linearized set, state) pairs as 128-bit hashes: the set's hash is a
  // Zobrist hash kept up to date as ops are linearized and undone, so a visit costs O(1)
  // memory and no string building. A collision would need ~2^64 states.
  std::vector<std::pair<uint64_t, uint64_t>> zobrist;
  struct pair_hash {
    size_t operator()(const std::pair<uint64_t, uint64_t>& p) const {
      return static_cast<size_t>(p.first ^ (p.second * 0x9E3779B97F4A7C15ULL));
    }
  };
  std::unordered_set<std::pair<uint64_t, uint64_t>, pair_hash> seen;
  uint64_t h1 = 0;
  uint64_t h2 = 0;
  bool gave_up = false;
  std::vector<size_t> order;  // known outcomes first: they are what must be explained

  searcher(const std::vector<kv_op>& o, size_t max) : ops(o), max_states(max) {
    std::mt19937_64 rng{0x5eed};
    for (size_t i = 0; i < ops.size(); ++i)
      zobrist.emplace_back(rng(), rng());
    for (size_t i = 0; i < ops.size(); ++i)
      if (!ops[i].unknown())
        order.push_back(i);
    for (size_t i = 0; i < ops.size(); ++i)
      if (ops[i].unknown())
        order.push_back(i);
  }

  static uint64_t mix(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
  }

  bool search(std::vector<bool>& done, const state& s) {
    // Finished when every op with a known outcome is linearized.
    uint64_t min_ret = std::numeric_limits<uint64_t>::max();
    bool all_known_done = true;
    for (size_t i = 0; i < ops.size(); ++i)
      if (!done[i]) {
        min_ret = std::min(min_ret, ops[i].ret);
        if (!ops[i].unknown())
          all_known_done = false;
      }
    if (all_known_done)
      return true;
    auto sh = s ? std::hash<std::string>{}(*s) + 1 : 0;
    if (!seen.emplace(h1 ^ mix(sh), h2 ^ mix(sh ^ 0xabcdef)).second)
      return false;
    if (seen.size() > max_states) {
      gave_up = true;
      return true;
    }
    // Any op called before the earliest pending return may come next.
    for (auto i : order) {
      if (done[i] || ops[i].call > min_ret)
        continue;
      auto next = s;
      if (!apply(ops[i], next))
        continue;
      done[i] = true;
      h1 ^= zobrist[i].first;
      h2 ^= zobrist[i].second;
      bool ok = search(done, next);
      h1 ^= zobrist[i].first;
      h2 ^= zobrist[i].second;
      if (ok)
        return true;
      done[i] = false;
    }
    return false;
  }
};

} // namespace

check_result check_linearizable(const std::vector<kv_op>& history, size_t max_states) {
  std::map<std::string, std::vector<kv_op>> by_key;
  for (auto& op : history)
    by_key[op.key].push_back(op);
  check_result out;
  for (auto& [key, ops] : by_key) {
    // Reads with unknown outcome constrain nothing: leave them out.
    ops.erase(std::remove_if(ops.begin(), ops.end(),
                             [](const kv_op& o) { return o.kind == kv_op::read && o.unknown(); }),
              ops.end());
    std::sort(ops.begin(), ops.end(), [](const kv_op& a, const kv_op& b) { return a.call < b.call; });
    out.ops += ops.size();
    searcher s{ops, max_states};
    std::vector<bool> done(ops.size(), false);
    bool ok = s.search(done, std::nullopt);
    out.gave_up |= s.gave_up;
    if (!ok) {
      out.ok = false;
      out.key = key;
      return out;
    }
  }
  return out;
}

} // namespace troupe::sim
