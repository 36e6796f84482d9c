// Sending events to deployments from inside an actor: the same routing as `troupe ctl send`
// and `request` (by key, or round robin), through the node the actor runs on.
//
//   troupe::send(ctx, "words", key, payload);                       // fire and forget
//   troupe::request(self, ctx, "words", key, "", std::chrono::seconds(1))
//     .then([](const std::string& reply) { ... }, [](const caf::error& err) { ... });
#pragma once

#include "actors/api/event.hpp"
#include "actors/api/messages.hpp"

#include <caf/send.hpp>

#include <string>

namespace troupe {

/// Sends an event to `deployment`; nothing comes back, and an event that cannot be delivered
/// is dropped (at-most-once).
inline void send(const context& ctx, std::string deployment, std::string key,
                 std::string payload) {
  auto router = ctx.router();
  if (!router)
    return; // the router is restarting: at-most-once, this event is dropped
  caf::anon_send(router, route_atom::value, std::move(deployment), std::move(key),
                 std::move(payload));
}

/// Sends an event to `deployment` and returns the handle of the instance's reply (a string).
template <class Self, class Duration>
auto request(Self* self, const context& ctx, std::string deployment, std::string key,
             std::string payload, Duration timeout) {
  return self->request(ctx.router(), timeout, route_atom::value, std::move(deployment),
                       std::move(key), std::move(payload));
}

} // namespace troupe
