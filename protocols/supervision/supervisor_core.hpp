// The decisions of one supervisor, as in OTP's `supervisor`: which children to stop and start
// again when one of them exits, and when to give up and escalate to the parent. Pure: the
// supervisor actor (actors/supervision/supervisor) feeds it exits and does what it says.
//
// Strategies (OTP's names):
//   one_for_one   only the child that exited is started again: its siblings do not depend on it;
//   one_for_all   every child is stopped and all start again, in order: they share state that
//                 must be rebuilt together;
//   rest_for_one  the child and those started after it are stopped and start again, in order:
//                 each child depends on the ones before it.
// Intensity: more than `max_restarts` restarts within `period` means the failure is not
// transient; the supervisor stops its children and escalates (its parent sees it exit). A
// child that exits `fatal` (e.g. the Raft log cannot be written) escalates at once: starting
// it again cannot help, and the node must stop with the child's exit code.
#pragma once

#include "protocols/clock.hpp"

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace troupe::supervision {

enum class strategy : uint8_t { one_for_one, one_for_all, rest_for_one };

const char* to_string(strategy s);

/// When a child is started again (OTP's restart types).
enum class restart_type : uint8_t {
  permanent,  // always: it must run as long as its supervisor does
  transient,  // only after an abnormal exit
  temporary,  // never: once it exits it is gone
};

/// How a child's exit looked to its supervisor.
enum class child_exit : uint8_t {
  normal,   // it stopped by itself, with no error
  crashed,  // an error, a kill, a crash: starting it again may help
  fatal,    // an error that starting it again cannot fix: escalate at once
};

struct intensity {
  uint32_t max_restarts = 3;
  duration period = std::chrono::seconds(5);
};

struct child_spec {
  std::string name;
  restart_type restart = restart_type::permanent;
};

enum class child_state : uint8_t {
  running,
  stopping,  // the supervisor stopped it and waits for its exit
  waiting,   // exited (or stopped): starts again once every stopping sibling is gone
  stopped,   // exited and not restarted (temporary, transient after a normal exit)
};

const char* to_string(child_state s);

/// What the supervisor actor does after an exit.
struct effects {
  std::vector<size_t> stop;   // siblings to stop now, in reverse start order
  std::vector<size_t> start;  // children to start now, in start order
  std::optional<std::string> escalate;  // give up: stop every child and exit with this reason
};

class supervisor_core {
public:
  supervisor_core(strategy how, intensity limit, std::vector<child_spec> children);

  /// Child `index` exited at `now`; `why` says how, for the escalation text.
  effects on_exit(size_t index, child_exit kind, time_point now, const std::string& why);

  /// Adds a child at the end (started at once by the caller: it is running).
  size_t add_child(child_spec spec);

  /// Marks a stopped child running again (the caller started it outside a restart).
  void mark_running(size_t index);

  size_t size() const { return children_.size(); }
  const child_spec& spec(size_t index) const { return children_[index].spec; }
  child_state state(size_t index) const { return children_[index].state; }
  uint32_t restarts(size_t index) const { return children_[index].restarts; }
  uint32_t total_restarts() const { return total_restarts_; }
  strategy how() const { return how_; }
  const intensity& limit() const { return limit_; }

private:
  struct child {
    child_spec spec;
    child_state state = child_state::running;
    uint32_t restarts = 0;
  };

  bool wants_restart(const child& c, child_exit kind) const;
  bool any_stopping() const;
  std::vector<size_t> take_waiting();

  strategy how_;
  intensity limit_;
  std::vector<child> children_;
  std::deque<time_point> recent_;  // restart times within the period
  uint32_t total_restarts_ = 0;
};

} // namespace troupe::supervision
