// The inspector of a node: what `troupe ctl actors|inspect|tree|spawn|tell|ask|kill|logs` and
// the console talk to (through the node's ingress, see console_handler.hpp). It reads the
// node's actor registry, where every supervisor lists its children: the tree of supervisors
// and services, the vnodes and their instances, and the actors spawned by operators (which
// run under the user supervisor, see user_supervisor.hpp: `spawn` goes there).
//
// Answers are JSON text (one object), so that the console, ctl and scripts read the same.
//   (actors_atom, offset, limit) -> string       {node, total, offset, actors: [row...]}
//   (inspect_atom, who) -> string                row plus "dump" (the actor's dump_atom
//                                                reply, when it has one)
//   (tree_atom) -> string                        {node, children: [row + children...]}: rows
//                                                with kind supervisor also carry "strategy"
//   (spawn_atom, type, name, args, count) -> string   {ids: [...], names: [...]}
//   (tell_atom, who, payload) -> string          {ok}: an event sent, fire and forget
//   (ask_atom, who, payload, timeout_ms) -> string   the actor's reply to the event
//   (kill_atom, who, reason, for_good) -> string  {ok, id}: the actor is sent an exit; a
//                                                service, vnode or supervisor crashes and its
//                                                supervisor starts it again (the root cannot
//                                                be killed; for_good only for spawned actors)
//   (logs_atom, after, min_level, limit) -> string   {node, next, lines: [{seq, level, text}]}
//   (metrics_atom) -> (names, values)            messages handled and mailbox sizes by type
//   (health_atom) -> string                      {level, reasons}: this node's health as its
//                                                actors and log shipping see it (restarts
//                                                past restart_alarm a minute: yellow; the
//                                                log-roller unreachable: yellow)
// `who` is an id ("<node>/<n>" or "<n>") or a name. Unknown actors are errors that say so.
#pragma once

#include "actors/inspect/actor_registry.hpp"
#include "actors/supervision/services.hpp"

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/fwd.hpp>

#include <memory>
#include <string>

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

struct inspector_config {
  std::string node_name;
  std::shared_ptr<actor_registry> registry;     // every supervisor lists its children there
  std::shared_ptr<service_directory> services;  // the user supervisor
  uint32_t restart_alarm = 5;  // actor restarts in a minute that turn health yellow
};

struct actor_stats;

caf::actor spawn_inspector(caf::actor_system& sys, inspector_config cfg,
                           std::shared_ptr<actor_stats> stats = nullptr);

} // namespace troupe
