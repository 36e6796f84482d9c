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
// Its messages are user_supervisor_actor below (the inspector hands it the console's spawn
// and kill of spawned actors).
#pragma once

#include "actors/api/actor_types.hpp"
#include "actors/inspect/actor_registry.hpp"
#include "actors/inspect/inspector.hpp"
#include "actors/supervision/services.hpp"
#include "protocols/supervision/restart_policy.hpp"

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

#include <memory>
#include <string>

namespace troupe {

struct actor_stats;

/// The user supervisor's interface.
using user_supervisor_actor = caf::typed_actor<
  // (type, name, args, count): JSON {node, count, ids, names}
  caf::replies_to<spawn_atom, std::string, std::string, std::vector<std::string>,
                  uint32_t>::with<std::string>,
  // (who, reason, for_good): JSON {ok, id, restart}: the actor gets an exit; with for_good
  // it is not restarted and leaves the registry
  caf::replies_to<kill_atom, std::string, std::string, bool>::with<std::string>>;

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

user_supervisor_actor spawn_user_supervisor(caf::actor_system& sys, user_supervisor_config cfg,
                                            std::shared_ptr<actor_stats> stats = nullptr);

} // namespace troupe
