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
  bool apply(const main_worker_cmd& c, uint64_t index) {
    if (c.based_on != epoch_)
      return false;
    name_ = c.name;
    epoch_ = index;
    return true;
  }

  const std::string& name() const { return name_; }
  uint64_t epoch() const { return epoch_; }

  void restore(std::string name, uint64_t epoch) {
    name_ = std::move(name);
    epoch_ = epoch;
  }

private:
  std::string name_;
  uint64_t epoch_ = 0;
};

} // namespace troupe::state
