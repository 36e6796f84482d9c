// Kuzzle's link check, one direction of one connection: the sender numbers its frames 1, 2,
// 3, ... and stamps them with its incarnation; the receiver expects exactly the next number
// from exactly that incarnation. Anything else (a frame lost, repeated, or from an earlier life
// of the peer) means the link is out of step and must not be trusted: the sender is evicted
// and restarted rather than left to drift.
#pragma once

#include "protocols/wire/wire_errc.hpp"

#include <cstdint>

namespace troupe::wire {

class link_sender {
public:
  explicit link_sender(uint64_t incarnation) : incarnation_(incarnation) {}
  uint64_t incarnation() const { return incarnation_; }
  /// The number of the next frame sent.
  uint64_t next() { return ++last_; }
  uint64_t last() const { return last_; }

private:
  uint64_t incarnation_;
  uint64_t last_ = 0;
};

class link_receiver {
public:
  /// Starts checking a peer that said hello with `incarnation`.
  void start(uint64_t incarnation) {
    incarnation_ = incarnation;
    expected_ = 1;
  }

  /// Checks one frame; on success the next number is expected.
  wire_errc check(uint64_t incarnation, uint64_t seq) {
    if (incarnation != incarnation_)
      return wire_errc::stale_incarnation;
    if (seq < expected_)
      return wire_errc::duplicate;
    if (seq > expected_)
      return wire_errc::gap;
    ++expected_;
    return wire_errc::none;
  }

  uint64_t expected() const { return expected_; }

private:
  uint64_t incarnation_ = 0;
  uint64_t expected_ = 1;
};

} // namespace troupe::wire
