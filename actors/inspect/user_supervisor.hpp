// The user supervisor of a node: the actors spawned by operators (`troupe ctl spawn`) and by
// user code run under it. It restarts one that exits after a backoff, at most
// restart.max_restarts times within restart.period per actor (past that the actor is `failed`
// and stays down: one misbehaving actor must not take the node's services with it), keeping
// its id, name and counters.
//
// Its children's specs live in a user_children table that outlives the actor: when the node's
// tree restarts the user supervisor, the new one starts every child again (as OTP starts a
// supervisor's children), so operators' actors come back with their ids.
//
// Messages:
//   (spawn_atom, type, name, args, count) -> string   JSON {node, count, ids, names}
//   (kill_atom, who, reason, for_good) -> string       JSON {ok, id, restart}: the actor gets
//                                                      an exit; with for_good it is not
//                                                      restarted and leaves the registry
#pragma once

#include "actors/api/actor_types.hpp"
#include "actors/inspect/actor_registry.hpp"
#include "actors/supervision/services.hpp"
#include "protocols/supervision/restart_policy.hpp"

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include <memory>
#include <string>

namespace troupe {

struct actor_stats;

/// The spawned actors' specs, kept across restarts of the user supervisor (opaque).
struct user_children;

std::shared_ptr<user_children> make_user_children();

struct user_supervisor_config {
  std::string node_name;
  std::shared_ptr<actor_registry> registry;
  std::shared_ptr<const actor_types> types;     // what `spawn` can start
  std::shared_ptr<service_directory> services;  // in every spawned actor's context
  std::shared_ptr<user_children> children;      // made by spawn_user_supervisor when not given
  std::string data_dir;
  supervision::restart_settings restart;
  uint32_t max_spawn = 1000000;  // one spawn command starts at most this many
};

/// The name of the user supervisor's row in the registry, and in its children's rows.
constexpr const char* user_supervisor_name = "user-supervisor";

caf::actor spawn_user_supervisor(caf::actor_system& sys, user_supervisor_config cfg,
                                 std::shared_ptr<actor_stats> stats = nullptr);

} // namespace troupe
