// The inspector of a node: what `troupe ctl actors|inspect|tree|spawn|tell|ask|kill|logs` and
// the console talk to (through the node's published actor, see console_handler.hpp). It is
// also the node's user supervisor: actors spawned from the console run under it, and it
// restarts one that dies (at most restart.max_restarts within restart.period, after a
// backoff), keeping its id and name and counting the restart.
//
// Answers are JSON text (one object), so that the console, ctl and scripts read the same.
//   (actors_atom, offset, limit) -> string       {node, total, offset, actors: [row...]}
//   (inspect_atom, who) -> string                row plus "dump" (the actor's dump_atom
//                                                reply, when it has one)
//   (tree_atom) -> string                        {node, name, children: [...]}
//   (spawn_atom, type, name, args, count) -> string   {ids: [...], names: [...]}
//   (tell_atom, who, payload) -> string          {ok}: an event sent, fire and forget
//   (ask_atom, who, payload, timeout_ms) -> string   the actor's reply to the event
//   (kill_atom, who, reason, for_good) -> string  {ok, id}: the actor is sent an exit
//   (logs_atom, after, min_level, limit) -> string   {node, next, lines: [{seq, level, text}]}
//   (register_atom, name, actor)                 lists a service of the node (kind system)
//   (metrics_atom) -> (names, values)            messages handled and mailbox sizes by type
//   (health_atom) -> string                      {level, reasons}: this node's health as its
//                                                actors and log shipping see it (restarts
//                                                past restart_alarm a minute: yellow; the
//                                                log-roller unreachable: yellow)
// `who` is an id ("<node>/<n>" or "<n>") or a name. Unknown actors are errors that say so.
#pragma once

#include "actors/api/actor_types.hpp"
#include "actors/inspect/actor_registry.hpp"
#include "protocols/supervision/restart_policy.hpp"

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
using register_atom = caf::atom_constant<caf::atom("i_register")>;
using health_atom = caf::atom_constant<caf::atom("i_health")>;

struct inspector_config {
  std::string node_name;
  std::shared_ptr<actor_registry> registry;   // shared with the vnode host
  std::shared_ptr<const actor_types> types;   // what `spawn` can start
  caf::actor router;                           // in every spawned actor's context
  caf::actor bus;                              // this too
  std::string data_dir;
  supervision::restart_settings restart;       // for spawned actors
  uint32_t max_spawn = 1000000;                // one spawn command starts at most this many
  uint32_t restart_alarm = 5;                  // actor restarts in a minute that turn health yellow
};

caf::actor spawn_inspector(caf::actor_system& sys, inspector_config cfg);

} // namespace troupe
