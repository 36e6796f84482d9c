// What to do when a supervised child exits: restart it after a backoff, or give up. Modelled on
// OTP's restart intensity: at most `max_restarts` restarts within `period`; one more means the
// failure is not transient and the supervisor itself fails, loudly.
#pragma once

#include "protocols/clock.hpp"
#include "protocols/supervision/backoff.hpp"

#include <cstdint>
#include <vector>

namespace troupe::supervision {

struct restart_settings {
  uint32_t max_restarts = 5;
  duration period = std::chrono::seconds(60);
  duration initial_backoff = milliseconds(100);
  duration max_backoff = std::chrono::seconds(5);
  // A child that ran this long without crashing is healthy again: its backoff starts over.
  duration stable_after = std::chrono::seconds(10);
};

/// How a child ended, as the supervisor saw it.
enum class exit_kind : uint8_t {
  clean,         // exit code 0 while nobody asked it to stop: it should not have stopped
  crashed,       // killed by a signal or a non-zero exit code
  config_error,  // exited with the configuration-error code: restarting cannot help
};

struct restart_decision {
  enum action_t : uint8_t { restart, give_up_intensity, give_up_config } action;
  duration delay{0};  // with restart: wait this long first
};

class restart_policy {
public:
  explicit restart_policy(const restart_settings& cfg);

  /// Decides what follows an exit at `now` of a child that had been running since `started`.
  restart_decision on_exit(exit_kind kind, time_point started, time_point now, double jitter);

  /// Returns how many restarts happened within the current period window.
  size_t recent_restarts() const { return restarts_.size(); }

private:
  restart_settings cfg_;
  // A vector, not a deque: every supervised child holds one, and an empty std::deque already
  // allocates a 512-byte block (a node of 100,000 spawned actors paid 50 MB for it).
  std::vector<time_point> restarts_;
  backoff backoff_;
};

} // namespace troupe::supervision
