#include "nodes/cluster_health.hpp"

#include "actors/inspect/inspector.hpp"
#include "actors/migrations/migrator.hpp"
#include "actors/raft/raft_actor.hpp"
#include "actors/wire.hpp"
#include "nodes/error_text.hpp"
#include "nodes/remote_node.hpp"
#include "protocols/membership/codec.hpp"

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <nlohmann/json.hpp>

#include <set>

namespace troupe {

namespace {

namespace ms = membership;

int rank(const std::string& level) {
  return level == "red" ? 2 : level == "yellow" ? 1 : 0;
}

void raise(std::string& level, const std::string& to) {
  if (rank(to) > rank(level))
    level = to;
}

void add(node_health_row& row, const std::string& level, const std::string& reason) {
  raise(row.level, level);
  row.reasons.push_back(reason);
}

bool answers(ms::member_state s) {
  return s == ms::member_state::up || s == ms::member_state::suspect
         || s == ms::member_state::joining || s == ms::member_state::leaving;
}

} // namespace

/// Shared work: a queue with dead letters, or whose oldest pending job waited longer than
/// pending_alarm, turns the cluster yellow (nothing is lost, but work is not getting done).
static void jobs_health(caf::scoped_actor& self, const caf::actor& answering, duration timeout,
                 cluster_health& out) {
  constexpr int64_t pending_alarm_ms = 60000;
  self->request(answering, timeout, jobs_view_atom::value, std::string{}, std::string{})
    .receive(
      [&](const std::string& text) {
        auto j = nlohmann::json::parse(text, nullptr, false);
        if (j.is_discarded())
          return;
        for (auto& q : j.value("queues", nlohmann::json::array())) {
          auto name = q.value("name", "");
          auto dead = q.value("dead", size_t{0});
          auto age = q.value("oldest_pending_age_ms", int64_t{0});
          if (dead > 0) {
            raise(out.level, "yellow");
            out.reasons.push_back("queue " + name + " has " + std::to_string(dead)
                                  + " dead letters (troupe ctl jobs dead " + name + ")");
          }
          if (age > pending_alarm_ms) {
            raise(out.level, "yellow");
            out.reasons.push_back("queue " + name + ": its oldest pending job has waited "
                                  + std::to_string(age / 1000) + " s");
          }
        }
      },
      [](const caf::error&) {}); // no quorum (said elsewhere), or an older node
}

cluster_health gather_health(caf::actor_system& sys, caf::scoped_actor& self,
                             const caf::actor& answering, const ms::status_reply& reply,
                             duration timeout) {
  cluster_health out;
  std::set<std::string> live_workers;
  for (auto& m : reply.members.members) {
    if (m.state == ms::member_state::left)
      continue; // left the cluster for good
    node_health_row row;
    row.name = m.name;
    if (m.roles.worker && answers(m.state) && m.state != ms::member_state::joining)
      live_workers.insert(m.name); // a suspect worker still owns its vnodes
    if (!answers(m.state) || m.state == ms::member_state::suspect) {
      // Not asked: a member that misses its heartbeats would only cost the timeout.
      add(row, "yellow", std::string{"member is "} + ms::to_string(m.state));
      out.nodes.push_back(std::move(row));
      continue;
    }
    caf::actor target = m.name == reply.answered_by ? answering : caf::actor{};
    std::string problem;
    if (!target) {
      auto ep = parse_endpoint(m.address);
      if (ep)
        target = connect_node(sys, self, *ep, timeout, problem);
      else
        problem = "no address";
    }
    if (!target) {
      add(row, "red", "does not answer: " + problem);
      out.nodes.push_back(std::move(row));
      continue;
    }
    // Its own view: quorum for a coordinator, its coordinator link for a worker.
    if (auto r = request_status(sys, self, target, timeout, &problem)) {
      for (auto& reason : r->node_health.reasons)
        add(row, r->node_health.level, reason);
    } else {
      add(row, "red", "does not answer: " + problem);
    }
    // Its actors and its log shipping.
    self->request(target, timeout, health_atom::value)
      .receive(
        [&](const std::string& text) {
          auto j = nlohmann::json::parse(text, nullptr, false);
          if (j.is_discarded())
            return;
          for (auto& reason : j.value("reasons", nlohmann::json::array()))
            add(row, j.value("level", "yellow"), reason.get<std::string>());
        },
        [](const caf::error&) {}); // an older node without an inspector
    out.nodes.push_back(std::move(row));
  }
  // Vnodes without a live owner: their events have nowhere to go.
  self->request(answering, timeout, vnodes_atom::value)
    .receive(
      [&](const std::vector<std::string>& owners, const std::vector<uint64_t>&, uint64_t) {
        size_t orphans = 0;
        for (auto& o : owners)
          if (o.empty() || live_workers.count(o) == 0)
            ++orphans;
        if (orphans > 0) {
          raise(out.level, "red");
          out.reasons.push_back(std::to_string(orphans) + " of " + std::to_string(owners.size())
                                + " vnodes have no live owner"
                                + (live_workers.empty() ? " (no workers)" : ""));
        }
      },
      [](const caf::error&) {}); // no quorum: the coordinators' own health says so
  // A failed migration: nothing starts until an operator retries it.
  self->request(answering, timeout, migrations_atom::value)
    .receive(
      [&](const std::string& text) {
        auto j = nlohmann::json::parse(text, nullptr, false);
        if (j.is_discarded())
          return;
        auto waiting = j.value("waiting_for", "");
        for (auto& m : j.value("migrations", nlohmann::json::array())) {
          if (m.value("id", "") == waiting && m.value("state", "") != "failed") {
            // Not a fault, but the cluster does not serve its deployments yet.
            raise(out.level, "yellow");
            out.reasons.push_back("deployments wait for migration " + waiting + " ("
                                  + m.value("state", "")
                                  + (m.value("node", "").empty() ? "" : " on " + m.value("node", ""))
                                  + ")");
          }
          if (m.value("state", "") == "failed") {
            raise(out.level, "red");
            out.reasons.push_back("migration failed: " + m.value("id", "") + ": "
                                  + m.value("error", "")
                                  + " (deployments wait; fix it, then `troupe ctl migrations "
                                    "retry`)");
          }
        }
      },
      [](const caf::error&) {}); // an older node without migrations
  jobs_health(self, answering, timeout, out);
  for (auto& n : out.nodes) {
    raise(out.level, n.level);
    for (auto& r : n.reasons)
      out.reasons.push_back(n.name + ": " + r);
  }
  return out;
}

void add_health(nlohmann::json& status, const cluster_health& h) {
  status["cluster_health"] = {{"level", h.level}, {"reasons", h.reasons}};
  for (auto& m : status.at("members"))
    for (auto& n : h.nodes)
      if (m.at("name") == n.name)
        m["health"] = {{"level", n.level}, {"reasons", n.reasons}};
}

std::string health_text(const std::string& level, const std::vector<std::string>& reasons) {
  std::string out = level;
  for (size_t i = 0; i < reasons.size(); ++i)
    out += (i == 0 ? ": " : "; ") + reasons[i];
  return out;
}

} // namespace troupe
