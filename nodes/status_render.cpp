#include "nodes/status_render.hpp"

#include "nodes/text_table.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace troupe {

namespace ms = membership;

std::string format_uptime(int64_t ms) {
  if (ms < 0)
    ms = 0;
  auto s = ms / 1000;
  char buf[32];
  if (s >= 86400)
    std::snprintf(buf, sizeof(buf), "%lldd%lldh", static_cast<long long>(s / 86400),
                  static_cast<long long>(s % 86400 / 3600));
  else if (s >= 3600)
    std::snprintf(buf, sizeof(buf), "%lldh%02lldm", static_cast<long long>(s / 3600),
                  static_cast<long long>(s % 3600 / 60));
  else if (s >= 60)
    std::snprintf(buf, sizeof(buf), "%lldm%02llds", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  else
    std::snprintf(buf, sizeof(buf), "%llds", static_cast<long long>(s));
  return buf;
}

namespace {

/// The RAFT column: role, term and commit index when the answering node knows them.
std::string raft_cell(const ms::member& m) {
  if (!m.raft || m.raft->role.empty())
    return "-";
  if (m.raft->role == "unreachable")
    return "unreachable";
  return m.raft->role + " term " + std::to_string(m.raft->term) + " commit "
         + std::to_string(m.raft->commit_index);
}

} // namespace

nlohmann::json status_json(const ms::status_reply& st, int64_t now_ms) {
  using nlohmann::json;
  json members = json::array();
  for (auto& m : st.members.members) {
    nlohmann::json raft = nullptr;
    if (m.raft)
      raft = {{"role", m.raft->role},
              {"term", m.raft->term},
              {"commit_index", m.raft->commit_index},
              {"leader", m.raft->leader},
              {"id", m.raft->id}};
    members.push_back({
      {"raft", raft},
      {"name", m.name},
      {"address", m.address},
      {"roles", ms::role_names(m.roles)},
      {"state", ms::to_string(m.state)},
      {"pid", m.pid},
      {"incarnation", m.incarnation},
      {"vnodes", m.vnodes},
      {"instance_id", m.instance_id},
      {"http_port", m.http_port},
      {"started_at_ms", m.started_at_ms},
      {"uptime_ms", std::max<int64_t>(0, now_ms - m.started_at_ms)},
      {"state_since_ms", m.state_since_ms},
    });
  }
  return {
    {"cluster_id", st.members.cluster_id},
    {"view_version", st.members.version},
    {"answered_by", st.answered_by},
    {"main_worker", st.main_worker},
    {"node",
     {{"name", st.answered_by},
      {"health", {{"level", st.node_health.level}, {"reasons", st.node_health.reasons}}},
      {"bad_frames", st.bad_frames}}},
    {"members", members},
  };
}

std::string status_table(const ms::status_reply& st, int64_t now_ms,
                         const cluster_health* health) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back(
    {"NAME", "ADDRESS", "ROLES", "STATE", "PID", "UPTIME", "INCARNATION", "VNODES", "RAFT"});
  if (health)
    rows.front().push_back("HEALTH");
  for (auto& m : st.members.members) {
    std::string roles;
    for (auto& r : ms::role_names(m.roles))
      roles += (roles.empty() ? "" : ",") + r;
    bool gone = ms::is_gone(m.state);
    rows.push_back({m.name, m.address, roles, ms::to_string(m.state), std::to_string(m.pid),
                    gone ? "-" : format_uptime(now_ms - m.started_at_ms),
                    std::to_string(m.incarnation),
                    m.roles.worker ? std::to_string(m.vnodes) : std::string{"-"}, raft_cell(m)});
    if (health) {
      std::string cell = "-";
      for (auto& n : health->nodes)
        if (n.name == m.name)
          cell = health_text(n.level, n.reasons);
      rows.back().push_back(cell);
    }
  }
  std::ostringstream out;
  out << "cluster " << (st.members.cluster_id.empty() ? "(not joined)" : st.members.cluster_id)
      << " - view " << st.members.version;
  if (!st.main_worker.empty())
    out << " - main worker " << st.main_worker;
  if (health) {
    out << " - health " << health->level << " - answered by " << st.answered_by << "\n";
    // The cluster's own reasons (the nodes' are in their HEALTH cells).
    for (auto& r : health->reasons) {
      bool of_node = false;
      for (auto& n : health->nodes)
        of_node = of_node || r.rfind(n.name + ": ", 0) == 0;
      if (!of_node)
        out << "  " << r << "\n";
    }
  } else {
    out << " - answered by " << st.answered_by << " (" << st.node_health.level;
    for (auto& r : st.node_health.reasons)
      out << ": " << r;
    out << ")\n";
  }
  out << format_table(rows);
  return out.str();
}

} // namespace troupe
