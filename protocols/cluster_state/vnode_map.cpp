#include "protocols/cluster_state/vnode_map.hpp"

#include <algorithm>

namespace troupe::state {

void vnode_map::init(uint32_t count) {
  if (!owners_.empty() || count == 0)
    return;
  owners_.assign(count, std::string{});
  epochs_.assign(count, 0);
  previous_.assign(count, std::string{});
  handoffs_.assign(count, false);
}

bool vnode_map::apply(const vnode_moves_cmd& c, uint64_t index,
                      const std::function<bool(const std::string&)>& live) {
  if (c.based_on != version_ || owners_.empty())
    return false;
  for (auto& m : c.moves) {
    if (m.vnode >= owners_.size() || owners_[m.vnode] != m.from)
      return false; // validated as a whole: a bad batch changes nothing
  }
  for (auto& m : c.moves) {
    owners_[m.vnode] = m.to;
    epochs_[m.vnode] = index;
    previous_[m.vnode] = m.from;
    handoffs_[m.vnode] = !m.from.empty() && live && live(m.from);
  }
  version_ = index;
  return true;
}

uint32_t vnode_map::count_of(const std::string& worker) const {
  return static_cast<uint32_t>(std::count(owners_.begin(), owners_.end(), worker));
}

void vnode_map::restore(std::vector<std::string> owners, std::vector<uint64_t> epochs,
                        uint64_t version, std::vector<std::string> previous,
                        std::vector<bool> handoffs) {
  owners_ = std::move(owners);
  epochs_ = std::move(epochs);
  epochs_.resize(owners_.size(), 0);
  previous_ = std::move(previous);
  previous_.resize(owners_.size());
  handoffs_ = std::move(handoffs);
  handoffs_.resize(owners_.size(), false);
  version_ = version;
}

} // namespace troupe::state
