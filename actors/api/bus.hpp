// The broadcast bus from inside an actor (the Kibana RFC's broadcast between processes):
//
//   caf::behavior my_actor(caf::event_based_actor* self, troupe::context ctx) {
//     troupe::bus bus{self, ctx, "my-module"};          // this module's namespace
//     bus.subscribe("config-changed", [=](const troupe::bus_message& m) { ... });
//     bus.publish("cache-flush", "all");                // every other node's subscribers
//     bus.publish("audit", "x", {/*send_to_self=*/true, /*persist=*/true});
//     return bus.handler().or_else(caf::message_handler{ ... the actor's own handlers ... });
//   }
//
// A handler runs in the subscribing actor, like any of its handlers. It sees only broadcasts
// published in its namespace. By default a broadcast reaches the subscribers on every other
// node; send_to_self also delivers it on the publishing node. A persisted broadcast is
// committed through Raft and also reaches subscribers that subscribe later, even after the
// whole cluster restarted, in publish order (the last --bus-keep per topic are kept). Use one
// troupe::bus (one namespace) per actor.
#pragma once

#include "actors/api/event.hpp"
#include "actors/api/messages.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/message_handler.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace troupe {

/// How bus::publish sends a broadcast.
struct publish_options {
  bool send_to_self = false;  ///< Also deliver to the subscribers on this node.
  bool persist = false;       ///< Commit through Raft: later subscribers get it too.
};

/// A broadcast as a subscriber receives it.
struct bus_message {
  std::string ns;       ///< The namespace it was published in (the subscriber's own).
  std::string topic;    ///< Its topic, without the namespace.
  std::string payload;  ///< What the publisher sent.
  std::string origin;   ///< The node it was published on.
  uint64_t index = 0;   ///< Its Raft log index when persisted (the publish order), else 0.
};

/// An actor's handle on the broadcast bus, within one namespace: publish to a topic of every
/// node, subscribe to topics (see the README's "The broadcast bus").
class bus {
public:
  /// What a subscription calls with each broadcast, in the subscribing actor's context.
  using handler_fn = std::function<void(const bus_message&)>;

  /// The bus of the node `ctx` runs on, for actor `self`, in namespace `ns`: it publishes in
  /// `ns` and sees only what was published there.
  bus(caf::event_based_actor* self, const context& ctx, std::string ns)
    : self_(self), ctx_(ctx), ns_(std::move(ns)),
      handlers_(std::make_shared<std::map<std::string, handler_fn>>()) {
  }

  /// Publishes `payload` on `topic`; fire and forget (failures are counted in the node's
  /// metrics: troupe_bus_dropped_total, troupe_bus_persist_failed_total).
  void publish(const std::string& topic, std::string payload, publish_options opts = {}) {
    caf::anon_send(ctx_.bus(), bus_publish_atom::value, ns_, topic, std::move(payload), opts.persist,
                   opts.send_to_self);
  }

  /// Publishes and answers once done: `.then([](uint64_t index) {...}, [](caf::error&) {...})`
  /// (index: the log index of a persisted broadcast, 0 otherwise).
  template <class Duration>
  auto request_publish(const std::string& topic, std::string payload, publish_options opts,
                       Duration timeout) {
    return self_->request(ctx_.bus(), timeout, bus_publish_atom::value, ns_, topic, std::move(payload),
                          opts.persist, opts.send_to_self);
  }

  /// Calls `handler` for each broadcast on `topic` (of this namespace), from now on and, for
  /// persisted ones, the kept ones first.
  void subscribe(const std::string& topic, handler_fn handler) {
    (*handlers_)[topic] = std::move(handler);
    caf::anon_send(ctx_.bus(), bus_subscribe_atom::value, ns_, topic, caf::actor{self_});
  }

  /// The handlers to add to the actor's behavior.
  caf::message_handler handler() const {
    auto ns = ns_;
    auto handlers = handlers_;
    return {
      [ns, handlers](bus_message_atom, std::string& msg_ns, std::string& topic,
                     std::string& payload, uint64_t index, std::string& origin) {
        if (msg_ns != ns)
          return;
        auto it = handlers->find(topic);
        if (it != handlers->end())
          it->second(bus_message{std::move(msg_ns), std::move(topic), std::move(payload),
                                 std::move(origin), index});
      },
    };
  }

private:
  caf::event_based_actor* self_;
  context ctx_;
  std::string ns_;
  std::shared_ptr<std::map<std::string, handler_fn>> handlers_;
};

} // namespace troupe
