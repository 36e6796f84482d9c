// Messages only members of the cluster send (deliveries to vnodes, handoff of their state,
// broadcasts between buses, log lines for the log-roller): a client that sends one is refused
// (issue 17), counted in troupe_link_refused_total{reason="not_permitted"} and logged with who
// it is. A member is this process's own actor or a node peer, whose link proved it belongs
// (its certificate, or the cookie).
#pragma once

#include <caf/fwd.hpp>

namespace troupe {

/// True (and counted) when the current message of `self` comes from a client: `what` names
/// the message for the log.
bool refused_non_member(caf::local_actor* self, const char* what);

} // namespace troupe
