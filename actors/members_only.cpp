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
    ->refused(wire::wire_errc::not_permitted, "a client",
              std::string{what} + ": only members of the cluster send them");
  return true;
}

} // namespace troupe
