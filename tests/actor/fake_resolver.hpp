// Plays CAF's middleman for `connect` in the deterministic actor tests (the transport seam):
//   (port, actor)       the actor published at that port (an invalid actor: nothing there)
//   (actor, reachable)  the answer for every other port, or "cannot connect" when unreachable
#pragma once

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/node_id.hpp>
#include <caf/sec.hpp>
#include <caf/stateful_actor.hpp>

#include <map>
#include <set>
#include <string>

namespace troupe::testing {

struct resolver_state {
  std::map<uint16_t, caf::actor> by_port;
  caf::actor fallback;
  bool reachable = true;
  static inline const char* name = "fake_resolver";
};

inline caf::behavior fake_resolver(caf::stateful_actor<resolver_state>* self) {
  return {
    [self](caf::connect_atom, const std::string&, uint16_t port)
      -> caf::result<caf::node_id, caf::strong_actor_ptr, std::set<std::string>> {
      auto& st = self->state;
      auto it = st.by_port.find(port);
      auto target = it != st.by_port.end() ? it->second : st.reachable ? st.fallback : caf::actor{};
      if (!target)
        return caf::make_error(caf::sec::cannot_connect_to_node);
      using reply = caf::result<caf::node_id, caf::strong_actor_ptr, std::set<std::string>>;
      return reply{target.node(), caf::actor_cast<caf::strong_actor_ptr>(target),
                   std::set<std::string>{}};
    },
    [self](uint16_t port, caf::actor& a) { self->state.by_port[port] = a; },
    [self](caf::actor& target, bool reachable) {
      self->state.fallback = std::move(target);
      self->state.reachable = reachable;
    },
  };
}

} // namespace troupe::testing
