#include "actors/link/process_links.hpp"
#include "nodes/bus_client.hpp"

#include "actors/bus/bus_actor.hpp"
#include "actors/inspect/console_handler.hpp"
#include "actors/migrations/migrator.hpp"
#include "actors/raft/raft_actor.hpp"
#include "nodes/cluster_queries.hpp"
#include "nodes/error_text.hpp"
#include "nodes/exit_codes.hpp"
#include "nodes/interrupts.hpp"
#include "nodes/inspect_client.hpp"
#include "nodes/text_table.hpp"
#include "protocols/cluster_state/commands.hpp"

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <nlohmann/json.hpp>

#include <csignal>
#include <optional>
#include <iostream>

namespace troupe {

namespace {

using json = nlohmann::json;

int fail(caf::actor_system& sys, const caf::error& err, const std::string& prefix) {
  std::cerr << prefix << error_text(sys, err) << "\n";
  return exit_code_for(err);
}

int publish(caf::actor_system& sys, caf::scoped_actor& self, const caf::actor& node,
            const ctl_command& cmd, const std::string& prefix) {
  int code = exit_code::ok;
  self
    ->request(node, cmd.timeout,
              write_message(cmd.token, bus_publish_atom::value, cmd.bus_namespace, cmd.key,
                            cmd.payload, cmd.persist, cmd.send_to_self))
    .receive(
      [&](uint64_t index) {
        if (cmd.json)
          std::cout << json{{"persisted", cmd.persist}, {"index", index}}.dump() << "\n";
        else if (cmd.persist)
          std::cout << "OK persisted at index " << index << "\n";
        else
          std::cout << "OK published\n";
      },
      [&](const caf::error& err) { code = fail(sys, err, prefix); });
  return code;
}

int subscribe(caf::actor_system& sys, caf::scoped_actor& self, const caf::actor& node,
              const ctl_command& cmd, const std::string& prefix) {
  int code = exit_code::ok;
  bool subscribed = false;
  // No actor handle crosses the wire: the node delivers to the connection it heard the
  // subscription on, and what comes back over it is handed to this actor.
  link_context_of(sys)->set_door(caf::actor_cast<caf::actor>(self));
  self
    ->request(node, cmd.timeout, bus_subscribe_atom::value, cmd.bus_namespace, cmd.key)
    .receive([&](uint64_t) { subscribed = true; },
             [&](const caf::error& err) { code = fail(sys, err, prefix); });
  if (!subscribed)
    return code;
  std::cerr << "subscribed to " << cmd.bus_namespace << "/" << cmd.key << "\n";
  self->monitor(node);
  std::optional<interrupt_scope> interrupts{std::in_place};
  auto interrupted = [] { return interrupt_scope::interrupted(); };
  uint64_t got = 0;
  auto deadline = std::chrono::steady_clock::now() + cmd.wait;
  bool lost = false;
  while (!interrupted() && !lost && (cmd.messages == 0 || got < cmd.messages)
         && (cmd.wait.count() == 0 || std::chrono::steady_clock::now() < deadline)) {
    self->receive(
      [&](bus_message_atom, const std::string& ns, const std::string& topic,
          const std::string& payload, uint64_t index, const std::string& origin) {
        ++got;
        if (cmd.json)
          std::cout << json{{"namespace", ns},     {"topic", topic},   {"payload", payload},
                            {"index", index},      {"origin", origin}}
                         .dump()
                    << "\n";
        else
          std::cout << ns << "/" << topic << (index > 0 ? " #" + std::to_string(index) : "")
                    << " from " << origin << ": " << payload << "\n";
        std::cout.flush();
      },
      [&](caf::down_msg&) { lost = true; },
      caf::after(std::chrono::milliseconds(100)) >> [] {});
  }
  bool stopped = interrupted();
  interrupts.reset();
  link_context_of(sys)->set_door(nullptr);
  if (lost) {
    std::cerr << prefix << "lost the connection to the node\n";
    return exit_code::unavailable;
  }
  if (cmd.messages > 0 && got < cmd.messages && !stopped) {
    std::cerr << prefix << "received " << got << " of " << cmd.messages << " broadcasts within "
              << std::chrono::duration_cast<std::chrono::milliseconds>(cmd.wait).count()
              << " ms\n";
    return exit_code::failure;
  }
  return exit_code::ok;
}

/// `ctl migrations` as a table.
void print_migrations(const json& j) {
  auto waiting = j.at("waiting_for").get<std::string>();
  auto main = j.at("main_worker").get<std::string>();
  std::cout << "main worker " << (main.empty() ? "none" : main) << "; "
            << (waiting.empty() ? std::string{"every migration is done"}
                                : "deployments wait for " + waiting)
            << "\n";
  std::vector<std::vector<std::string>> rows{
    {"ID", "STATE", "NODE", "EPOCH", "ATTEMPTS", "CHECKPOINT", "ERROR"}};
  for (auto& m : j.at("migrations")) {
    auto id = m.at("id").get<std::string>();
    if (!m.at("registered").get<bool>())
      id += " (not registered here)";
    rows.push_back({id, m.at("state").get<std::string>(), m.at("node").get<std::string>(),
                    std::to_string(m.at("epoch").get<uint64_t>()),
                    std::to_string(m.at("attempts").get<uint64_t>()),
                    m.at("checkpoint").get<std::string>(), m.at("error").get<std::string>()});
  }
  if (rows.size() == 1)
    std::cout << "no migrations registered\n";
  else
    std::cout << format_table(rows);
}

int migrations(caf::actor_system& sys, caf::scoped_actor& self, const caf::actor& node,
               const ctl_command& cmd, const std::string& prefix) {
  if (cmd.type == "retry") {
    return print_query(retry_migration(sys, self, node, cmd.timeout, cmd.token, cmd.name),
                       cmd.json, prefix, [&](const json&) {
                         std::cout << "OK "
                                   << (cmd.name.empty() ? "the failed migrations run"
                                                        : "migration " + cmd.name + " runs")
                                   << " again on the main worker\n";
                       });
  }
  return print_query(migrations_query(sys, self, node, cmd.timeout), cmd.json, prefix,
                     print_migrations);
}

} // namespace

int run_bus_command(caf::actor_system& sys, caf::scoped_actor& self, const caf::actor& node,
                    const ctl_command& cmd, const std::string& prefix) {
  switch (cmd.op) {
    case ctl_command::publish:
      return publish(sys, self, node, cmd, prefix);
    case ctl_command::subscribe:
      return subscribe(sys, self, node, cmd, prefix);
    default:
      return migrations(sys, self, node, cmd, prefix);
  }
}

} // namespace troupe
