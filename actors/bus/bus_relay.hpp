// The bus requests any node's ingress accepts: publishes and subscriptions from
// clients (`troupe ctl publish|subscribe`) and broadcasts from other nodes' routers, all for
// the node's bus actor. Append the handler to the actor's behavior, like event_relay_handler.
// Publishing changes something: console_handler.hpp guards it with the console token.
#pragma once

#include "actors/supervision/service_errc.hpp"
#include "actors/bus/bus_actor.hpp"
#include "actors/members_only.hpp"
#include "actors/supervision/services.hpp"

#include <caf/message_handler.hpp>
#include <caf/sec.hpp>

#include <string>

namespace troupe {

template <class Self>
caf::message_handler bus_relay_handler(Self* self, std::shared_ptr<service_directory> services) {
  auto missing = [] {
    return caf::make_error(service_errc::restarting,
                           std::string{"this node's bus is restarting: try again"});
  };
  return {
    [=](bus_publish_atom a, std::string& ns, std::string& topic, std::string& payload,
        bool persist, bool send_to_self) -> caf::result<caf::message> {
      auto bus = services->get(service::bus);
      if (!bus)
        return missing();
      return self->delegate(bus, a, std::move(ns), std::move(topic), std::move(payload),
                            persist, send_to_self);
    },
    [=](bus_subscribe_atom a, std::string& ns, std::string& topic,
        caf::actor& who) -> caf::result<caf::message> {
      auto bus = services->get(service::bus);
      if (!bus)
        return missing();
      return self->delegate(bus, a, std::move(ns), std::move(topic), std::move(who));
    },
    // From another process (no actor handle crosses the wire): the bus delivers to the
    // sender, the connection the subscription came over.
    [=](bus_subscribe_atom a, std::string& ns, std::string& topic) -> caf::result<caf::message> {
      auto bus = services->get(service::bus);
      if (!bus)
        return missing();
      return self->delegate(bus, a, std::move(ns), std::move(topic), caf::actor{});
    },
    // Handed on with its sender: the bus ends a subscription only for its own subscriber.
    [=](bus_unsubscribe_atom a, uint64_t id) {
      if (auto bus = services->get(service::bus))
        self->delegate(bus, a, id);
    },
    [=](bus_deliver_atom a, std::string& topic, std::string& payload, std::string& origin) {
      if (refused_non_member(self, "a broadcast between buses"))
        return;
      if (auto bus = services->get(service::bus))
        self->send(bus, a, std::move(topic), std::move(payload), std::move(origin));
    },
  };
}

} // namespace troupe
