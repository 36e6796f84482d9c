// The counters an inspected actor keeps about itself. The actor writes them on its message
// path with relaxed atomic increments (no lock, no allocation); the inspector reads them when
// an operator asks. The mailbox size is what was enqueued and not yet handled.
#pragma once

#include <atomic>
#include <cstdint>

namespace troupe {

struct actor_stats {
  std::atomic<uint64_t> enqueued{0};
  std::atomic<uint64_t> handled{0};

  uint64_t mailbox() const {
    auto h = handled.load(std::memory_order_relaxed);
    auto e = enqueued.load(std::memory_order_relaxed);
    return e > h ? e - h : 0;
  }
};

} // namespace troupe
