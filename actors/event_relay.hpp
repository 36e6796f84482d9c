// The event requests any node's ingress accepts: routing requests from clients go to the
// node's router, deliveries from other nodes' routers go to its vnodes. Each goes to the
// current incarnation of the service (the service directory).
#pragma once

#include "actors/supervision/service_errc.hpp"
#include "actors/api/event.hpp"
#include "actors/inspect/console_errc.hpp"
#include "actors/members_only.hpp"
#include "actors/router.hpp"
#include "actors/supervision/services.hpp"
#include "actors/vnodes/vnodes.hpp"

#include <caf/message_handler.hpp>
#include <caf/sec.hpp>

#include <optional>
#include <string>
#include <vector>

namespace troupe {

template <class Self>
caf::message_handler event_relay_handler(Self* self, std::shared_ptr<service_directory> services) {
  auto missing = [](const char* what) {
    return caf::make_error(service_errc::restarting, std::string{what});
  };
  auto router_of = [services] { return services->get(service::router); };
  // Deliveries and handoff come from other nodes' routers and vnode hosts only.
  auto not_member = [self](const char* what) {
    return refused_non_member(self, what)
             ? std::optional<caf::error>{caf::make_error(
                 console_errc::refused, std::string{what} + ": only members send them")}
             : std::nullopt;
  };
  auto host_of = [services] { return services->get(service::vnodes); };
  return {
    [=](route_atom a, std::string& dep, std::string& key,
        std::string& payload) -> caf::result<caf::message> {
      auto router = router_of();
      if (!router)
        return missing("this node's router is restarting: try again");
      return self->delegate(router, a, std::move(dep), std::move(key), std::move(payload));
    },
    [=](route_msg_atom a, std::string& dep, std::string& key,
        caf::message& msg) -> caf::result<caf::message> {
      auto router = router_of();
      if (!router)
        return missing("this node's router is restarting: try again");
      return self->delegate(router, a, std::move(dep), std::move(key), std::move(msg));
    },
    [=](deliver_msg_atom a, std::string& dep, uint32_t vnode, uint64_t epoch,
        caf::message& msg) -> caf::result<caf::message> {
      if (auto refused = not_member("a delivery"))
        return std::move(*refused);
      auto host = host_of();
      if (!host)
        return missing("this node hosts no vnodes (or they are restarting)");
      return self->delegate(host, a, std::move(dep), vnode, epoch, std::move(msg));
    },
    [=](route_batch_atom a, std::string& dep, std::vector<std::string>& keys,
        std::vector<std::string>& payloads) -> caf::result<caf::message> {
      auto router = router_of();
      if (!router)
        return missing("this node's router is restarting: try again");
      return self->delegate(router, a, std::move(dep), std::move(keys), std::move(payloads));
    },
    [=](deliver_atom a, std::string& dep, uint32_t vnode, uint64_t epoch,
        event& ev) -> caf::result<caf::message> {
      if (auto refused = not_member("a delivery"))
        return std::move(*refused);
      auto host = host_of();
      if (!host)
        return missing("this node hosts no vnodes (or they are restarting)");
      return self->delegate(host, a, std::move(dep), vnode, epoch, std::move(ev));
    },
    [=](vnode_state_atom a, uint32_t vnode, uint64_t epoch, std::vector<std::string>& deps,
        std::vector<std::string>& states, std::vector<std::string>& seen) {
      if (refused_non_member(self, "a vnode's state"))
        return;
      if (auto host = host_of())
        self->send(host, a, vnode, epoch, std::move(deps), std::move(states), std::move(seen));
    },
    [=](vnode_no_state_atom a, uint32_t vnode, uint64_t epoch, std::string& ask_instead) {
      if (refused_non_member(self, "a vnode handoff"))
        return;
      if (auto host = host_of())
        self->send(host, a, vnode, epoch, std::move(ask_instead));
    },
    [=](vnode_request_atom a, uint32_t vnode, uint64_t epoch, std::string& requester) {
      if (refused_non_member(self, "a vnode handoff request"))
        return;
      if (auto host = host_of())
        self->send(host, a, vnode, epoch, std::move(requester));
    },
    [=](deliver_batch_atom a, std::string& dep, std::vector<uint32_t>& vnodes,
        std::vector<uint64_t>& epochs, std::vector<std::string>& keys,
        std::vector<std::string>& payloads, uint64_t sender,
        std::vector<uint64_t>& seqs) -> caf::result<caf::message> {
      if (auto refused = not_member("a batch of deliveries"))
        return std::move(*refused);
      auto host = host_of();
      if (!host)
        return missing("this node hosts no vnodes (or they are restarting)");
      return self->delegate(host, a, std::move(dep), std::move(vnodes), std::move(epochs),
                            std::move(keys), std::move(payloads), sender, std::move(seqs));
    },
    [=](instances_atom a) -> caf::result<caf::message> {
      auto host = host_of();
      if (!host)
        return caf::make_message(std::vector<std::string>{}); // hosts no vnodes: no instances
      return self->delegate(host, a);
    },
    [=](deliver_batch_atom a, std::string& dep, std::vector<uint32_t>& vnodes,
        std::vector<uint64_t>& epochs, std::vector<std::string>& keys,
        std::vector<std::string>& payloads) -> caf::result<caf::message> {
      if (auto refused = not_member("a batch of deliveries"))
        return std::move(*refused);
      auto host = host_of();
      if (!host)
        return missing("this node hosts no vnodes (or they are restarting)");
      return self->delegate(host, a, std::move(dep), std::move(vnodes), std::move(epochs),
                            std::move(keys), std::move(payloads));
    },
  };
}

} // namespace troupe
