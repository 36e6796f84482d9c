// A supervisor: the thin actor around protocols/supervision/supervisor_core. It starts its
// children in order, monitors them, and when one exits does what the core decides: start it
// (and, by the strategy, some siblings) again, or give up and exit itself with an escalation
// its own supervisor sees. Children are services (any actor a start function spawns) or
// supervisors in turn, so a node is one tree (see nodes/node_tree.cpp for its shape).
//
// Every child is listed in the node's actor registry (`troupe ctl tree`): its supervisor, its
// state and restarts, its mailbox; a supervisor's row also shows its strategy and intensity.
// A child that fills a service slot is put into the node's service directory at every start,
// so the rest of the node finds its current incarnation.
//
// Stopping: on an exit message (its parent's shutdown, or an escalation) a supervisor stops
// its children in reverse start order, waits up to stop_timeout for them to be gone, and
// exits. Escalations are caf::errors of category `exit_errc` (gave_up, or the fatal code of
// the child that failed), so the root knows the node's exit code and which child it was.
//
// Its messages are supervisor_actor below; its children and parent talk to it with exit and
// down messages only.
#pragma once

#include "actors/inspect/actor_registry.hpp"
#include "actors/supervision/exit_errc.hpp"
#include "actors/supervision/services.hpp"
#include "actors/wire.hpp"
#include "protocols/clock.hpp"
#include "protocols/supervision/supervisor_core.hpp"

#include <caf/actor.hpp>
#include <caf/expected.hpp>
#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace troupe {

struct actor_stats;

/// A supervisor's interface: restarts of each child, for GET /metrics, as
/// troupe_supervisor_restarts_total;supervisor;<name>;child;<child>.
using supervisor_actor = caf::typed_actor<metrics_sig>;

/// What a supervisor's children share: the node's registry and service directory.
struct tree_context {
  std::shared_ptr<actor_registry> registry;
  std::shared_ptr<service_directory> services;
};

struct child_def {
  std::string name;
  supervision::restart_type restart = supervision::restart_type::permanent;
  std::optional<service> fills;  // the service directory slot this child is
  // Spawns the child (counting its messages in the stats). An error (or an invalid handle)
  // means it could not start: a crash, or with a fatal exit_errc an escalation at once.
  std::function<caf::expected<caf::actor>(caf::actor_system&,
                                          const std::shared_ptr<actor_stats>&)>
    start;
  std::function<void()> on_exit;  // called when the child is gone, before any restart
  std::string kind = "service";  // "service" or "supervisor", as the tree shows it
  std::string strategy;          // for a supervisor: "one-for-all, 3 in 5s" and why
};

struct supervisor_def {
  std::string name;
  supervision::strategy how = supervision::strategy::one_for_one;
  supervision::intensity limit;
  std::vector<child_def> children;
  duration stop_timeout = std::chrono::seconds(5);
  // Called when this supervisor gives up (the root's way of stopping the node); the error is
  // an exit_errc naming the child that failed.
  std::function<void(const caf::error&)> on_give_up{};
};

/// Describes a supervisor's strategy and intensity for the tree: "one-for-all, 3 in 5s".
std::string describe(const supervisor_def& def);

/// A child_def that is a supervisor: `def` started under `tree`.
child_def supervisor_child(supervisor_def def, tree_context tree);

/// Spawns a supervisor; it starts its children at once, in order.
supervisor_actor spawn_supervisor(caf::actor_system& sys, supervisor_def def, tree_context tree,
                            std::shared_ptr<actor_stats> stats = nullptr);

} // namespace troupe
