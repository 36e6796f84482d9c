// The cluster's health, gathered from every node: `troupe status` and GET /api/status on any
// node show the overall level (the worst of all) and each node's level with its reasons.
//
// A node's reasons come from its membership actor (no Raft quorum: red; a worker without a
// coordinator: yellow) and its inspector (actor restarts past the alarm in the last minute, the
// log-roller unreachable: yellow). On top, from the vnode map: vnodes whose owner is not a live
// worker (red), and members that are down (yellow) or do not answer (red).
#pragma once

#include "protocols/clock.hpp"
#include "protocols/membership/types.hpp"

#include <caf/fwd.hpp>
#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

namespace troupe {

struct node_health_row {
  std::string name;
  std::string level = "green";
  std::vector<std::string> reasons;
};

struct cluster_health {
  std::string level = "green";
  std::vector<std::string> reasons;  // "<node>: <reason>" and the cluster's own
  std::vector<node_health_row> nodes;
};

/// Asks every member of `reply` (the status `answering` gave) for its health.
cluster_health gather_health(caf::actor_system& sys, caf::scoped_actor& self,
                             const caf::actor& answering, const membership::status_reply& reply,
                             duration timeout);

/// Adds "cluster_health" {level, reasons} and each member's "health" to a status_json object.
void add_health(nlohmann::json& status, const cluster_health& h);

/// "green", or "red: reason; reason".
std::string health_text(const std::string& level, const std::vector<std::string>& reasons);

} // namespace troupe
