// One vnode as one worker sees it: whether it serves it, waits for its state, or has nothing
// to do with it. The pure core of a vnode actor (actors/vnodes); the seeded simulation
// (tests/sim/ownership_sim) drives it with many workers, crashes, pauses, partitions, lost,
// duplicated and reordered messages and drifting clocks.
//
// The rules, with the lease rules of lease.hpp, keep one owner serving a vnode at a time:
//   - Ownership epochs (the log index of each move) only go forward: a view, a state or a
//     request under an epoch older than one already seen for the vnode is ignored, so a
//     reordered or late message cannot take a worker back to an ownership it gave up. (The
//     worker also ignores whole views older than its own join: see the agent.)
//   - A vnode that moved away stops at once; its state goes to the new owner when the move
//     was a hand-over (the old owner was live when the move was committed), or when the new
//     owner asks for it.
//   - A vnode that arrives from no owner, or from one whose lease had run out (the leader
//     waited it out), is served at once.
//   - A vnode that arrives by hand-over is served from the old owner's state as soon as it
//     comes (the old owner stopped before it sent it). The new owner asks for it now and
//     again; an old owner that was itself still waiting (the vnode moved twice quickly)
//     passes the question on to the owner before it. If no state has come reassign_after(
//     lease) after the new owner learned of the move, it starts afresh: by then every older
//     owner has either seen the move and stopped, or its lease has run out. That rests on
//     each worker's coordinator sending it the view with the move before any heartbeat
//     answer it sends after applying the move (one connection, in order), so that no lease
//     renewed after the move covers the old ownership.
//   - The worker's lease is checked by the caller: nothing is handled without it, and a
//     worker whose lease ran out drops every vnode (fence) until a view gives them back.
#pragma once

#include "protocols/clock.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace troupe::ownership {

/// What a cluster view says of one vnode.
struct vnode_view {
  std::string owner;      // "" : none
  uint64_t epoch = 0;     // the log index at which `owner` got the vnode
  std::string from;       // who had it before (""; or the owner itself after a rejoin)
  bool handoff = false;   // `from` was live at the move: it hands its state over
};

enum class vnode_phase : uint8_t {
  idle,      // not this worker's
  awaiting,  // this worker's, waiting for the old owner's state (events are buffered)
  serving,   // this worker's: its instances run
};

const char* to_string(vnode_phase p);

/// What the caller does after an input, in this order: stop, hand over, answer, ask, start.
struct vnode_effects {
  bool stop = false;             // stop the instances
  std::optional<std::string> hand_over_to;    // with stop: send their state to this worker
  uint64_t epoch = 0;                         // the epoch of a hand-over, answer or request
  std::optional<std::string> no_state_to;     // tell this worker there is no state here...
  std::string ask_instead;                    // ... and, when not empty, whom to ask instead
  std::optional<std::string> ask_state_from;  // ask this worker for its state
  bool start = false;            // start the instances (from the state that came: from_state)
  bool from_state = false;
  bool drop_buffer = false;      // the events that waited have nowhere to go here
  std::string gave_up_on;        // with start: the old owner whose state never came
};

class vnode_owner {
public:
  /// `self`: this worker's name. `wait`: how long a hand-over may take before the new owner
  /// starts afresh (reassign_after of the cluster's lease).
  vnode_owner(std::string self, duration wait);

  /// A new view of this vnode, received at `now` (this worker's clock).
  vnode_effects on_view(const vnode_view& v, time_point now);

  /// The old owner's state for `epoch` arrived.
  vnode_effects on_state(uint64_t epoch, time_point now);

  /// The old owner answered that it does not serve the vnode: there is no state, or (when
  /// `ask_instead` is not empty) the owner before it may still have it.
  vnode_effects on_no_state(uint64_t epoch, const std::string& ask_instead, time_point now);

  /// `requester` owns the vnode since `epoch` and asks for its state.
  vnode_effects on_request(uint64_t epoch, const std::string& requester, time_point now);

  /// Time passes: ask the old owner again, or start afresh once every older owner has
  /// stopped or lost its lease.
  vnode_effects on_tick(time_point now);

  /// This worker's lease ran out (or it lost its coordinator): everything stops, and the next
  /// view is taken afresh.
  vnode_effects fence();

  vnode_phase phase() const { return phase_; }
  uint64_t epoch() const { return epoch_; }

  /// True when an event sent under `epoch` may be handled now (the lease aside).
  bool admits(uint64_t epoch) const { return phase_ == vnode_phase::serving && epoch == epoch_; }

  /// True when an event sent under `epoch` should wait (the state is on its way, or the
  /// sender saw a newer view than this worker has yet).
  bool buffers(uint64_t epoch) const;

  /// Testing hook: skip the check that ignores older epochs (the simulation shows it matters).
  void ignore_epoch_order_for_testing() { check_order_ = false; }

  /// How often the old owner is asked again while its state does not come.
  static constexpr duration ask_again = milliseconds(200);

private:
  void become_serving(vnode_effects& fx, bool from_state);
  void gain(const vnode_view& v, time_point now, vnode_effects& fx);

  std::string self_;
  duration wait_;
  vnode_phase phase_ = vnode_phase::idle;
  uint64_t known_epoch_ = 0;  // the newest epoch seen for this vnode, from anywhere
  uint64_t epoch_ = 0;        // of this worker's current ownership (awaiting or serving)
  std::string from_;
  time_point start_after_{};               // awaiting: start fresh at this time
  time_point asked_at_{};                  // awaiting: when the old owner was last asked
  std::optional<uint64_t> early_state_;    // a state that came before its view
  bool check_order_ = true;
};

} // namespace troupe::ownership
