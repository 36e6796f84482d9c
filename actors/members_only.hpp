// Rights at the entrance (issue 17). Messages only members of the cluster send (deliveries to
// vnodes, handoff of their state, broadcasts between buses, log lines for the log-roller): a
// client that sends one is refused. A member is this process's own actor or a node peer, whose
// link proved it belongs (its certificate, or the cookie). Each refusal, and each client write
// refused for want of the operator's certificate or the cookie, is counted in
// troupe_link_refused_total{reason="not_permitted"} and logged with who it is.
#pragma once

#include <caf/fwd.hpp>

#include <string>

namespace troupe {

/// True (and counted) when the current message of `self` comes from a client: `what` names
/// the message for the log.
bool refused_non_member(caf::local_actor* self, const char* what);

/// Counts and logs (not_permitted, with who it is) a client's command that changes something,
/// refused since it lacks `needs` (the operator's certificate, or the cluster's cookie).
void count_refused_write(caf::actor_system& sys, const caf::strong_actor_ptr& sender,
                         const std::string& needs);

/// Counts and logs (not_permitted, with who it is) a message from `sender` refused because
/// `why` (e.g. it ends a subscription that is not its own).
void count_refused(caf::actor_system& sys, const caf::strong_actor_ptr& sender,
                   const std::string& why);

} // namespace troupe
