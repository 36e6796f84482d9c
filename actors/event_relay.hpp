// The event requests any node's published actor accepts: routing requests from clients go to
// the node's router, deliveries from other nodes' routers go to its vnode host. Append the
// handler to the actor's behavior, like kv_relay_handler.
#pragma once

#include "actors/api/event.hpp"
#include "actors/router.hpp"
#include "actors/vnode_host.hpp"

#include <caf/message_handler.hpp>
#include <caf/sec.hpp>

#include <string>
#include <vector>

namespace troupe {

template <class Self>
caf::message_handler event_relay_handler(Self* self, caf::actor router, caf::actor host) {
  auto missing = [](const char* what) {
    return caf::make_error(caf::sec::runtime_error, std::string{what});
  };
  return {
    [=](route_atom a, std::string& dep, std::string& key,
        std::string& payload) -> caf::result<caf::message> {
      if (!router)
        return missing("this node routes no events");
      return self->delegate(router, a, std::move(dep), std::move(key), std::move(payload));
    },
    [=](route_batch_atom a, std::string& dep, std::vector<std::string>& keys,
        std::vector<std::string>& payloads) -> caf::result<caf::message> {
      if (!router)
        return missing("this node routes no events");
      return self->delegate(router, a, std::move(dep), std::move(keys), std::move(payloads));
    },
    [=](deliver_atom a, std::string& dep, uint32_t vnode,
        event& ev) -> caf::result<caf::message> {
      if (!host)
        return missing("this node hosts no vnodes");
      return self->delegate(host, a, std::move(dep), vnode, std::move(ev));
    },
    [=](handoff_atom a, std::string& dep, uint32_t vnode, std::string& bytes,
        std::string& seen) {
      if (host)
        self->send(host, a, std::move(dep), vnode, std::move(bytes), std::move(seen));
    },
    [=](deliver_batch_atom a, std::string& dep, std::vector<uint32_t>& vnodes,
        std::vector<std::string>& keys, std::vector<std::string>& payloads, uint64_t sender,
        std::vector<uint64_t>& seqs) -> caf::result<caf::message> {
      if (!host)
        return missing("this node hosts no vnodes");
      return self->delegate(host, a, std::move(dep), std::move(vnodes), std::move(keys),
                            std::move(payloads), sender, std::move(seqs));
    },
    [=](instances_atom a) -> caf::result<caf::message> {
      if (!host)
        return caf::make_message(std::vector<std::string>{}); // hosts no vnodes: no instances
      return self->delegate(host, a);
    },
    [=](deliver_batch_atom a, std::string& dep, std::vector<uint32_t>& vnodes,
        std::vector<std::string>& keys,
        std::vector<std::string>& payloads) -> caf::result<caf::message> {
      if (!host)
        return missing("this node hosts no vnodes");
      return self->delegate(host, a, std::move(dep), std::move(vnodes), std::move(keys),
                            std::move(payloads));
    },
  };
}

} // namespace troupe
