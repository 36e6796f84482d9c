// The cluster status as JSON (for `troupe status --json` and GET /api/status) and as a table.
#pragma once

#include "nodes/cluster_health.hpp"
#include "protocols/membership/types.hpp"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>

namespace troupe {

/// Returns the status as one JSON object: cluster_id, view_version, answered_by, node (the
/// answering node's health) and members (name, address, roles, state, pid, incarnation, ...).
nlohmann::json status_json(const membership::status_reply& st, int64_t now_ms);

/// Returns the status as an aligned text table with a heading line; with `health`, the
/// cluster's health in the heading and each member's in a HEALTH column.
std::string status_table(const membership::status_reply& st, int64_t now_ms,
                         const cluster_health* health = nullptr);

/// Returns "3d4h", "2h05m", "1m02s" or "12s".
std::string format_uptime(int64_t ms);

} // namespace troupe
