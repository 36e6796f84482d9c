// Why the wire refused something. One enum for the module, with a name for logs and metrics.
#pragma once

#include <cstdint>

namespace troupe::wire {

enum class wire_errc : uint8_t {
  none = 0,
  bad_magic,             // not a Troupe frame (another protocol, or garbage)
  unsupported_version,   // a frame version this build does not read
  bad_flags,             // reserved header bits set
  frame_too_large,       // the header claims more than the bound
  checksum_mismatch,     // the body does not match the header's CRC32C
  malformed,             // the body is not the protobuf message it must be
  field_too_large,       // a field over its bound
  invalid_value,         // a required field missing or out of range
  no_hello,              // the peer did not say hello in time, or said something else first
  gap,                   // the link check: a frame number skipped (a frame lost)
  duplicate,             // the link check: a frame number seen again
  stale_incarnation,     // the link check: a frame from an earlier life of the peer
  too_many_connections,  // over the bound per address or in total
  too_many_requests,     // over the bound of requests in flight on one connection
  tls_failed,            // the TLS handshake or a TLS record failed (a foreign or bad certificate)
  tls_required,          // plain frames to a process that speaks only TLS
  tls_unexpected,        // TLS to a process without TLS
  name_mismatch,         // a peer's certificate does not name the member its hello claims
  not_permitted,         // a message the peer may not send (e.g. Raft from a non-coordinator)
  bad_cookie,            // without TLS: the peer did not prove it knows the cluster's cookie
};

/// A short name for logs and the `reason` label of metrics ("frame_too_large").
const char* to_string(wire_errc e);

/// True when the fault means the link itself is out of step (Kuzzle): the sender is evicted.
bool desynchronizes(wire_errc e);

} // namespace troupe::wire
