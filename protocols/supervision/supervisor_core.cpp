#include "protocols/supervision/supervisor_core.hpp"

namespace troupe::supervision {

const char* to_string(strategy s) {
  switch (s) {
    case strategy::one_for_one:
      return "one-for-one";
    case strategy::one_for_all:
      return "one-for-all";
    case strategy::rest_for_one:
      return "rest-for-one";
  }
  return "?";
}

const char* to_string(child_state s) {
  switch (s) {
    case child_state::running:
      return "running";
    case child_state::stopping:
      return "stopping";
    case child_state::waiting:
      return "restarting";
    case child_state::stopped:
      return "stopped";
  }
  return "?";
}

supervisor_core::supervisor_core(strategy how, intensity limit, std::vector<child_spec> children)
  : how_(how), limit_(limit) {
  for (auto& spec : children)
    children_.push_back(child{std::move(spec)});
}

size_t supervisor_core::add_child(child_spec spec) {
  children_.push_back(child{std::move(spec)});
  return children_.size() - 1;
}

void supervisor_core::mark_running(size_t index) {
  children_[index].state = child_state::running;
}

bool supervisor_core::wants_restart(const child& c, child_exit kind) const {
  switch (c.spec.restart) {
    case restart_type::permanent:
      return true;
    case restart_type::transient:
      return kind != child_exit::normal;
    case restart_type::temporary:
      return false;
  }
  return false;
}

bool supervisor_core::any_stopping() const {
  for (auto& c : children_)
    if (c.state == child_state::stopping)
      return true;
  return false;
}

std::vector<size_t> supervisor_core::take_waiting() {
  std::vector<size_t> out;
  for (size_t k = 0; k < children_.size(); ++k)
    if (children_[k].state == child_state::waiting) {
      children_[k].state = child_state::running;
      out.push_back(k);
    }
  return out;
}

effects supervisor_core::on_exit(size_t index, child_exit kind, time_point now,
                                 const std::string& why) {
  effects out;
  if (index >= children_.size())
    return out;
  auto& c = children_[index];
  if (c.state == child_state::stopping) {
    // A sibling this supervisor stopped for a restart: expected. Once the last one is gone,
    // everything that waits starts again, in order.
    c.state = c.spec.restart == restart_type::temporary ? child_state::stopped
                                                        : child_state::waiting;
    if (!any_stopping())
      out.start = take_waiting();
    return out;
  }
  if (c.state != child_state::running)
    return out; // an exit already accounted for
  if (kind == child_exit::fatal) {
    out.escalate = c.spec.name + " failed: " + why;
    return out;
  }
  if (!wants_restart(c, kind)) {
    c.state = child_state::stopped;
    return out;
  }
  while (!recent_.empty() && now - recent_.front() > limit_.period)
    recent_.pop_front();
  if (recent_.size() >= limit_.max_restarts) {
    auto ms = std::chrono::duration_cast<milliseconds>(limit_.period).count();
    out.escalate = c.spec.name + " exited (" + why + "): restart "
                   + std::to_string(recent_.size() + 1) + " within " + std::to_string(ms)
                   + " ms, past the intensity of " + std::to_string(limit_.max_restarts);
    return out;
  }
  recent_.push_back(now);
  ++total_restarts_;
  ++c.restarts;
  c.state = child_state::waiting;
  if (how_ != strategy::one_for_one) {
    size_t first = how_ == strategy::one_for_all ? 0 : index + 1;
    for (size_t k = children_.size(); k-- > first;) {
      auto& s = children_[k];
      if (k == index || s.state != child_state::running)
        continue;
      s.state = child_state::stopping;
      ++s.restarts;
      out.stop.push_back(k);
    }
  }
  if (!any_stopping())
    out.start = take_waiting();
  return out;
}

} // namespace troupe::supervision
