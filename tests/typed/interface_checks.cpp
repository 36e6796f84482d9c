// Compiled by tests/typed_interfaces_test.sh once per CHECK: check 0 uses the role interfaces
// as they are meant to be used and must compile; every other check makes one mistake that the
// typed interfaces must turn into a compile error.
#include "actors/inspect/inspector.hpp"
#include "actors/log_roller.hpp"
#include "actors/raft/raft_actor.hpp"
#include "actors/router.hpp"
#include "actors/vnodes/vnodes.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace troupe {

using client = caf::typed_actor<caf::reacts_to<tick_atom>>;

void use(client::pointer self, router_actor router, raft_actor raft, vnodes_actor vnodes,
         inspector_actor inspector) {
  using namespace std::chrono_literals;
  std::string s;
#if CHECK == 0
  self->request(router, 1s, route_atom::value, s, s, s).then([](std::string&) {});
  self->request(raft, 1s, kv_put_atom::value, s, s, int64_t{-1}, uint64_t{1}, uint64_t{1})
    .then([](bool, uint64_t) {});
  self->send(vnodes, fence_atom::value);
  self->request(inspector, 1s, tree_atom::value).then([](std::string&) {});
#elif CHECK == 1
  // An argument of the wrong type: the key is a string.
  self->request(router, 1s, route_atom::value, s, 42, s).then([](std::string&) {});
#elif CHECK == 2
  // The wrong reply type: a put answers (ok, revision).
  self->request(raft, 1s, kv_put_atom::value, s, s, int64_t{-1}, uint64_t{1}, uint64_t{1})
    .then([](std::string&) {});
#elif CHECK == 3
  // A message for another role: fencing is the vnodes' business, not the router's.
  self->send(router, fence_atom::value);
#elif CHECK == 4
  // A message no role takes.
  self->send(inspector, tree_atom::value, s);
#endif
}

#if CHECK == 0
log_roller_actor::behavior_type roller() {
  return {
    [](log_lines_atom, const std::vector<std::string>&) {},
    [](log_rotate_atom) { return std::string{}; },
    [](metrics_atom) -> metrics_result { return {std::vector<std::string>{},
                                                 std::vector<uint64_t>{}}; },
  };
}
#elif CHECK == 5
// A behavior that leaves out part of its interface (rotation and metrics).
log_roller_actor::behavior_type roller() {
  return {[](log_lines_atom, const std::vector<std::string>&) {}};
}
#endif

} // namespace troupe
