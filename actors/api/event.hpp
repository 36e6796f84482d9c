// What a deployed actor sees (the public API for user actors): the events it handles and the
// context it was started with. A deployed actor is an ordinary CAF actor that handles
//   troupe::event                  -> std::string   its reply (`troupe ctl request` prints it)
// and may handle, to keep its state when its vnode moves to another worker (and, with
// snapshots or `--durable`, when its worker crashes),
//   (troupe::snapshot_atom)        -> std::string   its state as bytes
//   (troupe::restore_atom, bytes)                   the state a snapshot returned
// and, to show its state in the console (`troupe ctl inspect`),
//   (troupe::dump_atom)            -> std::string   its state, readable by people
// plus any message type the user registers with CAF (see send.hpp: routed to it by key).
#pragma once

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace troupe {

/// What a deployed actor handles: one event routed to its vnode by key. It answers with a
/// std::string (its reply; `troupe ctl request` prints it).
struct event {
  std::string key;      ///< The routing key: events of a key reach the same instance, in order.
  std::string payload;  ///< What the sender sent.
  std::map<std::string, std::string> headers;  ///< Metadata the sender added (may be empty).
};

/// Lets CAF serialize an event (it crosses nodes as "troupe.event").
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event& x) {
  return f(caf::meta::type_name("troupe.event"), x.key, x.payload, x.headers);
}

class service_directory;  // the node's services: internal to Troupe

/// Where a deployed actor runs and how it was configured.
struct context {
  std::string deployment;                     ///< The deployment's name ("" when spawned).
  uint32_t vnode = 0;                         ///< The vnode this instance serves.
  std::map<std::string, std::string> config;  ///< `troupe ctl deploy --config k=v`.
  std::string data_dir;                       ///< This worker's data folder.
  std::vector<std::string> args;              ///< `troupe ctl spawn TYPE ARGS...`.
  /// The node the actor runs on (set by Troupe). Its services are restarted by their
  /// supervisors, so the accessors below look up the current one at each call.
  std::shared_ptr<const service_directory> services{};
  /// For a task's instance: the worker's incarnation when it started (0: not checked). Once
  /// the worker was seen lost and joined again as a new incarnation, the instance's partition
  /// may run elsewhere: may_serve() is false for it from then on.
  uint64_t incarnation = 0;

  /// Returns this node's router (see troupe::send), or an invalid handle while it restarts.
  caf::actor router() const;

  /// Returns this node's door to the cluster: cluster commands (spawn_singleton, KV).
  caf::actor node() const;

  /// Returns this node's bus (see troupe::bus).
  caf::actor bus() const;

  /// Returns whether the node may serve its vnodes now (its lease holds; for a task's
  /// instance, also under the incarnation it started with). A deployment's instance handles no
  /// event while it does not: Troupe checks before each one. A task's instance checks it
  /// before each effect.
  bool may_serve() const;

  /// Returns config[key], or `fallback` when it is not set.
  std::string get(const std::string& key, const std::string& fallback = {}) const {
    auto it = config.find(key);
    return it == config.end() ? fallback : it->second;
  }
};

/// (snapshot_atom) -> std::string: asks an instance for its state as bytes, before its
/// vnode moves, every `snapshot-every-ms` and (a durable deployment) every second; kept in the
/// instance's record in the cluster state, from which the instance restarts after a crash.
using snapshot_atom = caf::atom_constant<caf::atom("t_snapsht")>;
/// (restore_atom, std::string): hands an instance the state a snapshot returned.
using restore_atom = caf::atom_constant<caf::atom("t_restore")>;
/// (dump_atom) -> std::string: asks an actor for its state, readable by people (the console).
using dump_atom = caf::atom_constant<caf::atom("t_dump")>;

} // namespace troupe
