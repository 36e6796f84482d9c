// One connection's broker (link.hpp says what it does). Internal to actors/link.
#pragma once

#include "actors/link/link.hpp"

#include <caf/atom.hpp>
#include <caf/io/broker.hpp>
#include <caf/io/connection_handle.hpp>

namespace troupe {

/// (link_up_atom): a connection tells its owner (the listener or the connector) that both
/// hellos were exchanged.
using link_up_atom = caf::atom_constant<caf::atom("t_lnkup")>;
using link_hello_timeout_atom = caf::atom_constant<caf::atom("t_lnkhto")>;

/// `outbound`: this side connected and speaks first. `owner` hears link_up_atom and monitors
/// the connection.
caf::behavior link_connection(caf::io::broker* self, caf::io::connection_handle hdl,
                              link_context_ptr ctx, bool outbound, caf::actor owner);

} // namespace troupe
