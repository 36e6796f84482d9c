// Why a service or a supervisor exits in a way the node cannot repair by restarting: the
// reasons supervisors escalate with, and the process exit code each one ends in. They are
// caf::errors of their own category, so they survive the trip from a child to the root.
#pragma once

#include <caf/error.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>
#include <caf/fwd.hpp>

#include <cstdint>
#include <string>

namespace troupe {

enum class exit_errc : uint8_t {
  none = 0,
  gave_up = 1,         // a supervisor past its restart intensity (exit 70)
  storage_failed = 2,  // the Raft log or a snapshot cannot be written at run time (exit 74)
};

const char* to_string(exit_errc x);

/// True when `err` is one of these: a child that exits with it is not restarted.
bool is_fatal(const caf::error& err);

/// The text of an exit_errc error ("" for other errors).
std::string fatal_text(const caf::error& err);

/// Registers the category with an actor system, so errors render as their text.
void add_exit_errc_category(caf::actor_system_config& cfg);

} // namespace troupe

CAF_ERROR_CODE_ENUM_2(troupe::exit_errc, "troupe_ex")
