// The node's HTTP endpoint: GET / is the web view (nodes/web_view.hpp), a page that polls
// GET /api/view; POST /api/kill and /api/migrations/retry are its actions, refused unless the
// node has a console token and the request carries it (X-Troupe-Token). GET /api/status answers the cluster status as JSON (the same
// object as `troupe status --json`); GET /metrics answers Prometheus text: members by state,
// this coordinator's Raft role, term and commit index, the counters and gauges of the node's
// router and vnode host (events, instances per deployment, handoffs, buffers, retries,
// duplicates), rejected frames, and the process's resident memory and threads. It runs on its
// own thread and asks the actors with bounded requests, so a slow actor gives a 503 (status)
// or a missing family (metrics), never a hung client.
#pragma once

#include "actors/supervision/services.hpp"

#include <caf/fwd.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace troupe {

class actor_registry;

class http_status {
public:
  /// Asks the node's services (their current incarnations) and, for supervisor restarts, the
  /// supervisors listed in `registry`.
  http_status(caf::actor_system& sys, std::shared_ptr<service_directory> services,
              std::shared_ptr<const actor_registry> registry = nullptr);

  /// Adds a service answering metrics_atom (actors/wire.hpp) to what /metrics reports.
  void add_metrics_source(service source);

  /// The node's console token: the web view's actions need it (none set: the view is
  /// read-only).
  void set_console_token(std::string token);
  ~http_status();

  /// Binds `host:port` (port 0: any free port) and starts serving. Returns the problem, or "".
  std::string start(const std::string& host, uint16_t port);

  /// Returns the bound port (0 before start).
  uint16_t port() const;

  /// Stops serving and joins the thread.
  void stop();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace troupe
