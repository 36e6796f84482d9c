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
  if (ctx.size() == 1 && ctx.match_element<std::string>(0))
    return ctx.get_as<std::string>(0);
  return sys.render(err);
}

} // namespace troupe
