#define CAF_SUITE vnode_owner
#include <caf/test/unit_test.hpp>

#include "protocols/ownership/lease.hpp"
#include "protocols/ownership/vnode_owner.hpp"

using namespace troupe;
using namespace troupe::ownership;
using std::chrono::milliseconds;

namespace {

const duration wait = reassign_after(milliseconds(400));

time_point at(int ms) {
  return time_point{} + milliseconds(ms);
}

} // namespace

CAF_TEST(the wait covers the lease on the slowest clock seen from the fastest) {
  auto lease = milliseconds(400);
  auto w = reassign_after(lease, 0.01);
  // Real time the lease can last (clock 1% slow) < real time the leader waits (clock 1% fast).
  CAF_CHECK_GREATER(std::chrono::duration<double>(w).count() / 1.01,
                    std::chrono::duration<double>(lease).count() / 0.99);
}

CAF_TEST(a vnode from nobody or from an expired owner is served at once) {
  vnode_owner a{"a", wait};
  auto fx = a.on_view({"a", 5, "", false}, at(0));
  CAF_CHECK(fx.start && !fx.from_state);
  CAF_CHECK(a.admits(5));
  CAF_CHECK(!a.admits(4)); // an event routed under an older epoch is not handled
  vnode_owner b{"b", wait};
  CAF_CHECK(b.on_view({"b", 9, "c", false}, at(0)).start); // c's lease was waited out
}

CAF_TEST(a hand over stops the old owner before the new one serves from its state) {
  vnode_owner a{"a", wait};
  vnode_owner b{"b", wait};
  a.on_view({"a", 5, "", false}, at(0));
  auto fb = b.on_view({"b", 8, "a", true}, at(10));
  CAF_CHECK(!fb.start);
  CAF_CHECK(b.phase() == vnode_phase::awaiting);
  CAF_CHECK_EQUAL(fb.ask_state_from.value_or(""), "a");
  CAF_CHECK(b.buffers(8));
  auto fa = a.on_view({"b", 8, "a", true}, at(12));
  CAF_CHECK(fa.stop);
  CAF_CHECK_EQUAL(fa.hand_over_to.value_or(""), "b");
  CAF_CHECK_EQUAL(fa.epoch, 8u);
  CAF_CHECK(a.phase() == vnode_phase::idle);
  auto fs = b.on_state(8, at(15));
  CAF_CHECK(fs.start && fs.from_state);
  CAF_CHECK(b.admits(8));
}

CAF_TEST(a state that comes before its view is kept for it) {
  vnode_owner b{"b", wait};
  CAF_CHECK(!b.on_state(8, at(0)).start);
  auto fx = b.on_view({"b", 8, "a", true}, at(5));
  CAF_CHECK(fx.start && fx.from_state);
}

CAF_TEST(views requests and states from older epochs change nothing) {
  vnode_owner a{"a", wait};
  a.on_view({"a", 5, "", false}, at(0));
  a.on_view({"b", 8, "a", true}, at(1));
  CAF_CHECK(a.phase() == vnode_phase::idle);
  // A late view from before the move must not give the vnode back.
  CAF_CHECK(!a.on_view({"a", 5, "", false}, at(2)).start);
  CAF_CHECK(a.phase() == vnode_phase::idle);
  CAF_CHECK(!a.on_request(6, "c", at(3)).no_state_to); // older than epoch 8
  vnode_owner b{"b", wait};
  b.on_view({"b", 8, "a", true}, at(0));
  CAF_CHECK(!b.on_state(7, at(1)).start);
}

CAF_TEST(without a state the new owner starts afresh once older owners cannot serve) {
  vnode_owner b{"b", wait};
  b.on_view({"b", 8, "a", true}, at(0));
  auto ask = b.on_tick(at(250));
  CAF_CHECK_EQUAL(ask.ask_state_from.value_or(""), "a"); // asked again
  CAF_CHECK(!b.on_no_state(8, "", at(260)).start);       // a has none: still wait
  auto until = static_cast<int>(std::chrono::duration_cast<milliseconds>(wait).count());
  CAF_CHECK(!b.on_tick(at(until - 1)).start);
  auto fx = b.on_tick(at(until + 1));
  CAF_CHECK(fx.start && !fx.from_state);
}

CAF_TEST(an owner still waiting passes a request on to the owner before it) {
  vnode_owner b{"b", wait};
  vnode_owner a{"a", wait};
  a.on_view({"a", 5, "", false}, at(0));
  b.on_view({"b", 8, "a", true}, at(0)); // b waits for a's state
  // The vnode moves on to c before the state came; c asks b.
  auto fb = b.on_request(11, "c", at(5));
  CAF_CHECK_EQUAL(fb.no_state_to.value_or(""), "c");
  CAF_CHECK_EQUAL(fb.ask_instead, "a");
  CAF_CHECK(b.phase() == vnode_phase::idle);
  vnode_owner c{"c", wait};
  c.on_view({"c", 11, "b", true}, at(5));
  auto fc = c.on_no_state(11, "a", at(6));
  CAF_CHECK_EQUAL(fc.ask_state_from.value_or(""), "a");
  // a, which never saw the moves, hands over to c when asked.
  auto fa = a.on_request(11, "c", at(7));
  CAF_CHECK(fa.stop);
  CAF_CHECK_EQUAL(fa.hand_over_to.value_or(""), "c");
  CAF_CHECK(c.on_state(11, at(9)).from_state);
}

CAF_TEST(a fence stops everything until a view gives the vnode back) {
  vnode_owner a{"a", wait};
  a.on_view({"a", 5, "", false}, at(0));
  CAF_CHECK(a.fence().stop);
  CAF_CHECK(!a.admits(5));
  CAF_CHECK(a.on_view({"a", 5, "", false}, at(10)).start); // joined again, still its owner
}
