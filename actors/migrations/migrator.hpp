// The migration actor of a node (one per node): runs the registered migrations when this node
// is the main worker, and lists them for `troupe ctl migrations` everywhere.
//
// It follows the cluster view: the migration table (protocols/cluster_state/migration_table)
// and the main worker. On the main worker it asks plan_migrations what comes next, records
// the start through Raft under its epoch, runs the migration on a thread of its own, and
// records the outcome (done or failed) the same way; each completion is announced with a
// persisted broadcast on topic "migrations" of namespace "troupe". Every step is fenced by
// the epoch in the Raft state itself, so a main worker that lost its lease records nothing.
//
// Its messages are migrator_actor below. Raft commands go through the node's ingress,
// announcements through its bus (both from the service directory).
#pragma once

#include "actors/api/migrations.hpp"
#include "actors/supervision/services.hpp"
#include "actors/wire.hpp"

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace troupe {

using migrations_atom = caf::atom_constant<caf::atom("t_migrats")>;

/// The migration actor's interface.
using migrator_actor = caf::typed_actor<
  // A new cluster view (asked for with workload_pull_atom at start: a restarted migrator
  // carries on from the table).
  workload_sig,
  // JSON: {node, main_worker, waiting_for, migrations: [...]}
  caf::replies_to<migrations_atom>::with<std::string>>;

struct migrator_config {
  std::string node_name;
  std::string data_dir;
  std::shared_ptr<const migration_list> migrations;
  std::shared_ptr<service_directory> services;  // ingress, bus, membership
  std::chrono::milliseconds timeout{10000};
  std::chrono::milliseconds tick{500};  // how often a step that could not be recorded is retried
};

struct actor_stats;

migrator_actor spawn_migrator(caf::actor_system& sys, migrator_config cfg,
                          std::shared_ptr<actor_stats> stats = nullptr);

} // namespace troupe
