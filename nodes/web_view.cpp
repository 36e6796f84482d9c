#include "nodes/web_view.hpp"

#include <caf/scoped_actor.hpp>

#include <map>
#include <set>

namespace troupe {

namespace {

using json = nlohmann::json;

/// The vnode map with each owner's state, and whether the vnode is moving.
json ring_of(const json& vnodes, const json& status, const json* deployments) {
  std::map<std::string, std::string> state_of;
  for (auto& m : status.at("members"))
    state_of[m.at("name").get<std::string>()] = m.at("state").get<std::string>();
  std::map<uint64_t, std::set<std::string>> hosts; // vnode -> workers running an instance of it
  if (deployments)
    for (auto& d : *deployments)
      if (d.at("routing") != "singleton")
        for (auto& i : d.at("instances"))
          hosts[i.at("vnode").get<uint64_t>()].insert(i.at("worker").get<std::string>());
  auto ring = json::array();
  for (auto& v : vnodes.at("vnodes")) {
    auto n = v.at("vnode").get<uint64_t>();
    auto owner = v.at("owner").get<std::string>();
    auto it = state_of.find(owner);
    auto owner_state = owner.empty() ? "none" : it == state_of.end() ? "unknown" : it->second;
    bool moving = !owner.empty() && owner_state != "up";
    for (auto& h : hosts[n])
      moving = moving || h != owner;
    ring.push_back({{"vnode", n},
                    {"owner", owner},
                    {"epoch", v.at("epoch")},
                    {"owner_state", owner_state},
                    {"moving", moving}});
  }
  return ring;
}

} // namespace

json view_json(caf::actor_system& sys, caf::scoped_actor& self, const caf::actor& node,
               json status, duration timeout) {
  json out{{"status", std::move(status)}, {"problems", json::object()}};
  auto section = [&](const char* name, query_result r, const char* field) {
    if (r)
      out[name] = field ? r.value.at(field) : r.value;
    else {
      out[name] = nullptr;
      out["problems"][name] = r.problem;
    }
  };
  section("deployments", deployments_query(sys, self, node, timeout), "deployments");
  auto vnodes = vnodes_query(sys, self, node, timeout);
  if (vnodes)
    out["ring"] = ring_of(vnodes.value, out["status"],
                          out["deployments"].is_null() ? nullptr : &out["deployments"]);
  else
    section("ring", std::move(vnodes), nullptr);
  section("topics", topics_query(sys, self, node, timeout), "topics");
  section("changes", member_changes_query(sys, self, node, timeout), "changes");
  section("migrations", migrations_query(sys, self, node, timeout), nullptr);
  section("queues", jobs_query(sys, self, node, timeout, "", ""), "queues");
  section("tasks", jobs_query(sys, self, node, timeout, "", "tasks"), "tasks");
  section("trees", trees_query(sys, self, node, timeout), nullptr);
  return out;
}

} // namespace troupe
