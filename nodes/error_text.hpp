// The text of an error for one line on stderr: the message a Troupe actor put into it, not
// CAF's rendering of the error's category and context ("system_error(runtime_error, ...)").
#pragma once

#include <caf/actor_system.hpp>
#include <caf/error.hpp>
#include <caf/message.hpp>

#include <string>

namespace troupe {

inline std::string error_text(caf::actor_system& sys, const caf::error& err) {
  auto& ctx = err.context();
  if (ctx.size() >= 1 && ctx.match_element<std::string>(0))
    return ctx.get_as<std::string>(0);
  return sys.render(err);
}

/// The exit code of a client command that failed with `err`, from its category and code
/// (never its text): 77 refused, 1 a failure of the request itself, 69 unavailable (worth
/// retrying: no quorum, a service restarting, a timeout, an unreachable node).
int exit_code_for(const caf::error& err);

} // namespace troupe
