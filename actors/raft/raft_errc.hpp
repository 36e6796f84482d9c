// Why the Raft replica did not (or may not have) applied a request: the codes clients map to
// exit codes (no texts are matched). The context is the human-readable text.
#pragma once

#include <caf/error.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>

#include <cstdint>

namespace troupe {

enum class raft_errc : uint8_t {
  no_quorum = 1,        // no leader is reachable: the write was not applied
  leadership_lost = 2,  // the leader stepped down before the write committed: outcome unknown
  replica_stopped = 3,  // the replica stopped before the write committed: outcome unknown
  compacted = 4,        // a watch asked for events no longer kept (context: text, oldest)
  malformed = 5,        // a request that does not decode, or is not accepted from clients
  not_found = 6,        // a read of something the cluster state does not hold (a queue)
};

const char* to_string(raft_errc x);

/// The text a client shows for `x`.
const char* text_of(raft_errc x);

} // namespace troupe

CAF_ERROR_CODE_ENUM(troupe::raft_errc, "troupe_rf")
