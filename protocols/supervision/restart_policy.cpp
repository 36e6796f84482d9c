#include "protocols/supervision/restart_policy.hpp"

#include <algorithm>

namespace troupe::supervision {

restart_policy::restart_policy(const restart_settings& cfg)
  : cfg_(cfg), backoff_(cfg.initial_backoff, cfg.max_backoff) {
}

restart_decision restart_policy::on_exit(exit_kind kind, time_point started, time_point now,
                                         double jitter) {
  if (kind == exit_kind::config_error)
    return {restart_decision::give_up_config, duration{0}};
  // Restarts older than the period no longer count (they are few: at most max_restarts).
  restarts_.erase(std::remove_if(restarts_.begin(), restarts_.end(),
                                 [&](time_point t) { return now - t > cfg_.period; }),
                  restarts_.end());
  if (restarts_.size() >= cfg_.max_restarts)
    return {restart_decision::give_up_intensity, duration{0}};
  restarts_.push_back(now);
  if (now - started >= cfg_.stable_after)
    backoff_.reset();
  return {restart_decision::restart, backoff_.next(jitter)};
}

} // namespace troupe::supervision
