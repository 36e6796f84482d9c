#include "nodes/ctl_client.hpp"

#include "actors/raft/raft_actor.hpp"
#include "nodes/exit_codes.hpp"
#include "nodes/remote_node.hpp"
#include "protocols/cluster_state/commands.hpp"

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <nlohmann/json.hpp>

#include <iostream>

namespace troupe {

namespace {

const char* op_name(ctl_command::op_t op) {
  switch (op) {
    case ctl_command::deploy:
      return "deploy";
    case ctl_command::undeploy:
      return "undeploy";
    case ctl_command::deployments:
      return "deployments";
  }
  return "?";
}

nlohmann::json to_json(const state::deployment_spec& d) {
  return {{"name", d.name},
          {"type", d.type},
          {"routing", state::to_string(d.route)},
          {"delivery", state::to_string(d.guarantee)},
          {"config", d.config},
          {"created", d.created}};
}

void print_table(const std::vector<state::deployment_spec>& specs) {
  std::vector<std::vector<std::string>> rows{{"NAME", "TYPE", "ROUTING", "DELIVERY", "CONFIG"}};
  for (auto& d : specs) {
    std::string config;
    for (auto& [k, v] : d.config)
      config += (config.empty() ? "" : ",") + k + "=" + v;
    rows.push_back({d.name, d.type, state::to_string(d.route), state::to_string(d.guarantee),
                    config.empty() ? "-" : config});
  }
  std::vector<size_t> width(rows[0].size(), 0);
  for (auto& r : rows)
    for (size_t i = 0; i < r.size(); ++i)
      width[i] = std::max(width[i], r[i].size());
  for (auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i)
      line += r[i] + (i + 1 < r.size() ? std::string(width[i] - r[i].size() + 2, ' ') : "");
    std::cout << line << "\n";
  }
}

} // namespace

int run_ctl(const ctl_command& cmd) {
  client_config sc;
  caf::actor_system sys{sc};
  auto prefix = std::string{"troupe ctl "} + op_name(cmd.op) + ": ";
  caf::scoped_actor self{sys};
  std::string problem;
  size_t next = 0;
  auto node = connect_any(sys, self, cmd.targets, cmd.timeout, &next, problem);
  if (!node) {
    std::cerr << prefix << "cannot reach the cluster: " << problem << "\n";
    return exit_code::unavailable;
  }
  int code = exit_code::ok;
  auto on_error = [&](const caf::error& err) {
    std::cerr << prefix << sys.render(err) << "\n";
    code = exit_code::unavailable;
  };
  if (cmd.op == ctl_command::deployments) {
    self->request(node, cmd.timeout, deployments_atom::value)
      .receive(
        [&](const std::vector<std::string>& encoded, uint64_t version) {
          std::vector<state::deployment_spec> specs;
          for (auto& e : encoded) {
            state::deployment_spec d;
            if (state::decode_deployment(e, d))
              specs.push_back(std::move(d));
          }
          if (cmd.json) {
            auto items = nlohmann::json::array();
            for (auto& d : specs)
              items.push_back(to_json(d));
            std::cout << nlohmann::json{{"version", version}, {"deployments", items}}.dump()
                      << "\n";
          } else {
            print_table(specs);
          }
        },
        on_error);
    return code;
  }
  state::command c;
  if (cmd.op == ctl_command::deploy) {
    state::deployment_spec d;
    d.name = cmd.name;
    d.type = cmd.type;
    d.route = *state::routing_from_string(cmd.routing);
    d.guarantee = *state::delivery_from_string(cmd.delivery);
    for (auto& kv : cmd.config) {
      auto eq = kv.find('=');
      d.config[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    if (auto why = state::check_spec(d); !why.empty()) {
      std::cerr << prefix << why << "\n";
      return exit_code::usage;
    }
    c.body = state::deploy_cmd{std::move(d)};
  } else {
    c.body = state::undeploy_cmd{cmd.name};
  }
  self->request(node, cmd.timeout, state_cmd_atom::value, state::encode(c))
    .receive(
      [&](bool ok, uint64_t, const std::string& reason) {
        if (cmd.json)
          std::cout << nlohmann::json{{"ok", ok}, {"name", cmd.name}, {"reason", reason}}.dump()
                    << "\n";
        else if (ok)
          std::cout << "OK " << (cmd.op == ctl_command::deploy ? "deployed " : "undeployed ")
                    << cmd.name << "\n";
        if (!ok) {
          std::cerr << prefix << reason << "\n";
          code = exit_code::failure;
        }
      },
      on_error);
  return code;
}

} // namespace troupe
