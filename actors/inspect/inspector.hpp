// The inspector of a node: what `troupe ctl actors|inspect|tree|spawn|tell|ask|kill|logs` and
// the console talk to (through the node's ingress, see console_handler.hpp). It reads the
// node's actor registry, where every supervisor lists its children: the tree of supervisors
// and services, the vnodes and their instances, and the actors spawned by operators (which
// run under the user supervisor, see user_supervisor.hpp: `spawn` goes there).
//
// Its messages are inspector_actor below. Answers are JSON text (one object), so that the
// console, ctl and scripts read the same. `who` is an id ("<node>/<n>" or "<n>") or a name;
// errors are console_errc codes (an unknown actor, one not running, ...) that say which.
#pragma once

#include "actors/inspect/actor_registry.hpp"
#include "actors/supervision/services.hpp"
#include "actors/wire.hpp"

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

#include <memory>
#include <string>
#include <vector>

namespace troupe {

using actors_atom = caf::atom_constant<caf::atom("i_actors")>;
using inspect_atom = caf::atom_constant<caf::atom("i_inspect")>;
using tree_atom = caf::atom_constant<caf::atom("i_tree")>;
using spawn_atom = caf::atom_constant<caf::atom("i_spawn")>;
using tell_atom = caf::atom_constant<caf::atom("i_tell")>;
using ask_atom = caf::atom_constant<caf::atom("i_ask")>;
using kill_atom = caf::atom_constant<caf::atom("i_kill")>;
using logs_atom = caf::atom_constant<caf::atom("i_logs")>;
using health_atom = caf::atom_constant<caf::atom("i_health")>;

/// The inspector's interface.
using inspector_actor = caf::typed_actor<
  // (offset, limit): {node, total, offset, actors: [row...]}
  caf::replies_to<actors_atom, uint64_t, uint64_t>::with<std::string>,
  // (who): its row plus "dump" (the actor's dump_atom reply, when it has one)
  caf::replies_to<inspect_atom, std::string>::with<std::string>,
  // {node, children: [row + children...]}: supervisors' rows also carry "strategy"
  caf::replies_to<tree_atom>::with<std::string>,
  // (type, name, args, count): {node, count, ids, names}, from the user supervisor
  caf::replies_to<spawn_atom, std::string, std::string, std::vector<std::string>,
                  uint32_t>::with<std::string>,
  // (who, key, payload): {ok, id}: an event sent, fire and forget
  caf::replies_to<tell_atom, std::string, std::string, std::string>::with<std::string>,
  // (who, key, payload, timeout_ms): the actor's reply to the event
  caf::replies_to<ask_atom, std::string, std::string, std::string, uint64_t>::with<std::string>,
  // (who, reason, for_good): {ok, id, restart}: the actor is sent an exit; a service, vnode
  // or supervisor crashes and its supervisor starts it again (the root cannot be killed;
  // for_good only for spawned actors)
  caf::replies_to<kill_atom, std::string, std::string, bool>::with<std::string>,
  // (after, min_level, limit): {node, next, lines: [{seq, level, text}]}
  caf::replies_to<logs_atom, uint64_t, int32_t, uint64_t>::with<std::string>,
  // {level, reasons}: this node's health as its actors and log shipping see it (restarts
  // past restart_alarm a minute: yellow; the log-roller unreachable: yellow)
  caf::replies_to<health_atom>::with<std::string>,
  // Messages handled, mailbox sizes and restarts of user actors and instances, by type.
  metrics_sig>;

struct inspector_config {
  std::string node_name;
  std::shared_ptr<actor_registry> registry;     // every supervisor lists its children there
  std::shared_ptr<service_directory> services;  // the user supervisor
  uint32_t restart_alarm = 5;  // actor restarts in a minute that turn health yellow
};

struct actor_stats;

inspector_actor spawn_inspector(caf::actor_system& sys, inspector_config cfg,
                                std::shared_ptr<actor_stats> stats = nullptr);

} // namespace troupe
