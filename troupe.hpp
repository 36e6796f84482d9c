// Troupe's public API in one include: `#include <troupe/troupe.hpp>`.
//   troupe::node     the entry point of a binary (nodes/troupe_node.hpp)
//   troupe::client   a program's connection to a cluster from outside it: requests with
//                    messages of your own types (nodes/troupe_client.hpp)
//   troupe::event    what a deployed actor handles; troupe::context, where it runs
//                    (actors/api/event.hpp)
//   troupe::send     events, or messages of your own types, to a deployment from inside an
//                    actor; troupe::request for a reply (actors/api/send.hpp)
//   troupe::bus      publish/subscribe between nodes, with namespaces and persistence
//                    (actors/api/bus.hpp)
//   troupe::is_main_worker, troupe::spawn_singleton  (actors/api/main_worker.hpp, singleton.hpp)
//   troupe::migration_context, node::add_migration  run-once migrations
//                    (actors/api/migrations.hpp)
#pragma once

#include "actors/api/actor_types.hpp"
#include "actors/api/bus.hpp"
#include "actors/api/event.hpp"
#include "actors/api/jobs.hpp"
#include "actors/api/set.hpp"
#include "actors/api/tasks.hpp"
#include "actors/api/main_worker.hpp"
#include "actors/api/migrations.hpp"
#include "actors/api/send.hpp"
#include "actors/api/singleton.hpp"
#include "nodes/troupe_client.hpp"
#include "nodes/troupe_node.hpp"

/// Troupe's public API: run CAF actors across a cluster (see <troupe/troupe.hpp>).
namespace troupe {}
