// Which worker owns each vnode, as part of the replicated cluster state. The leader computes
// moves with placement::rebalance against the map at some version and proposes them; they
// apply only if the map is still at that version, so moves computed from a stale map are
// dropped (and computed again) instead of undoing newer ones.
#pragma once

#include "protocols/placement/placement.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace troupe::state {

struct vnode_moves_cmd {
  uint64_t based_on = 0;  // the map version the moves were computed against
  std::vector<placement::move> moves;
};

class vnode_map {
public:
  /// Sizes an empty map once the cluster's vnode count is known; no-op afterwards.
  void init(uint32_t count);

  /// Applies moves at log index `index`; false when they were computed against another version.
  /// `live(name)` says whether a worker is live (up, suspect or leaving) at that index: a move
  /// from a live owner is a hand-over (it gives its state to the new owner).
  bool apply(const vnode_moves_cmd& c, uint64_t index,
             const std::function<bool(const std::string&)>& live = {});

  uint32_t size() const { return static_cast<uint32_t>(owners_.size()); }
  const std::vector<std::string>& owners() const { return owners_; }

  /// The log index at which each vnode got its current owner: fences a former owner.
  const std::vector<uint64_t>& epochs() const { return epochs_; }

  /// Who owned each vnode before its current owner ("" : nobody), and whether that owner was
  /// live when the vnode moved (so that it hands its state over).
  const std::vector<std::string>& previous() const { return previous_; }
  const std::vector<bool>& handoffs() const { return handoffs_; }

  /// The log index of the last change (0: never placed).
  uint64_t version() const { return version_; }

  /// Returns how many vnodes `worker` owns.
  uint32_t count_of(const std::string& worker) const;

  void restore(std::vector<std::string> owners, std::vector<uint64_t> epochs, uint64_t version,
               std::vector<std::string> previous = {}, std::vector<bool> handoffs = {});

private:
  std::vector<std::string> owners_;
  std::vector<uint64_t> epochs_;
  std::vector<std::string> previous_;
  std::vector<bool> handoffs_;
  uint64_t version_ = 0;
};

} // namespace troupe::state
