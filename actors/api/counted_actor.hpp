// How Troupe runs a user's actor function: as the CAF class the function asks for (a
// stateful_actor<S> or event_based_actor), extended to count what goes through its mailbox
// for the console (`troupe ctl actors`). Counting is two relaxed atomic increments per
// message: no lock, no allocation.
//
// Messages the actor has no handler for are dropped silently and answered with an error (CAF
// would print each to stderr): the console asks every actor for its state dump, and most
// actors have none.
#pragma once

#include "actors/api/errors.hpp"
#include "actors/api/event.hpp"
#include "actors/api/actor_stats.hpp"

#include <caf/behavior.hpp>
#include <caf/infer_handle.hpp>
#include <caf/invoke_message_result.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/scheduled_actor.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace troupe {

/// A user's actor (or a node service) as Troupe runs it: the CAF class `Impl` its function
/// asks for, counting its messages in an actor_stats and refusing events while its worker's
/// lease does not hold. Made by actor_types::add; users do not name it.
template <class Impl, class Init>
class counted_actor final : public Impl {
public:
  /// `init(self)` returns the actor's behavior. A user actor (`user`) drops messages without
  /// a handler quietly and keeps `init` (and with it its context, which its handlers may
  /// reference) for its whole life; the node's own services let it go once they run, so that
  /// what it captured (the node's service directory, which holds them) forms no cycle.
  counted_actor(caf::actor_config& cfg, Init init, std::shared_ptr<actor_stats> stats, bool user,
                std::function<bool()> may_serve = {})
    : Impl(cfg), init_(std::move(init)), stats_(std::move(stats)), user_(user),
      may_serve_(std::move(may_serve)) {
    if (user)
      this->set_default_handler(caf::drop);
  }

  /// Counts the message, then enqueues it as `Impl` does.
  void enqueue(caf::mailbox_element_ptr x, caf::execution_unit* eu) override {
    stats_->enqueued.fetch_add(1, std::memory_order_relaxed);
    Impl::enqueue(std::move(x), eu);
  }

  /// Handles the message as `Impl` does and counts it (Troupe's own apart); an event is
  /// refused with routing_errc::lease_expired while the worker's lease does not hold.
  caf::invoke_message_result consume(caf::mailbox_element& x) override {
    // A deployment's instance handles no event once its worker's lease has run out (a pause
    // longer than the lease): the event is refused, and an at-least-once sender sends it
    // again to the vnode's owner.
    if (may_serve_ && x.content().template match_elements<event>() && !may_serve_()) {
      if (x.mid.is_request() && x.sender)
        x.sender->enqueue(caf::make_mailbox_element(
                            this->ctrl(), x.mid.response_id(), {},
                            caf::make_error(routing_errc::lease_expired,
                                            std::string{"this worker's lease ran out"})),
                          this->context());
      return caf::invoke_message_result::consumed;
    }
    auto r = Impl::consume(x);
    if (r != caf::invoke_message_result::skipped) {
      stats_->handled.fetch_add(1, std::memory_order_relaxed);
      if (user_ && troupes_own(x))
        stats_->internal.fetch_add(1, std::memory_order_relaxed);
    }
    return r;
  }

  /// The behavior `init` returns: a caf::behavior for dynamically typed actors, the
  /// typed_behavior of the interface for typed ones (the node's services: see each
  /// service's header).
  typename Impl::behavior_type make_behavior() override {
    if (user_)
      return (*init_)(static_cast<Impl*>(this));
    auto init = std::move(*init_);
    init_.reset();
    return init(static_cast<Impl*>(this));
  }

private:
  /// Troupe's own requests to a user's actor: snapshot, restore and the console's dump.
  static bool troupes_own(caf::mailbox_element& x) {
    auto& m = x.content();
    return m.template match_elements<snapshot_atom>() || m.template match_elements<dump_atom>()
           || m.template match_elements<restore_atom, std::string>();
  }

  std::optional<Init> init_;
  std::shared_ptr<actor_stats> stats_;
  bool user_;
  std::function<bool()> may_serve_;
};

/// Spawns an actor of class `Impl` whose behavior is `init(self)`, counting its messages in
/// `stats` (the node's own services are spawned this way). Returns the handle of Impl's
/// interface: a caf::typed_actor for a typed service, else caf::actor.
template <class Impl, class Init>
auto spawn_counted_as(caf::actor_system& sys, Init init, std::shared_ptr<actor_stats> stats,
                            bool user = false) {
  if (!stats)
    stats = std::make_shared<actor_stats>();
  return sys.spawn<counted_actor<Impl, Init>>(std::move(init), std::move(stats), user);
}

/// Spawns function `fn` (taking its self pointer and a context, returning a behavior) as a
/// counted actor. The context may be shared with other actors; it lives as long as the actor,
/// whose handlers may keep references into it.
template <class F>
caf::actor spawn_counted(caf::actor_system& sys, F fn, std::shared_ptr<const context> ctx,
                         std::shared_ptr<actor_stats> stats) {
  using impl = typename caf::infer_handle_from_fun<F>::impl;
  static_assert(std::is_base_of<caf::scheduled_actor, impl>::value,
                "an actor type is a function taking its self pointer (an event_based_actor* "
                "or stateful_actor<S>*) and a troupe::context, returning a caf::behavior");
  using init = std::function<caf::behavior(impl*)>;
  std::function<bool()> may_serve;
  if (!ctx->deployment.empty())
    may_serve = [ctx] { return ctx->may_serve(); }; // an instance: it serves under the lease
  if (!stats)
    stats = std::make_shared<actor_stats>();
  return sys.spawn<counted_actor<impl, init>>(init{[fn, ctx](impl* self) { return fn(self, *ctx); }},
                                              std::move(stats), true, std::move(may_serve));
}

} // namespace troupe
