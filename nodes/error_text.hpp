// The text of an error for one line on stderr: the message a Troupe actor put into it, not
// CAF's rendering of the error's category and context ("system_error(runtime_error, ...)").
#pragma once

#include <caf/actor_system.hpp>
#include <caf/error.hpp>
#include <caf/message.hpp>

#include <string>

namespace troupe {

/// CAF's own errors that users meet (a node that does not answer, a port in use, a timeout)
/// are said as a sentence with what to do; any other CAF error is rendered as CAF does.
std::string error_text(caf::actor_system& sys, const caf::error& err);

/// The exit code of a client command that failed with `err`, from its category and code
/// (never its text): 77 refused, 1 a failure of the request itself, 69 unavailable (worth
/// retrying: no quorum, a service restarting, a timeout, an unreachable node).
int exit_code_for(const caf::error& err);

} // namespace troupe
