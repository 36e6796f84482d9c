// The coordinator's membership view as a pure state machine: joins, heartbeats, leaves, lost
// connections and clock ticks go in; state transitions (to log and to broadcast) come out.
// No CAF, no clock, no I/O: the membership actor feeds it and acts on what it returns.
#pragma once

#include "protocols/clock.hpp"
#include "protocols/membership/failure_detector.hpp"
#include "protocols/membership/types.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace troupe::membership {

struct table_settings {
  detector_settings detector;
  duration forget_after = std::chrono::hours(1);  // gone members are dropped from the view after
  size_t max_members = 10000;                     // joins past this are rejected
};

/// One change of a member's state, with what caused it (for the info log line).
struct transition {
  std::string name;
  uint64_t incarnation = 0;
  std::optional<member_state> from;  // empty: the member is new
  member_state to = member_state::joining;
  std::string cause;
};

class membership_table {
public:
  membership_table(std::string cluster_id, table_settings cfg);

  /// Adds the node that owns this table. It is up from the start and never suspected: the
  /// process that runs the table is alive by definition.
  std::vector<transition> add_local(member self, time_point now, int64_t wall_ms);

  struct join_outcome {
    bool accepted = false;
    std::string reject_reason;
    uint64_t incarnation = 0;
    std::vector<transition> changes;
  };

  /// Handles a join. A retry of the same process's join is answered with the incarnation it
  /// already has; a restarted process (another pid or start time) gets a new incarnation. A
  /// name held by another live process is refused: two processes must never share a name.
  join_outcome join(member candidate, time_point now, int64_t wall_ms);

  /// Starts watching a member whose join the replicated state accepted with
  /// `m.incarnation`. A retry of the same incarnation changes nothing.
  std::vector<transition> admit(member m, time_point now, int64_t wall_ms);

  /// The replicated state no longer has this incarnation alive (its coordinator was declared
  /// lost, or it joined again elsewhere): it is down here too, and must join again.
  std::vector<transition> supersede(const std::string& name, uint64_t incarnation,
                                    const std::string& cause, time_point now, int64_t wall_ms);

  struct heartbeat_outcome {
    bool rejoin = false;  // the sender is unknown to this table under that incarnation
    std::vector<transition> changes;
  };

  heartbeat_outcome heartbeat(const std::string& name, uint64_t incarnation, time_point now,
                              int64_t wall_ms);

  /// A graceful leave: the member becomes `left`, not `down`.
  std::vector<transition> leave(const std::string& name, uint64_t incarnation, time_point now,
                                int64_t wall_ms);

  /// The member's connection closed: it crashed or its host is gone.
  std::vector<transition> connection_lost(const std::string& name, uint64_t incarnation,
                                          time_point now, int64_t wall_ms);

  /// Runs failure detection and forgets long-gone members.
  std::vector<transition> tick(time_point now, int64_t wall_ms);

  /// Returns the earliest time at which tick() may change something if no heartbeat comes
  /// first (time_point::max() when nothing is pending): when to tick, instead of polling.
  time_point next_change(time_point now) const;

  /// Returns the view as members see it: coordinators first, then by name in natural order.
  view snapshot() const;

  /// Returns the member called `name`, or nullptr.
  const member* find(const std::string& name) const;

  uint64_t version() const { return version_; }
  const std::string& cluster_id() const { return cluster_id_; }

private:
  struct entry {
    member info;
    bool local = false;
    std::optional<failure_detector> detector;
    time_point gone_since{};
  };

  transition set_state(entry& e, member_state to, std::string cause, time_point now,
                       int64_t wall_ms);

  std::string cluster_id_;
  table_settings cfg_;
  std::map<std::string, entry> members_;
  uint64_t next_incarnation_ = 1;
  uint64_t version_ = 0;
};

/// Orders "w-2" before "w-10": digit runs compare by value.
bool natural_less(const std::string& a, const std::string& b);

} // namespace troupe::membership
