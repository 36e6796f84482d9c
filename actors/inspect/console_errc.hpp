// Why a console command (inspection, spawn, kill, ...) or a write was not done: the codes
// `troupe ctl` and the console map to exit codes. The context is the human-readable text.
#pragma once

#include <caf/error.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>

#include <cstdint>

namespace troupe {

enum class console_errc : uint8_t {
  refused = 1,          // a write without the right console token (exit 77)
  unknown_actor = 2,    // no actor by that id or name
  unknown_type = 3,     // no actor type by that name
  invalid = 4,          // a bad argument (count, name) or a name already taken
  not_running = 5,      // the actor exists but does not run
  not_allowed = 6,      // e.g. killing the root, or --stop on a service
  no_answer = 7,        // the actor did not answer in time
  unknown_command = 8,  // not a command this node knows
  killed = 9,           // the exit reason of an actor killed from the console
  unavailable = 10,     // the inspector or user supervisor is restarting
  failed = 11,          // the command ran and failed (e.g. a log file that cannot rotate)
};

const char* to_string(console_errc x);

} // namespace troupe

CAF_ERROR_CODE_ENUM(troupe::console_errc, "troupe_cn")
