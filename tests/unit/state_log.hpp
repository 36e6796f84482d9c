// A state machine fed as the Raft actor feeds it: each command through its log encoding, as
// the next entry. Shared by the unit tests of the replicated state.
#pragma once

#include <caf/test/unit_test.hpp>

#include "protocols/cluster_state/state_machine.hpp"

namespace troupe::state::testing {

struct state_log {
  state_machine sm;
  uint64_t index = 0;
  std::vector<member_change> changes;

  /// Applies `c` as the next log entry, through its encoding.
  apply_result apply(command c) {
    command back;
    CAF_REQUIRE(decode(encode(c), back));
    changes.clear();
    return sm.apply(back, ++index, changes);
  }
};

} // namespace troupe::state::testing
