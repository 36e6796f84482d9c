// The supervision tree of a node (design: "The supervision tree"), built from its
// configuration. Every actor of the node lives in it:
//
//   node (one-for-one, 2 in 60s; past it the node exits 70 naming the child)
//   ├── services (one-for-one, 5 in 10s): log-roller, router, bus, migrator, inspector
//   ├── coordinator (one-for-all, 5 in 10s): raft, membership-server       [coordinators]
//   ├── worker (rest-for-one, 5 in 10s): membership-agent, vnodes           [workers]
//   ├── user-supervisor (actors spawned by operators and user code)
//   └── ingress (the published actor, last up and first down)
//
// Each strategy is explained where the tree is built (node_tree.cpp). A restarted service
// finds the others through the service directory and asks its membership actor for the view
// it missed; the bus and the user supervisor keep their subscriptions and children in tables
// that outlive them; a restarted ingress is published again on the same port.
#pragma once

#include "actors/api/actor_types.hpp"
#include "actors/api/migrations.hpp"
#include "actors/supervision/supervisor.hpp"
#include "nodes/node_config.hpp"
#include "protocols/membership/types.hpp"

#include <caf/fwd.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <string>

namespace troupe {

namespace raft {
class raft_storage;
struct restored_state;
} // namespace raft

/// What the tree's start functions need from the node process, shared by all of them.
struct node_runtime {
  node_config cfg;
  std::shared_ptr<const actor_types> types;
  std::shared_ptr<const migration_list> migrations;
  tree_context tree;                  // the node's registry and service directory
  membership::member self;            // this node as a member (address: the bind host)
  std::string cluster_id;
  coordinator_group group;            // coordinators: the Raft group
  caf::actor resolver;                // the link connector (actors/link: connect)
  link_context_ptr links;             // the wire's context (fault injection in tests)
  // Opened before the tree starts (so that an error stops the node with one line): the first
  // start of the Raft actor and of the log-roller take them, restarts open them again.
  std::shared_ptr<std::unique_ptr<raft::raft_storage>> first_storage;
  std::shared_ptr<raft::restored_state> first_restored;
  caf::actor first_roller;
  // Known once the cluster port is published: restarted actors are started with them, and a
  // restarted ingress is published again on it.
  std::atomic<uint16_t> cluster_port{0};
  std::atomic<uint16_t> http_port{0};
  std::atomic<bool> started{false};
  // Stops the node (from any thread): exit code and the one line it prints.
  std::function<void(int code, const std::string& reason)> stop;
};

/// Builds the node's tree; spawn it with spawn_supervisor(sys, def, rt->tree).
supervisor_def make_node_tree(std::shared_ptr<node_runtime> rt);

/// The services the node must have before its port opens (the ingress among them).
std::vector<service> expected_services(const node_config& cfg);

} // namespace troupe
