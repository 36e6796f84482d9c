#include "nodes/ctl_client.hpp"

#include "nodes/bus_client.hpp"
#include "nodes/jobs_client.hpp"
#include "nodes/cluster_queries.hpp"
#include "actors/raft/raft_actor.hpp"
#include "actors/router.hpp"
#include "actors/vnodes/vnodes.hpp"
#include "actors/wire.hpp"
#include "protocols/membership/codec.hpp"
#include "nodes/error_text.hpp"
#include "nodes/exit_codes.hpp"
#include "nodes/kv_client.hpp"
#include "nodes/inspect_client.hpp"
#include "actors/inspect/console_handler.hpp"
#include "nodes/status_render.hpp"
#include "nodes/text_table.hpp"
#include "actors/wall_clock.hpp"
#include "nodes/remote_node.hpp"
#include "protocols/cluster_state/commands.hpp"

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <nlohmann/json.hpp>

#include <iostream>
#include <optional>
#include <sstream>
#include <map>

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
    case ctl_command::send:
      return "send";
    case ctl_command::request:
      return "request";
    case ctl_command::members:
      return "members";
    case ctl_command::status:
      return "status";
    case ctl_command::vnodes:
      return "vnodes";
    case ctl_command::kv:
      return "kv";
    case ctl_command::actors:
      return "actors";
    case ctl_command::inspect:
      return "inspect";
    case ctl_command::tree:
      return "tree";
    case ctl_command::spawn:
      return "spawn";
    case ctl_command::tell:
      return "tell";
    case ctl_command::ask:
      return "ask";
    case ctl_command::kill:
      return "kill";
    case ctl_command::logs:
      return "logs";
    case ctl_command::help:
      return "help";
    case ctl_command::publish:
      return "publish";
    case ctl_command::subscribe:
      return "subscribe";
    case ctl_command::migrations:
      return "migrations";
    case ctl_command::queue_change:
      return "queue";
    case ctl_command::queues:
      return "queues";
    case ctl_command::snapshots:
      return "snapshots";
    case ctl_command::jobs:
      return "jobs";
    case ctl_command::tasks:
      return "tasks";
    case ctl_command::set:
      return "set";
  }
  return "?";
}

/// The deployments as a table: one row each, with how many of its instances run.
void print_table(const nlohmann::json& deployments) {
  std::vector<std::vector<std::string>> rows{
    {"NAME", "TYPE", "ROUTING", "DELIVERY", "RUNNING", "CONFIG"}};
  for (auto& d : deployments) {
    std::string config;
    for (auto& [k, v] : d.at("config").items())
      config += (config.empty() ? "" : ",") + k + "=" + v.get<std::string>();
    rows.push_back({d.at("name"), d.at("type"), d.at("routing"),
                    d.at("delivery").get<std::string>()
                      + (d.value("durable", false) ? ", durable" : ""),
                    std::to_string(d.at("running").get<size_t>()) + "/"
                      + std::to_string(d.at("vnodes").get<uint32_t>()),
                    config.empty() ? "-" : config});
  }
  std::cout << format_table(rows);
}

/// The instance records as a table.
void print_snapshots(const nlohmann::json& records) {
  std::vector<std::vector<std::string>> rows{
    {"DEPLOYMENT", "VNODE", "EPOCH", "SNAPSHOT BYTES", "COVERS", "LOGGED EVENTS", "LOGGED BYTES"}};
  for (auto& r : records)
    rows.push_back({r.at("deployment").get<std::string>(), std::to_string(r.at("vnode").get<uint32_t>()),
                    std::to_string(r.at("epoch").get<uint64_t>()),
                    std::to_string(r.at("snapshot_bytes").get<uint64_t>()),
                    std::to_string(r.at("snapshot_pos").get<uint64_t>()),
                    std::to_string(r.at("logged_events").get<uint64_t>()),
                    std::to_string(r.at("logged_bytes").get<uint64_t>())});
  std::cout << format_table(rows);
}

