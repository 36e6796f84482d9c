#include "protocols/placement/placement.hpp"

#include <algorithm>
#include <map>

namespace troupe::placement {

std::vector<move> rebalance(const std::vector<std::string>& owners,
                            std::vector<std::string> workers) {
  std::vector<move> out;
  std::sort(workers.begin(), workers.end());
  workers.erase(std::unique(workers.begin(), workers.end()), workers.end());
  auto v = static_cast<uint32_t>(owners.size());
  if (workers.empty()) {
    for (uint32_t i = 0; i < v; ++i)
      if (!owners[i].empty())
        out.push_back(move{i, owners[i], ""});
    return out;
  }
  // What each live worker holds now, lowest vnode first.
  std::map<std::string, std::vector<uint32_t>> held;
  for (auto& w : workers)
    held[w];
  std::vector<uint32_t> pool;
  for (uint32_t i = 0; i < v; ++i) {
    auto it = held.find(owners[i]);
    if (it == held.end())
      pool.push_back(i);
    else
      it->second.push_back(i);
  }
  // Targets: V / W each, and one more for the V % W workers that hold the most now (ties by
  // name), so that the extra vnodes stay where they are.
  auto w_count = static_cast<uint32_t>(workers.size());
  auto base = v / w_count;
  auto extra = v % w_count;
  std::vector<std::string> by_load = workers;
  std::stable_sort(by_load.begin(), by_load.end(), [&](auto& a, auto& b) {
    return held[a].size() > held[b].size();
  });
  std::map<std::string, uint32_t> target;
  for (uint32_t i = 0; i < w_count; ++i)
    target[by_load[i]] = base + (i < extra ? 1 : 0);
  // Workers over their target give up their highest vnodes.
  for (auto& w : workers) {
    auto& mine = held[w];
    while (mine.size() > target[w]) {
      pool.push_back(mine.back());
      mine.pop_back();
    }
  }
  std::sort(pool.begin(), pool.end());
  // Workers under their target take from the pool, in name order.
  size_t next = 0;
  for (auto& w : workers) {
    auto& mine = held[w];
    while (mine.size() < target[w] && next < pool.size()) {
      auto vn = pool[next++];
      out.push_back(move{vn, owners[vn], w});
      mine.push_back(vn);
    }
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.vnode < b.vnode; });
  return out;
}

void apply_moves(std::vector<std::string>& owners, const std::vector<move>& moves) {
  for (auto& m : moves)
    if (m.vnode < owners.size())
      owners[m.vnode] = m.to;
}

placement_plan plan(const std::vector<worker_view>& workers) {
  placement_plan p;
  for (auto& w : workers) {
    using st = worker_view::state;
    if (w.st == st::live)
      p.live.push_back(w.name);
    else if (w.owned > 0 && (w.st == st::joining || (w.st == st::down && w.within_lease)))
      p.hold = true;
  }
  return p;
}

} // namespace troupe::placement
