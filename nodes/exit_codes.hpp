// Process exit codes, after sysexits.h, so scripts and supervisors can tell failures apart.
#pragma once

namespace troupe::exit_code {

constexpr int ok = 0;
constexpr int failure = 1;        // a runtime failure not covered below
constexpr int usage = 64;         // bad arguments to a client command (status, ...)
constexpr int unavailable = 69;   // the node asked for could not be reached in time
constexpr int refused = 77;       // the cluster needs the console token for this command
constexpr int software = 70;      // the node gave up: e.g. a worker past its restart intensity
constexpr int storage = 74;       // the Raft log or a snapshot cannot be read or written
constexpr int evicted = 75;       // the cluster evicted this node (a desynchronized link): start
                                  // it again (EX_TEMPFAIL; a local worker is restarted)
constexpr int config = 78;        // bad configuration: nothing was started

} // namespace troupe::exit_code
