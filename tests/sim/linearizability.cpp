#include "tests/sim/linearizability.hpp"

#include <algorithm>
#include <map>
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
  std::unordered_set<std::string> seen;
  bool gave_up = false;

  std::string key_of(const std::vector<bool>& done, const state& s) {
    std::string k(done.size() + 2, '0');
    for (size_t i = 0; i < done.size(); ++i)
      k[i] = done[i] ? '1' : '0';
    k[done.size()] = s ? '|' : '-';
    if (s)
      k += *s;
    return k;
  }

  bool search(std::vector<bool>& done, state s) {
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
    if (!seen.insert(key_of(done, s)).second)
      return false;
    if (seen.size() > max_states) {
      gave_up = true;
      return true;
    }
    // Any op called before the earliest pending return may come next.
    for (size_t i = 0; i < ops.size(); ++i) {
      if (done[i] || ops[i].call > min_ret)
        continue;
      auto next = s;
      if (!apply(ops[i], next))
        continue;
      done[i] = true;
      if (search(done, next))
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
    searcher s{ops, max_states, {}, false};
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
