// The file-ingest example (issue 14, after Logstash's prospector): a long-running task watches
// a directory and submits one job per new file; the job handler counts the file's lines and
// appends "<file>\t<lines>" to an output file. Every file's line appears exactly once, across
// SIGKILLs of workers and restarts of every node (see README.md here for the pattern).
#pragma once

#include "actors/api/actor_types.hpp"

namespace troupe::examples {

/// The prospector, a task (actors/api/tasks.hpp) with config `dir` (watched), `output` (the
/// output file), `queue` (default ingest), `set` (default ingested) and `interval-ms` (default
/// 200). Partition P of N takes the files whose name hashes to P; every interval it submits a
/// job (id "file:<name>", so a file submitted twice is one job) for each of them it has not
/// seen, skipping the files already in the set. Drop files in by rename, complete.
caf::behavior file_prospector(caf::event_based_actor* self, context ctx);

/// The handler of the ingest queue: counts the lines of the job's file, appends
/// "<file>\t<lines>" to the output file unless a line of that file is there already (under an
/// exclusive lock, fsynced), then adds the file to the set of processed files.
caf::behavior line_count(caf::event_based_actor* self, context ctx);

/// Registers file-prospector and line-count.
void register_file_ingest(actor_types& types);

} // namespace troupe::examples
