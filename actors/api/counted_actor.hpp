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
#include <type_traits>
#include <utility>

namespace troupe {

template <class Impl, class F>
class counted_actor final : public Impl {
public:
  counted_actor(caf::actor_config& cfg, F fn, context ctx, std::shared_ptr<actor_stats> stats)
    : Impl(cfg), fn_(std::move(fn)), ctx_(std::move(ctx)), stats_(std::move(stats)) {
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
    return fn_(this, ctx_);
  }

private:
  F fn_;
  context ctx_;
  std::shared_ptr<actor_stats> stats_;
};

/// Spawns function `fn` (taking its self pointer and a context, returning a behavior) as a
/// counted actor.
template <class F>
caf::actor spawn_counted(caf::actor_system& sys, F fn, const context& ctx,
                         std::shared_ptr<actor_stats> stats) {
  using impl = typename caf::infer_handle_from_fun<F>::impl;
  static_assert(std::is_base_of<caf::scheduled_actor, impl>::value,
                "an actor type is a function taking its self pointer (an event_based_actor* "
                "or stateful_actor<S>*) and a troupe::context, returning a caf::behavior");
  if (!stats)
    stats = std::make_shared<actor_stats>();
  return sys.spawn<counted_actor<impl, F>>(std::move(fn), ctx, std::move(stats));
}

} // namespace troupe
