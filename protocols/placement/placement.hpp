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

/// A worker as the leader sees it when it places the vnodes.
struct worker_view {
  std::string name;
  enum class state : uint8_t { live, joining, down, gone } st = state::live;  // live: up or suspect
  uint32_t owned = 0;          // vnodes it owns in the map
  bool within_lease = false;   // down: it may still serve them (its lease has not run out)
};

/// Whom the vnodes may be placed on now, or that placement must wait.
struct placement_plan {
  std::vector<std::string> live;  // the workers to balance over
  bool hold = false;              // some worker may still serve, or soon serve again, its vnodes
};

/// Decides placement. A down worker keeps its vnodes for its lease (it may not know yet that
/// it lost its coordinator: there must never be two owners). A worker that owns vnodes and
/// is joining has just come back under a new incarnation (a restart within its lease): it
/// keeps them too, until its first heartbeat makes it live (or it goes down again), rather
/// than having them moved away and back with two hand-overs in between.
placement_plan plan(const std::vector<worker_view>& workers);

} // namespace troupe::placement
