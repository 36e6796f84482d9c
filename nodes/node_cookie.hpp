// Which cookie a node without TLS uses (actors/link/cookie.hpp), decided once at start.
#pragma once

#include "nodes/node_config.hpp"

#include <optional>
#include <string>

namespace troupe {

struct node_cookie {
  std::string cookie;
  std::string file;      // absolute: local workers are given it through the environment
  bool created = false;  // this node made it
};

/// The node's cookie: --cluster-secret-file (or $TROUPE_CLUSTER_SECRET_FILE); else
/// <data-dir>/cookie; else the one under ./troupe-data/*/cookie; else, when `may_create` (a
/// lone coordinator, or the first of its group), a new one in <data-dir>/cookie. Several
/// different cookies found, none found by a node that may not make one, or an unreadable or
/// weak file: a config_error saying how to give one (`maker`: who makes one, for that line).
std::optional<config_error> find_node_cookie(const node_config& cfg, bool may_create,
                                             const std::string& maker,
                                             node_cookie& out);

} // namespace troupe
