// The log-roller: the one writer of a host's log file (`troupe run --log-file FILE`). Every
// process of the node ships its formatted log lines to it (logging::ship_to: the node's own
// loggers, and local workers over the cluster connection), so the file is written by one
// actor only: lines never tear or interleave, and rotation never races a writer.
//
// It rotates when the file reaches max_bytes, and on request: FILE -> FILE.1 -> ... ->
// FILE.<max_files>, the oldest dropped (max_files 0: the file is truncated instead).
//
// Messages:
//   (log_lines_atom, vector<string> lines)      appends the lines, one write per batch
//   (log_rotate_atom) -> string                 rotates now; JSON {file, rotations}
//   (log_roller_atom) -> actor                  (on a node's published actor) the roller, for
//                                               local workers to ship to
//   (metrics_atom) -> (names, values)           lines and bytes written, rotations, errors
#pragma once

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/fwd.hpp>

#include <cstdint>
#include <string>

namespace troupe {

using log_lines_atom = caf::atom_constant<caf::atom("t_loglines")>;
using log_rotate_atom = caf::atom_constant<caf::atom("t_logrot")>;
using log_roller_atom = caf::atom_constant<caf::atom("t_logroll")>;

struct log_roller_config {
  std::string path;
  uint64_t max_bytes = 10 * 1024 * 1024;
  uint32_t max_files = 5;
};

/// Opens (creating) the log file and spawns its roller. Returns an invalid handle and the
/// problem when the file cannot be opened, or another process holds it.
caf::actor spawn_log_roller(caf::actor_system& sys, const log_roller_config& cfg,
                            std::string& problem);

} // namespace troupe
