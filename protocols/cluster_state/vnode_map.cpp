#include "protocols/cluster_state/vnode_map.hpp"

#include <algorithm>

namespace troupe::state {

void vnode_map::init(uint32_t count) {
  if (!owners_.empty() || count == 0)
    return;
  owners_.assign(count, std::string{});
  epochs_.assign(count, 0);
}

bool vnode_map::apply(const vnode_moves_cmd& c, uint64_t index) {
  if (c.based_on != version_ || owners_.empty())
    return false;
  for (auto& m : c.moves) {
    if (m.vnode >= owners_.size() || owners_[m.vnode] != m.from)
      return false; // validated as a whole: a bad batch changes nothing
  }
  for (auto& m : c.moves) {
    owners_[m.vnode] = m.to;
    epochs_[m.vnode] = index;
  }
  version_ = index;
  return true;
}

uint32_t vnode_map::count_of(const std::string& worker) const {
  return static_cast<uint32_t>(std::count(owners_.begin(), owners_.end(), worker));
}

void vnode_map::restore(std::vector<std::string> owners, std::vector<uint64_t> epochs,
                        uint64_t version) {
  owners_ = std::move(owners);
  epochs_ = std::move(epochs);
  epochs_.resize(owners_.size(), 0);
  version_ = version;
}

} // namespace troupe::state
