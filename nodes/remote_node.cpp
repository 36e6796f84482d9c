#include "nodes/remote_node.hpp"

#include <caf/actor_system.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>

namespace troupe {

caf::actor connect_node(caf::actor_system& sys, caf::scoped_actor& self, const endpoint& target,
                        duration timeout, std::string& problem) {
  auto mm = caf::actor_cast<caf::actor>(sys.middleman().actor_handle());
  caf::actor out;
  problem = "no answer";
  self->request(mm, timeout, caf::connect_atom::value, target.host, target.port)
    .receive(
      [&](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>&) {
        out = caf::actor_cast<caf::actor>(ptr);
        if (!out)
          problem = "no Troupe node listens there";
      },
      [&](const caf::error& err) { problem = sys.render(err); });
  return out;
}

} // namespace troupe
