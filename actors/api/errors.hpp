// The errors a user's actor may get back from its node through the public API (troupe::request,
// bus::request_publish, spawn_singleton): one enum per module, each a caf::error category of
// its own (CAF_ERROR_CODE_ENUM), its context the human-readable text. Compare codes, not texts:
//
//   [](const caf::error& err) {
//     if (err == troupe::routing_errc::no_workers) ...   // try again once workers joined
//   }
#pragma once

#include <caf/error.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>

#include <cstdint>

namespace troupe {

/// Routing and delivering events to deployments (the router, the vnodes, the instances).
enum class routing_errc : uint8_t {
  no_deployment = 1,  ///< no deployment by that name
  no_workers = 2,     ///< the vnode (or singleton) has no live owner
  no_vnode_map = 3,   ///< the cluster has placed no vnodes yet
  not_served = 4,     ///< the worker asked does not serve the vnode (it moved, or not yet)
  fenced = 5,         ///< the worker lost its coordinator or lease: it serves nothing
  lease_expired = 6,  ///< an instance refused the event: its worker's lease ran out
  buffer_full = 7,    ///< the vnode is moving and its hand-over buffer is full
  stopped = 8,        ///< the router or vnode stopped before the event was confirmed
  undelivered = 9,    ///< an at-least-once event not confirmed within the delivery deadline
  malformed = 10,     ///< a request that makes no sense (e.g. more keys than payloads)
  unreachable = 11,   ///< the vnode's owner could not be reached
  unregistered_type = 12,  ///< a message of a type not registered with add_message_type
};

/// The code's name, e.g. "no_workers".
const char* to_string(routing_errc x);

/// The broadcast bus.
enum class bus_errc : uint8_t {
  no_subscriber = 1,  ///< a subscription without an actor to deliver to
  not_persisted = 2,  ///< a persisted broadcast that was not committed
  unavailable = 3,    ///< the bus or the node's entrance is restarting
  invalid = 4,        ///< a bad namespace, topic or payload
};

/// The code's name, e.g. "not_persisted".
const char* to_string(bus_errc x);

/// Shared work: submitting jobs, changing queues, a job's result.
enum class jobs_errc : uint8_t {
  no_queue = 1,   ///< no queue by that name
  invalid = 2,    ///< a bad queue configuration, an empty job id
  exists = 3,     ///< a queue created again with another configuration
  fenced = 4,     ///< a result for an attempt that no longer runs (its epoch is stale)
  no_job = 5,     ///< no job by that id in the queue
  not_dead = 6,   ///< a retry of a job that is not a dead letter
  no_task = 7,    ///< no long-running task by that name
};

/// The code's name, e.g. "no_queue".
const char* to_string(jobs_errc x);

} // namespace troupe

CAF_ERROR_CODE_ENUM(troupe::routing_errc, "troupe_rt")
CAF_ERROR_CODE_ENUM(troupe::bus_errc, "troupe_bu")
CAF_ERROR_CODE_ENUM(troupe::jobs_errc, "troupe_jb")
