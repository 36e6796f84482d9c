#include "actors/members_only.hpp"

#include "actors/link/link.hpp"
#include "actors/link/process_links.hpp"

#include <caf/local_actor.hpp>

#include <string>

namespace troupe {

bool refused_non_member(caf::local_actor* self, const char* what) {
  auto& sender = self->current_sender();
  if (from_member(sender))
    return false;
  link_context_of(self->system())
    ->refused(wire::wire_errc::not_permitted, link_peer_identity(sender),
              std::string{what} + ": only members of the cluster send them");
  return true;
}

void count_refused(caf::actor_system& sys, const caf::strong_actor_ptr& sender,
                   const std::string& why) {
  link_context_of(sys)->refused(wire::wire_errc::not_permitted, link_peer_identity(sender), why);
}

void count_refused_write(caf::actor_system& sys, const caf::strong_actor_ptr& sender,
                         const std::string& needs) {
  count_refused(sys, sender, "a command that changes something, without " + needs);
}

} // namespace troupe