/// `ctl send NAME --stdin`: one event per line, sent in batches (one batch in flight, so the
/// events of a key keep their order). Exits once every event was accepted.
int send_stdin(caf::actor_system& sys, caf::scoped_actor& self, const caf::actor& node,
               const ctl_command& cmd, const std::string& prefix) {
  constexpr size_t batch_size = 1000;
  std::vector<std::string> keys;
  std::vector<std::string> payloads;
  uint64_t sent = 0;
  uint64_t line_no = 0;
  auto flush = [&]() -> int {
    if (keys.empty())
      return exit_code::ok;
    auto want = keys.size();
    int code = exit_code::ok;
    self->request(node, cmd.timeout,
                  write_message(cmd.token, route_batch_atom::value, cmd.name, keys, payloads))
      .receive(
        [&](uint64_t accepted) {
          sent += accepted;
          if (accepted < want) {
            std::cerr << prefix << (want - accepted) << " of " << want
                      << " events were not accepted (their vnodes moved); " << sent
                      << " accepted so far\n";
            code = exit_code::failure;
          }
        },
        [&](const caf::error& err) {
          std::cerr << prefix << error_text(sys, err) << " (" << sent << " accepted before)\n";
          code = exit_code_for(err);
        });
    keys.clear();
    payloads.clear();
    return code;
  };
  for (std::string line; std::getline(std::cin, line);) {
    ++line_no;
    if (line.empty())
      continue;
    auto tab = line.find('\t');
    if (tab == std::string::npos) {
      std::cerr << prefix << "line " << line_no << " is not KEY<tab>PAYLOAD\n";
      return exit_code::usage;
    }
    keys.push_back(line.substr(0, tab));
    payloads.push_back(line.substr(tab + 1));
    if (keys.size() == batch_size)
      if (auto code = flush(); code != exit_code::ok)
        return code;
  }
  if (auto code = flush(); code != exit_code::ok)
    return code;
  if (cmd.json)
    std::cout << nlohmann::json{{"ok", true}, {"sent", sent}}.dump() << "\n";
  else
    std::cout << "OK sent " << sent << " events\n";
  return exit_code::ok;
}

} // namespace

/// members and status: the status reply of the node, as a table or JSON.
int show_status(caf::actor_system& sys, caf::scoped_actor& self, const caf::actor& node,
                const ctl_command& cmd, const std::string& prefix) {
  namespace ms = troupe::membership;
  std::string problem;
  auto reply = request_status(sys, self, node, cmd.timeout, &problem);
  if (!reply) {
    std::cerr << prefix << problem << "\n";
    return exit_code::unavailable;
  }
  auto now = wall_clock_ms();
  if (cmd.op == ctl_command::status) {
    auto health = gather_health(sys, self, node, *reply,
                                std::min<duration>(cmd.timeout, std::chrono::seconds(1)));
    if (cmd.json) {
      auto j = status_json(*reply, now);
      add_health(j, health);
      std::cout << j.dump() << "\n";
    } else {
      std::cout << status_table(*reply, now, &health);
    }
    return exit_code::ok;
  }
  if (cmd.json) {
    std::cout << nlohmann::json{{"members", status_json(*reply, now).at("members")}}.dump()
              << "\n";
    return exit_code::ok;
  }
  std::vector<std::vector<std::string>> rows{
    {"NAME", "ROLES", "STATE", "VNODES", "ADDRESS", "INCARNATION"}};
  for (auto& m : reply->members.members) {
    std::string roles;
    for (auto& r : ms::role_names(m.roles))
      roles += (roles.empty() ? "" : ",") + r;
    rows.push_back({m.name, roles, ms::to_string(m.state),
                    m.roles.worker ? std::to_string(m.vnodes) : "-", m.address,
                    std::to_string(m.incarnation)});
  }
  std::cout << format_table(rows);
  return exit_code::ok;
}

int show_vnodes(caf::actor_system& sys, caf::scoped_actor& self, const caf::actor& node,
                const ctl_command& cmd, const std::string& prefix) {
  auto r = vnodes_query(sys, self, node, cmd.timeout);
  if (!r) {
    std::cerr << prefix << r.problem << "\n";
    return exit_code::unavailable;
  }
  if (cmd.json) {
    std::cout << r.value.dump() << "\n";
    return exit_code::ok;
  }
  std::vector<std::vector<std::string>> rows{{"VNODE", "OWNER", "SINCE"}};
  for (auto& v : r.value.at("vnodes")) {
    auto owner = v.at("owner").get<std::string>();
    rows.push_back({std::to_string(v.at("vnode").get<size_t>()), owner.empty() ? "-" : owner,
                    std::to_string(v.at("epoch").get<uint64_t>())});
  }
  std::cout << format_table(rows);
  return exit_code::ok;
}

