// Vnode placement: balanced and minimal, checked on random sequences of joins and leaves.
#define CAF_SUITE placement
#include <caf/test/unit_test.hpp>

#include "protocols/placement/placement.hpp"

#include <algorithm>
#include <map>
#include <random>

using namespace troupe::placement;

namespace {

std::map<std::string, size_t> counts(const std::vector<std::string>& owners) {
  std::map<std::string, size_t> out;
  for (auto& o : owners)
    ++out[o];
  return out;
}

bool balanced(const std::vector<std::string>& owners, const std::vector<std::string>& workers) {
  auto c = counts(owners);
  if (workers.empty())
    return c.size() == 1 && c.count("") == 1;
  if (c.count(""))
    return false;
  size_t lo = SIZE_MAX;
  size_t hi = 0;
  for (auto& w : workers) {
    lo = std::min(lo, c[w]);
    hi = std::max(hi, c[w]);
  }
  return hi - lo <= 1 && c.size() == workers.size();
}

} // namespace

CAF_TEST(the first workers share the vnodes evenly) {
  std::vector<std::string> owners(64);
  apply_moves(owners, rebalance(owners, {"w2", "w1", "w3"}));
  CAF_CHECK(balanced(owners, {"w1", "w2", "w3"}));
  auto c = counts(owners);
  CAF_CHECK_EQUAL(c["w1"] + c["w2"] + c["w3"], 64u);
}

CAF_TEST(placement is deterministic whatever the order of the workers) {
  std::vector<std::string> a(100);
  std::vector<std::string> b(100);
  CAF_CHECK(rebalance(a, {"x", "y", "z"}).size() == rebalance(b, {"z", "x", "y"}).size());
  apply_moves(a, rebalance(a, {"x", "y", "z"}));
  apply_moves(b, rebalance(b, {"z", "y", "x"}));
  bool same = a == b;
  CAF_CHECK(same);
}

CAF_TEST(without workers every vnode is unowned and a balanced map does not move) {
  std::vector<std::string> owners(16);
  apply_moves(owners, rebalance(owners, {"a", "b"}));
  CAF_CHECK(rebalance(owners, {"a", "b"}).empty());
  apply_moves(owners, rebalance(owners, {}));
  CAF_CHECK(balanced(owners, {}));
}

CAF_TEST(random joins and leaves stay balanced and move at most ceil V over W plus one) {
  std::mt19937 rng{42};
  for (uint32_t v : {1u, 7u, 64u, 1000u, 65536u}) {
    std::vector<std::string> owners(v);
    std::vector<std::string> live;
    int next_name = 0;
    for (int step = 0; step < (v > 10000 ? 20 : 200); ++step) {
      bool join = live.empty() || (live.size() < 40 && rng() % 2 == 0);
      if (join) {
        live.push_back("w" + std::to_string(next_name++));
      } else {
        live.erase(live.begin() + static_cast<long>(rng() % live.size()));
      }
      auto moves = rebalance(owners, live);
      apply_moves(owners, moves);
      CAF_REQUIRE(balanced(owners, live));
      if (!live.empty()) {
        auto w = live.size();
        // A join: the newcomer's share. A leave: the leaver's share, at W before the leave.
        auto bound = join ? (v + w - 1) / w + 1 : (v + w) / (w + 1) + 1;
        CAF_CHECK_LESS_OR_EQUAL(moves.size(), bound);
      }
      CAF_CHECK(rebalance(owners, live).empty()); // a fixed point: nothing moves twice
    }
  }
}

CAF_TEST(a worker back under a new incarnation keeps its vnodes while it joins) {
  using ws = worker_view::state;
  // w2 was restarted: it joined again and has not sent its first heartbeat yet. Balancing over
  // the live workers alone would move its vnodes to w1, and back once it is up.
  auto p = plan({{"w1", ws::live, 32, false}, {"w2", ws::joining, 32, false}});
  CAF_CHECK(p.hold);
  CAF_CHECK_EQUAL(p.live, (std::vector<std::string>{"w1"}));
  // A new worker joining owns nothing yet: the others are balanced without waiting for it.
  p = plan({{"w1", ws::live, 64, false}, {"w3", ws::joining, 0, false}});
  CAF_CHECK(!p.hold);
  // Down: its vnodes stay for its lease, then go.
  CAF_CHECK(plan({{"w1", ws::live, 32, false}, {"w2", ws::down, 32, true}}).hold);
  p = plan({{"w1", ws::live, 32, false}, {"w2", ws::down, 32, false}});
  CAF_CHECK(!p.hold);
  CAF_CHECK_EQUAL(p.live, (std::vector<std::string>{"w1"}));
  CAF_CHECK(!plan({{"w1", ws::live, 64, false}, {"w2", ws::gone, 0, false}}).hold);
}
