#include "protocols/ownership/vnode_owner.hpp"

namespace troupe::ownership {

const char* to_string(vnode_phase p) {
  switch (p) {
    case vnode_phase::idle:
      return "idle";
    case vnode_phase::awaiting:
      return "awaiting";
    case vnode_phase::serving:
      return "serving";
  }
  return "?";
}

vnode_owner::vnode_owner(std::string self, duration wait)
  : self_(std::move(self)), wait_(wait) {
}

void vnode_owner::become_serving(vnode_effects& fx, bool from_state) {
  phase_ = vnode_phase::serving;
  early_state_.reset();
  fx.start = true;
  fx.from_state = from_state;
}

bool vnode_owner::buffers(uint64_t epoch) const {
  if (phase_ == vnode_phase::awaiting)
    return epoch >= epoch_;
  return epoch > known_epoch_; // the sender saw a view this worker has not yet
}

/// This worker owns the vnode since `v.epoch`, a newer ownership than any it has.
void vnode_owner::gain(const vnode_view& v, time_point now, vnode_effects& fx) {
  if (phase_ == vnode_phase::serving)
    fx.stop = true; // its instances belong to an older ownership: start over
  epoch_ = v.epoch;
  from_ = v.from;
  if (v.from.empty() || v.from == self_ || !v.handoff) {
    // Nobody had it, or its owner's lease had run out when it moved: nobody serves it.
    become_serving(fx, false);
    return;
  }
  phase_ = vnode_phase::awaiting;
  if (early_state_ && *early_state_ == epoch_) {
    become_serving(fx, true);
    return;
  }
  fx.ask_state_from = v.from;
  fx.epoch = epoch_;
  asked_at_ = now;
  start_after_ = now + wait_;
}

vnode_effects vnode_owner::on_view(const vnode_view& v, time_point now) {
  vnode_effects fx;
  if (check_order_ && v.epoch < known_epoch_)
    return fx; // older than what this worker knows of the vnode
  if (v.epoch > known_epoch_)
    known_epoch_ = v.epoch;
  if (v.owner != self_) {
    if (phase_ == vnode_phase::serving) {
      fx.stop = true;
      if (v.handoff && v.from == self_ && !v.owner.empty()) {
        fx.hand_over_to = v.owner;
        fx.epoch = v.epoch;
      }
    } else if (phase_ == vnode_phase::awaiting) {
      fx.drop_buffer = true;
    }
    phase_ = vnode_phase::idle;
    epoch_ = 0;
    return fx;
  }
  if (phase_ != vnode_phase::idle && v.epoch == epoch_)
    return fx; // the same ownership
  gain(v, now, fx);
  return fx;
}

vnode_effects vnode_owner::on_state(uint64_t epoch, time_point now) {
  vnode_effects fx;
  if (phase_ == vnode_phase::awaiting && epoch == epoch_) {
    become_serving(fx, true);
  } else if (epoch > known_epoch_ || (phase_ == vnode_phase::idle && epoch == known_epoch_)) {
    early_state_ = epoch; // its view is still on the way
  }
  return fx;
}

vnode_effects vnode_owner::on_no_state(uint64_t epoch, const std::string& ask_instead,
                                       time_point now) {
  vnode_effects fx;
  if (phase_ != vnode_phase::awaiting || epoch != epoch_)
    return fx;
  if (ask_instead.empty() || ask_instead == self_)
    return fx; // no state there: wait until an older owner cannot serve either (on_tick)
  // The old owner was waiting too: the one before it may still hold the state. Ask that one.
  from_ = ask_instead;
  fx.ask_state_from = from_;
  fx.epoch = epoch_;
  asked_at_ = now;
  return fx;
}

vnode_effects vnode_owner::on_request(uint64_t epoch, const std::string& requester,
                                      time_point now) {
  vnode_effects fx;
  if (check_order_ && epoch < known_epoch_)
    return fx; // an ownership older than one this worker knows of
  if (epoch > known_epoch_)
    known_epoch_ = epoch;
  if (phase_ == vnode_phase::serving && epoch_ < epoch) {
    // It moved, and this worker learns it from the new owner before its own view says so.
    fx.stop = true;
    fx.hand_over_to = requester;
    fx.epoch = epoch;
  } else if (phase_ == vnode_phase::awaiting && epoch_ < epoch) {
    // Moved on before its state came: the owner this worker waited for may still serve it.
    fx.drop_buffer = true;
    fx.no_state_to = requester;
    fx.ask_instead = from_;
    fx.epoch = epoch;
  } else if (phase_ == vnode_phase::idle) {
    fx.no_state_to = requester;
    fx.epoch = epoch;
  } else {
    return fx; // this worker holds the same or a newer ownership: a stale request
  }
  phase_ = vnode_phase::idle;
  epoch_ = 0;
  return fx;
}

vnode_effects vnode_owner::on_tick(time_point now) {
  vnode_effects fx;
  if (phase_ != vnode_phase::awaiting)
    return fx;
  if (now >= start_after_) {
    become_serving(fx, false); // no state came: every older owner has stopped or lost its lease
    fx.gave_up_on = from_;
    return fx;
  }
  if (now - asked_at_ >= ask_again) {
    fx.ask_state_from = from_;
    fx.epoch = epoch_;
    asked_at_ = now;
  }
  return fx;
}

vnode_effects vnode_owner::fence() {
  vnode_effects fx;
  if (phase_ == vnode_phase::serving)
    fx.stop = true;
  else if (phase_ == vnode_phase::awaiting)
    fx.drop_buffer = true;
  phase_ = vnode_phase::idle;
  epoch_ = 0;
  return fx;
}

} // namespace troupe::ownership
