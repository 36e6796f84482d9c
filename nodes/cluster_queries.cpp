#include "nodes/cluster_queries.hpp"

#include "actors/bus/bus_actor.hpp"
#include "actors/inspect/console_handler.hpp"
#include "actors/inspect/inspector.hpp"
#include "actors/migrations/migrator.hpp"
#include "actors/raft/raft_actor.hpp"
#include "actors/vnodes/vnodes.hpp"
#include "nodes/error_text.hpp"
#include "nodes/exit_codes.hpp"
#include "nodes/remote_node.hpp"
#include "protocols/cluster_state/commands.hpp"

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include <functional>
#include <iostream>
#include <map>

namespace troupe {

namespace {

namespace ms = membership;
using json = nlohmann::json;

query_result failed(caf::actor_system& sys, const caf::error& err) {
  return {nullptr, error_text(sys, err), exit_code_for(err)};
}

/// Calls `fn` with each member for which `wanted` holds and a connection to it; members that
/// cannot be reached go to `skip` with the reason.
void for_each_member(caf::actor_system& sys, caf::scoped_actor& self, const caf::actor& node,
                     duration timeout, const std::function<bool(const ms::member&)>& wanted,
                     const std::function<void(const ms::member&, const caf::actor&)>& fn,
                     const std::function<void(const ms::member&, const std::string&)>& skip) {
  auto r = request_status(sys, self, node, timeout);
  if (!r)
    return;
  for (auto& m : r->members.members) {
    if (!wanted(m))
      continue;
    auto ep = parse_endpoint(m.address);
    std::string problem = "its address '" + m.address + "' is not HOST:PORT";
    auto target = ep ? connect_node(sys, self, *ep, timeout, problem) : caf::actor{};
    if (target)
      fn(m, target);
    else
      skip(m, problem);
  }
}

json to_json(const state::deployment_spec& d) {
  return {{"name", d.name},
          {"type", d.type},
          {"routing", state::to_string(d.route)},
          {"delivery", state::to_string(d.guarantee)},
          {"durable", d.durable},
          {"config", d.config},
          {"created", d.created}};
}

/// Per deployment, vnode -> (worker, state) of its instances, as every reachable worker that
/// is up reports; `vnodes` gets the cluster's count.
using instance_map = std::map<std::string, std::map<uint32_t, std::pair<std::string, std::string>>>;

instance_map gather_instances(caf::actor_system& sys, caf::scoped_actor& self,
                              const caf::actor& node, duration timeout, uint32_t& vnodes) {
  instance_map out;
  vnodes = 0;
  auto is_worker = [&](const ms::member& m) {
    bool yes = m.roles.worker && m.state == ms::member_state::up;
    vnodes += yes ? m.vnodes : 0;
    return yes;
  };
  auto ask = [&](const ms::member& w, const caf::actor& target) {
    self->request(target, timeout, instances_atom::value)
      .receive(
        [&](const std::vector<std::string>& xs) {
          for (auto& x : xs) { // "<deployment>/<vnode>/<state>"
            auto a = x.find('/');
            auto b = x.rfind('/');
            if (a == std::string::npos || a == b)
              continue;
            auto vnode = static_cast<uint32_t>(std::stoul(x.substr(a + 1, b - a - 1)));
            out[x.substr(0, a)][vnode] = {w.name, x.substr(b + 1)};
          }
        },
        [](const caf::error&) {});
  };
  for_each_member(sys, self, node, timeout, is_worker, ask,
                  [](const ms::member&, const std::string&) {});
  return out;
}

} // namespace

int print_query(const query_result& r, bool as_json, const std::string& prefix,
                const std::function<void(const json&)>& print) {
  if (!r) {
    std::cerr << prefix << r.problem << "\n";
    return r.code;
  }
  if (as_json)
    std::cout << r.value.dump() << "\n";
  else
    print(r.value);
  return exit_code::ok;
}

query_result vnodes_query(caf::actor_system& sys, caf::scoped_actor& self, const caf::actor& node,
                          duration timeout) {
  query_result out;
  self->request(node, timeout, vnodes_atom::value)
    .receive(
      [&](const std::vector<std::string>& owners, const std::vector<uint64_t>& epochs,
          uint64_t version) {
        auto items = json::array();
        for (size_t v = 0; v < owners.size(); ++v)
          items.push_back({{"vnode", v},
                           {"owner", owners[v]},
                           {"epoch", v < epochs.size() ? epochs[v] : 0}});
        out.value = {{"version", version}, {"vnodes", std::move(items)}};
      },
      [&](const caf::error& err) { out = failed(sys, err); });
  return out;
}

query_result deployments_query(caf::actor_system& sys, caf::scoped_actor& self,
                               const caf::actor& node, duration timeout) {
  query_result out;
  std::vector<state::deployment_spec> specs;
  uint64_t version = 0;
  self->request(node, timeout, deployments_atom::value)
    .receive(
      [&](const std::vector<std::string>& encoded, uint64_t v) {
        version = v;
        for (auto& e : encoded) {
          state::deployment_spec d;
          if (state::decode_deployment(e, d))
            specs.push_back(std::move(d));
        }
      },
      [&](const caf::error& err) { out = failed(sys, err); });
  if (!out)
    return out;
  uint32_t vnodes = 0;
  auto inst = gather_instances(sys, self, node, timeout, vnodes);
  auto items = json::array();
  for (auto& d : specs) {
    auto j = to_json(d);
    auto per_vnode = json::array();
    if (auto it = inst.find(d.name); it != inst.end())
      for (auto& [v, ws] : it->second)
        per_vnode.push_back({{"vnode", v}, {"worker", ws.first}, {"state", ws.second}});
    j["running"] = per_vnode.size();
    j["vnodes"] = d.route == state::routing::singleton ? 1u : vnodes;
    j["instances"] = std::move(per_vnode);
    items.push_back(std::move(j));
  }
  out.value = {{"version", version}, {"deployments", std::move(items)}};
  return out;
}

query_result topics_query(caf::actor_system& sys, caf::scoped_actor& self, const caf::actor& node,
                          duration timeout) {
  query_result out;
  self->request(node, timeout, bus_topics_atom::value)
    .receive(
      [&](const std::vector<std::string>& topics, const std::vector<uint64_t>& kept,
          const std::vector<uint64_t>& last) {
        auto items = json::array();
        for (size_t i = 0; i < topics.size() && i < kept.size() && i < last.size(); ++i)
          items.push_back({{"topic", topics[i]}, {"kept", kept[i]}, {"last_index", last[i]}});
        out.value = {{"topics", std::move(items)}};
      },
      [&](const caf::error& err) { out = failed(sys, err); });
  return out;
}

/// The JSON text `msg` is answered with, under `key` (the whole answer when empty).
static query_result json_query(caf::actor_system& sys, caf::scoped_actor& self,
                               const caf::actor& node, duration timeout, caf::message msg,
                               const char* key) {
  query_result out;
  self->request(node, timeout, std::move(msg))
    .receive(
      [&](const std::string& text) {
        auto j = json::parse(text, nullptr, false);
        if (j.is_discarded())
          out = {nullptr, "the node answered something that is not JSON", exit_code::failure};
        else
          out.value = *key ? json{{key, std::move(j)}} : std::move(j);
      },
      [&](const caf::error& err) { out = failed(sys, err); });
  return out;
}

query_result member_changes_query(caf::actor_system& sys, caf::scoped_actor& self,
                                  const caf::actor& node, duration timeout) {
  return json_query(sys, self, node, timeout, caf::make_message(member_changes_atom::value),
                    "changes");
}

query_result migrations_query(caf::actor_system& sys, caf::scoped_actor& self,
                              const caf::actor& node, duration timeout) {
  return json_query(sys, self, node, timeout, caf::make_message(migrations_atom::value), "");
}

query_result trees_query(caf::actor_system& sys, caf::scoped_actor& self, const caf::actor& node,
                         duration timeout) {
  auto trees = json::array();
  auto skipped = json::array();
  auto live = [](const ms::member& m) {
    return m.state == ms::member_state::up || m.state == ms::member_state::suspect
           || m.state == ms::member_state::leaving || m.state == ms::member_state::joining;
  };
  auto ask = [&](const ms::member& m, const caf::actor& target) {
    self->request(target, timeout, tree_atom::value)
      .receive(
        [&](const std::string& text) {
          auto t = json::parse(text, nullptr, false);
          if (!t.is_discarded())
            trees.push_back(std::move(t));
        },
        [&](const caf::error& err) {
          skipped.push_back({{"node", m.name}, {"reason", error_text(sys, err)}});
        });
  };
  auto skip = [&](const ms::member& m, const std::string& why) {
    skipped.push_back({{"node", m.name}, {"reason", why}});
  };
  for_each_member(sys, self, node, timeout, live, ask, skip);
  return {{{"nodes", std::move(trees)}, {"skipped", std::move(skipped)}}, {}, 0};
}

query_result kill_actor(caf::actor_system& sys, caf::scoped_actor& self, const caf::actor& node,
                        duration timeout, const std::string& token, const std::string& id,
                        const std::string& reason) {
  auto slash = id.rfind('/');
  if (slash == std::string::npos || slash == 0)
    return {nullptr, "'" + id + "' is not an actor id (<node>/<n>)", exit_code::usage};
  auto member = id.substr(0, slash);
  std::string problem;
  auto st = request_status(sys, self, node, timeout, &problem);
  if (!st)
    return {nullptr, "cannot list the members: " + problem, exit_code::unavailable};
  for (auto& m : st->members.members) {
    if (m.name != member)
      continue;
    auto ep = parse_endpoint(m.address);
    auto target = ep ? connect_node(sys, self, *ep, timeout, problem) : caf::actor{};
    if (!target)
      return {nullptr, "cannot reach " + member + " at " + m.address + ": " + problem,
              exit_code::unavailable};
    query_result out;
    self->request(target, timeout, write_message(token, kill_atom::value, id, reason, false))
      .receive([&](const std::string& text) { out.value = json::parse(text, nullptr, false); },
               [&](const caf::error& err) {
                 out = {nullptr, error_text(sys, err), exit_code_for(err)};
               });
    return out;
  }
  return {nullptr, "no member named '" + member + "'", exit_code::failure};
}

query_result retry_migration(caf::actor_system& sys, caf::scoped_actor& self,
                             const caf::actor& node, duration timeout, const std::string& token,
                             const std::string& id) {
  state::command c;
  c.body = state::migration_cmd{state::migration_cmd::op::retry, id, 0, {}, {}, 0};
  query_result out;
  self->request(node, timeout, write_message(token, state_cmd_atom::value, state::encode(c)))
    .receive(
      [&](bool ok, uint64_t, const std::string& reason) {
        if (ok)
          out.value = {{"retry", id.empty() ? "all failed" : id}};
        else
          out = {nullptr, reason, exit_code::failure};
      },
      [&](const caf::error& err) { out = {nullptr, error_text(sys, err), exit_code_for(err)}; });
  return out;
}

query_result snapshots_query(caf::actor_system& sys, caf::scoped_actor& self,
                             const caf::actor& node, duration timeout,
                             const std::string& deployment) {
  query_result out;
  self->request(node, timeout, instances_view_atom::value, deployment)
    .receive(
      [&](const std::string& text) {
        out.value = json::parse(text, nullptr, false);
        if (out.value.is_discarded()) {
          out.value = nullptr;
          out.problem = "the instance records do not parse";
          out.code = exit_code::failure;
        }
      },
      [&](const caf::error& err) { out = failed(sys, err); });
  return out;
}

query_result jobs_query(caf::actor_system& sys, caf::scoped_actor& self, const caf::actor& node,
                        duration timeout, const std::string& queue, const std::string& what) {
  query_result out;
  self->request(node, timeout, jobs_view_atom::value, queue, what)
    .receive(
      [&](const std::string& text) {
        out.value = json::parse(text, nullptr, false);
        if (out.value.is_discarded()) {
          out.value = nullptr;
          out.problem = "the jobs view does not parse";
          out.code = exit_code::failure;
        }
      },
      [&](const caf::error& err) { out = failed(sys, err); });
  return out;
}

} // namespace troupe
