// The web view (served at GET / by every node's HTTP port): the page polls GET /api/view,
// which answers the whole cluster as one JSON object; its two actions (kill_actor and
// retry_migration, nodes/cluster_queries.hpp) are POSTs that carry the console token.
#pragma once

#include "nodes/cluster_queries.hpp"

#include <caf/fwd.hpp>
#include <nlohmann/json.hpp>

#include <string>

namespace troupe {

/// GET /api/view's answer, with `status` (the /api/status object, health included) inside:
/// {"status", "ring": [{"vnode", "owner", "epoch", "owner_state", "moving"}], "deployments",
/// "topics", "changes" (member state changes), "migrations", "trees", "problems": {section: sentence}}. A vnode is `moving` when
/// an instance of it runs on a worker other than its owner (a handoff under way) or its owner
/// is not up. A section that could not be asked is null, with the reason under "problems".
nlohmann::json view_json(caf::actor_system& sys, caf::scoped_actor& self, const caf::actor& node,
                         nlohmann::json status, duration timeout);

} // namespace troupe
