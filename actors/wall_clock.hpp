// Wall-clock time for display only (uptimes, "since"): never for timeouts or ordering, which
// use the actor clock so that deterministic tests can drive them.
#pragma once

#include <chrono>
#include <cstdint>

namespace troupe {

inline int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

} // namespace troupe
