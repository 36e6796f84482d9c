// How Troupe runs a user's actor function: as the CAF class the function asks for (a
// stateful_actor<S> or event_based_actor), extended to count what goes through its mailbox
// for the console (`troupe ctl actors`). Counting is two relaxed atomic increments per
// message: no lock, no allocation.
//
// Messages the actor has no handler for are dropped silently and answered with an error (CAF
// would print each to stderr): the console asks every actor for its state dump, and most
// actors have none.
#pragma once

#include "actors/api/event.hpp"
#include "actors/inspect/actor_stats.hpp"

#include <caf/behavior.hpp>
#include <caf/infer_handle.hpp>
#include <caf/invoke_message_result.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/scheduled_actor.hpp>

#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace troupe {

template <class Impl, class Init>
class counted_actor final : public Impl {
public:
  /// `init(self)` returns the actor's behavior. A user actor (`user`) drops messages without
  /// a handler quietly and keeps `init` (and with it its context, which its handlers may
  /// reference) for its whole life; the node's own services let it go once they run, so that
  /// what it captured (the node's service directory, which holds them) forms no cycle.
  counted_actor(caf::actor_config& cfg, Init init, std::shared_ptr<actor_stats> stats, bool user)
    : Impl(cfg), init_(std::move(init)), stats_(std::move(stats)), user_(user) {
    if (user)
      this->set_default_handler(caf::drop);
  }

  void enqueue(caf::mailbox_element_ptr x, caf::execution_unit* eu) override {
    stats_->enqueued.fetch_add(1, std::memory_order_relaxed);
    Impl::enqueue(std::move(x), eu);
  }

  caf::invoke_message_result consume(caf::mailbox_element& x) override {
    auto r = Impl::consume(x);
    if (r != caf::invoke_message_result::skipped)
      stats_->handled.fetch_add(1, std::memory_order_relaxed);
    return r;
  }

  caf::behavior make_behavior() override {
    if (user_)
      return (*init_)(static_cast<Impl*>(this));
    auto init = std::move(*init_);
    init_.reset();
    return init(static_cast<Impl*>(this));
  }

private:
  std::optional<Init> init_;
  std::shared_ptr<actor_stats> stats_;
  bool user_;
};

/// Spawns an actor of class `Impl` whose behavior is `init(self)`, counting its messages in
/// `stats` (the node's own services are spawned this way).
template <class Impl, class Init>
caf::actor spawn_counted_as(caf::actor_system& sys, Init init, std::shared_ptr<actor_stats> stats,
                            bool user = false) {
  if (!stats)
    stats = std::make_shared<actor_stats>();
  return sys.spawn<counted_actor<Impl, Init>>(std::move(init), std::move(stats), user);
}

/// Spawns function `fn` (taking its self pointer and a context, returning a behavior) as a
/// counted actor.
template <class F>
caf::actor spawn_counted(caf::actor_system& sys, F fn, const context& ctx,
                         std::shared_ptr<actor_stats> stats) {
  using impl = typename caf::infer_handle_from_fun<F>::impl;
  static_assert(std::is_base_of<caf::scheduled_actor, impl>::value,
                "an actor type is a function taking its self pointer (an event_based_actor* "
                "or stateful_actor<S>*) and a troupe::context, returning a caf::behavior");
  return spawn_counted_as<impl>(
    sys, [fn, ctx](impl* self) { return fn(self, ctx); }, std::move(stats), true);
}

} // namespace troupe
