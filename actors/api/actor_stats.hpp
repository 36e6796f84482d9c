// The counters an inspected actor keeps about itself. The actor writes them on its message
// path with relaxed atomic increments (no lock, no allocation); the inspector reads them when
// an operator asks. The mailbox size is what was enqueued and not yet handled. Of what a user's
// actor handled, Troupe's own requests (snapshot, restore, the console's dump) are counted
// apart: operators see the messages of their application.
#pragma once

#include <atomic>
#include <cstdint>

namespace troupe {

/// The message counters of one inspected actor (see counted_actor), read by the console.
struct actor_stats {
  std::atomic<uint64_t> enqueued{0};  ///< Messages put in its mailbox.
  std::atomic<uint64_t> handled{0};   ///< Messages it handled, Troupe's own included.
  std::atomic<uint64_t> internal{0};  ///< Of `handled`: Troupe's own snapshot, restore and dump.

  /// The messages handled, Troupe's own left out.
  uint64_t user_handled() const {
    auto h = handled.load(std::memory_order_relaxed);
    auto i = internal.load(std::memory_order_relaxed);
    return h > i ? h - i : 0;
  }

  /// The messages waiting in its mailbox: enqueued and not yet handled.
  uint64_t mailbox() const {
    auto h = handled.load(std::memory_order_relaxed);
    auto e = enqueued.load(std::memory_order_relaxed);
    return e > h ? e - h : 0;
  }
};

} // namespace troupe
