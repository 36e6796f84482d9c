// Where each vnode lives: a pure, deterministic function of the vnode count, the live workers
// and the current assignment (the Tremor RFC's fixed vnodes spread over the workers).
//
//   balanced: any two live workers' vnode counts differ by at most one;
//   minimal:  a vnode moves only when its owner is gone or holds more than its share, so one
//             worker joining or leaving moves at most ceil(V / W) + 1 vnodes.
//
// The coordinator leader computes it and commits the moves through Raft; every replica then
// holds the same map.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace troupe::placement {

constexpr uint32_t default_vnodes = 64;
constexpr uint32_t max_vnodes = 65536;

/// One vnode changing owner ("" for no owner: there are no live workers).
struct move {
  uint32_t vnode = 0;
  std::string from;
  std::string to;
};

/// Returns the moves that make `owners` (one entry per vnode, "" when unowned) balanced over
/// `workers` (the live workers, any order) while keeping as many vnodes in place as possible.
/// With no workers every vnode becomes unowned.
std::vector<move> rebalance(const std::vector<std::string>& owners,
                            std::vector<std::string> workers);

/// Applies `moves` to `owners`.
void apply_moves(std::vector<std::string>& owners, const std::vector<move>& moves);

} // namespace troupe::placement
