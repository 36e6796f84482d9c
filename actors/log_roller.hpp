// The log-roller: the one writer of a host's log file (`troupe run --log-file FILE`). Every
// process of the node ships its formatted log lines to it (logging::ship_to: the node's own
// loggers, and local workers over the cluster connection), so the file is written by one
// actor only: lines never tear or interleave, and rotation never races a writer.
//
// It rotates when the file reaches max_bytes, and on request: FILE -> FILE.1 -> ... ->
// FILE.<max_files>, the oldest dropped (max_files 0: the file is truncated instead).
//
// Its messages are log_roller_actor below; (log_roller_atom) -> actor, asked of a node's
// published actor, returns the roller, for local workers to ship to.
#pragma once

#include "actors/wire.hpp"

#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <string>

namespace troupe {

using log_lines_atom = caf::atom_constant<caf::atom("t_loglines")>;
using log_rotate_atom = caf::atom_constant<caf::atom("t_logrot")>;
using log_roller_atom = caf::atom_constant<caf::atom("t_logroll")>;

/// The log-roller's interface.
using log_roller_actor = caf::typed_actor<
  // Appends the lines, one write per batch.
  caf::reacts_to<log_lines_atom, std::vector<std::string>>,
  // Rotates now; answers JSON {file, rotations}, or console_errc::failed.
  caf::replies_to<log_rotate_atom>::with<std::string>,
  // Lines and bytes written, rotations, write errors.
  metrics_sig>;

struct log_roller_config {
  std::string path;
  uint64_t max_bytes = 10 * 1024 * 1024;
  uint32_t max_files = 5;
};

/// Opens (creating) the log file and spawns its roller. Returns an invalid handle and the
/// problem when the file cannot be opened, or another process holds it.
log_roller_actor spawn_log_roller(caf::actor_system& sys, const log_roller_config& cfg,
                            std::string& problem);

} // namespace troupe