int run_ctl(const ctl_command& cmd) {
  if (cmd.op == ctl_command::kv) {
    std::ostringstream out, err;
    auto parsed = parse_command_line(cmd.kv_args, std::cout, std::cerr);
    if (auto* k = std::get_if<kv_command>(&parsed))
      return run_kv(*k);
    return std::get<exit_now>(parsed).code;
  }
  client_config sc;
  troupe_system sys{sc};
  return run_ctl(cmd, sys);
}

int run_ctl(const ctl_command& cmd, caf::actor_system& sys) {
  if (cmd.op == ctl_command::kv)
    return run_ctl(cmd);
  auto prefix = std::string{"troupe ctl "} + op_name(cmd.op) + ": ";
  caf::scoped_actor self{sys};
  std::string problem;
  size_t next = 0;
  auto node = connect_any(sys, self, cmd.targets, cmd.timeout, &next, problem);
  if (!node) {
    std::cerr << prefix << "cannot reach the cluster: " << problem << "\n";
    return exit_code::unavailable;
  }
  if (cmd.op == ctl_command::members || cmd.op == ctl_command::status)
    return show_status(sys, self, node, cmd, prefix);
  if (cmd.op == ctl_command::vnodes)
    return show_vnodes(sys, self, node, cmd, prefix);
  switch (cmd.op) {
    case ctl_command::actors:
    case ctl_command::inspect:
    case ctl_command::tree:
    case ctl_command::spawn:
    case ctl_command::tell:
    case ctl_command::ask:
    case ctl_command::kill:
    case ctl_command::logs:
      return run_inspect(sys, self, node, cmd, prefix);
    case ctl_command::publish:
    case ctl_command::subscribe:
    case ctl_command::migrations:
      return run_bus_command(sys, self, node, cmd, prefix);
    case ctl_command::queue_change:
    case ctl_command::queues:
    case ctl_command::jobs:
    case ctl_command::tasks:
    case ctl_command::set:
      return run_jobs_command(sys, self, node, cmd, prefix);
    default:
      break;
  }
  int code = exit_code::ok;
  auto on_error = [&](const caf::error& err) {
    std::cerr << prefix << error_text(sys, err) << "\n";
    code = exit_code_for(err);
  };
  if (cmd.op == ctl_command::snapshots)
    return print_query(snapshots_query(sys, self, node, cmd.timeout, cmd.name), cmd.json, prefix,
                       print_snapshots);
  if (cmd.op == ctl_command::deployments) {
    return print_query(deployments_query(sys, self, node, cmd.timeout), cmd.json, prefix,
                       [](const nlohmann::json& j) { print_table(j.at("deployments")); });
  }
  if (cmd.op == ctl_command::send && cmd.from_stdin)
    return send_stdin(sys, self, node, cmd, prefix);
  if (cmd.op == ctl_command::send || cmd.op == ctl_command::request) {
    self->request(node, cmd.timeout,
                  write_message(cmd.token, route_atom::value, cmd.name, cmd.key, cmd.payload))
      .receive(
        [&](const std::string& reply) {
          if (cmd.json)
            std::cout << nlohmann::json{{"ok", true}, {"reply", reply}}.dump() << "\n";
          else if (cmd.op == ctl_command::request)
            std::cout << reply << "\n";
          else
            std::cout << "OK\n";
        },
        [&](const caf::error& err) {
          std::cerr << prefix << error_text(sys, err) << "\n";
          code = exit_code_for(err);
        });
    return code;
  }
  state::command c;
  if (cmd.op == ctl_command::deploy) {
    state::deployment_spec d;
    d.name = cmd.name;
    d.type = cmd.type;
    d.route = *state::routing_from_string(cmd.routing);
    d.guarantee = *state::delivery_from_string(cmd.delivery);
    d.durable = cmd.durable;
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
  self->request(node, cmd.timeout, write_message(cmd.token, state_cmd_atom::value, state::encode(c)))
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
