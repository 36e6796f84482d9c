// Sending to deployments from inside an actor: the same routing as `troupe ctl send` and
// `request` (by key, or round robin), through the node the actor runs on.
//
//   troupe::send(ctx, "words", key, payload);                       // fire and forget
//   troupe::request(self, ctx, "words", key, "", std::chrono::seconds(1))
//     .then([](const std::string& reply) { ... }, [](const caf::error& err) { ... });
//
// Messages of your own types go the same way, to the instance `key` routes to, which answers
// with whatever it returns (register each type on every node with node::add_message_type):
//
//   troupe::request(self, ctx, "accounts", "alice", deposit{100}, std::chrono::seconds(1))
//     .then([](const balance& b) { ... }, [](const caf::error& err) { ... });
//
// They are sent at most once (not retried, not logged: a durable deployment refuses them),
// and do not wait behind the events the actor sent before them. A type that is not
// registered fails the request at once, naming it (routing_errc::unregistered_type).
#pragma once

#include "actors/api/event.hpp"
#include "actors/api/messages.hpp"

#include <caf/make_message.hpp>
#include <caf/send.hpp>

#include <string>
#include <type_traits>

namespace troupe {

/// True for the types sent as a troupe::event's payload (strings), false for the user's own.
template <class T>
constexpr bool is_payload_v = std::is_convertible<T, std::string>::value;

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

/// Sends `msg`, of a type of your own, to the instance of `deployment` that `key` routes to;
/// nothing comes back (at most once).
template <class T, class = std::enable_if_t<!is_payload_v<T>>>
void send(const context& ctx, std::string deployment, std::string key, T msg) {
  auto router = ctx.router();
  if (!router)
    return;
  caf::anon_send(router, route_msg_atom::value, std::move(deployment), std::move(key),
                 caf::make_message(std::move(msg)));
}

/// Sends an event to `deployment` and returns the handle of the instance's reply (a string).
template <class Self, class Duration>
auto request(Self* self, const context& ctx, std::string deployment, std::string key,
             std::string payload, Duration timeout) {
  return self->request(ctx.router(), timeout, route_atom::value, std::move(deployment),
                       std::move(key), std::move(payload));
}

/// Sends `msg`, of a type of your own, to the instance of `deployment` that `key` routes to,
/// and returns the handle of its reply, of whatever type the instance returns.
template <class Self, class T, class Duration, class = std::enable_if_t<!is_payload_v<T>>>
auto request(Self* self, const context& ctx, std::string deployment, std::string key, T msg,
             Duration timeout) {
  return self->request(ctx.router(), timeout, route_msg_atom::value, std::move(deployment),
                       std::move(key), caf::make_message(std::move(msg)));
}

} // namespace troupe
