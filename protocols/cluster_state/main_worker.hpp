// Which worker is the main worker, as part of the replicated cluster state (the Kibana RFC's
// "main process": the one that runs singletons and migrations). The leader picks it; each
// assignment's log index is its epoch, the fencing token of everything the main worker does.
// An assignment applies only if the current one is still the one it was computed against, so
// a stale proposal cannot undo a newer choice.
#pragma once

#include <cstdint>
#include <string>

namespace troupe::state {

struct main_worker_cmd {
  uint64_t based_on = 0;  // the epoch of the assignment it replaces (0: none yet)
  std::string name;       // "" : no main worker (no live worker)
};

class main_worker {
public:
  /// Applies an assignment at log index `index`; false when it was computed against another.
  /// `from_live`: whether the main worker it replaces is live (it hands its singletons over).
  bool apply(const main_worker_cmd& c, uint64_t index, bool from_live = false) {
    if (c.based_on != epoch_)
      return false;
    previous_ = name_;
    handoff_ = !name_.empty() && from_live;
    name_ = c.name;
    epoch_ = index;
    return true;
  }

  const std::string& name() const { return name_; }
  uint64_t epoch() const { return epoch_; }

  /// The main worker before this one ("" : none), and whether it was live when replaced.
  const std::string& previous() const { return previous_; }
  bool handoff() const { return handoff_; }

  void restore(std::string name, uint64_t epoch, std::string previous = {},
               bool handoff = false) {
    name_ = std::move(name);
    epoch_ = epoch;
    previous_ = std::move(previous);
    handoff_ = handoff;
  }

private:
  std::string name_;
  uint64_t epoch_ = 0;
  std::string previous_;
  bool handoff_ = false;
};

} // namespace troupe::state
