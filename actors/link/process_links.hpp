// The links of one process: its link context, connector and (a node) listener, held by its
// actor-system config so that any code with the actor system reaches them, and stopped before
// the actor system goes (their connections are actors of it).
#pragma once

#include "actors/link/link.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include <memory>
#include <mutex>

namespace troupe {

struct process_links {
  std::mutex mtx;
  link_context_ptr ctx;
  caf::actor connector;
  caf::actor listener;
};

/// The config of every Troupe actor system (node, client, test acting as one).
struct troupe_system_config : caf::actor_system_config {
  /// Sets the scheduler's polling (see process_links.cpp): idle threads sleep.
  troupe_system_config();

  std::shared_ptr<process_links> links = std::make_shared<process_links>();
};

/// An actor system whose links are stopped before it goes.
class troupe_system : public caf::actor_system {
public:
  explicit troupe_system(troupe_system_config& cfg) : caf::actor_system(cfg) {}
  ~troupe_system();
};

/// Sets a node's link context (its bounds and identity) before anything connects.
void install_link_context(caf::actor_system& sys, link_context_ptr ctx);

/// This process's link context; a client's default one is made on first use.
link_context_ptr link_context_of(caf::actor_system& sys);

/// This process's connector (see spawn_link_connector), made on first use.
caf::actor link_connector_of(caf::actor_system& sys);

/// Listens for the node (link_listen) and keeps the listener to stop it with the links.
caf::expected<uint16_t> listen_links(caf::actor_system& sys, const std::string& bind,
                                     uint16_t port);

/// Stops the listener, the connector and every connection they hold; waits (bounded) until
/// they are gone. Idempotent.
void stop_links(caf::actor_system& sys);

} // namespace troupe
