#include "nodes/kv_client.hpp"

#include "actors/raft/raft_actor.hpp"
#include "actors/wire.hpp"
#include "nodes/exit_codes.hpp"
#include "nodes/remote_node.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <nlohmann/json.hpp>

#include <iostream>
#include <random>

namespace troupe {

namespace {

const char* op_name(kv_command::op_t op) {
  switch (op) {
    case kv_command::put:
      return "put";
    case kv_command::get:
      return "get";
    case kv_command::del:
      return "del";
    case kv_command::list:
      return "list";
  }
  return "?";
}

} // namespace

int run_kv(const kv_command& cmd) {
  caf::actor_system_config sc;
  register_types(sc);
  register_raft_types(sc);
  sc.load<caf::io::middleman>();
  sc.set("scheduler.max-threads", 2);
  caf::actor_system sys{sc};
  auto prefix = std::string{"troupe kv "} + op_name(cmd.op) + ": ";
  int code = exit_code::ok;
  {
    caf::scoped_actor self{sys};
    std::string problem;
    auto node = connect_node(sys, self, cmd.target, cmd.timeout, problem);
    if (!node) {
      std::cerr << prefix << "cannot reach " << cmd.target.to_string() << ": " << problem << "\n";
      return exit_code::unavailable;
    }
    auto on_error = [&](const caf::error& err) {
      std::cerr << prefix << sys.render(err) << "\n";
      code = exit_code::unavailable;
    };
    // A random client id per invocation: the cluster de-duplicates retries of this write.
    std::random_device rd;
    uint64_t client = (static_cast<uint64_t>(rd()) << 32) | rd();
    int64_t expected = cmd.expected.value_or(-1);
    auto written = [&](bool ok, uint64_t revision) {
      if (cmd.json)
        std::cout << nlohmann::json{{"ok", ok}, {"revision", revision}}.dump() << "\n";
      else if (ok)
        std::cout << "OK revision " << revision << "\n";
      if (!ok) {
        std::cerr << prefix
                  << (cmd.op == kv_command::del && !cmd.expected
                        ? "'" + cmd.key + "' does not exist"
                        : "compare failed: '" + cmd.key + "' is not at revision "
                            + std::to_string(expected))
                  << "\n";
        code = exit_code::failure;
      }
    };
    switch (cmd.op) {
      case kv_command::put:
        self->request(node, cmd.timeout, kv_put_atom::value, cmd.key, cmd.value, expected, client,
                      uint64_t{1})
          .receive(written, on_error);
        break;
      case kv_command::del:
        self->request(node, cmd.timeout, kv_del_atom::value, cmd.key, expected, client, uint64_t{1})
          .receive(written, on_error);
        break;
      case kv_command::get:
        self->request(node, cmd.timeout, kv_get_atom::value, cmd.key)
          .receive(
            [&](bool found, const std::string& value, uint64_t mod, uint64_t revision) {
              if (cmd.json)
                std::cout << nlohmann::json{{"key", cmd.key},      {"found", found},
                                            {"value", value},      {"mod_revision", mod},
                                            {"revision", revision}}
                               .dump()
                          << "\n";
              else if (found)
                std::cout << value << "\n";
              if (!found) {
                std::cerr << prefix << "'" << cmd.key << "' not found\n";
                code = exit_code::failure;
              }
            },
            on_error);
        break;
      case kv_command::list:
        self->request(node, cmd.timeout, kv_list_atom::value, cmd.key, cmd.limit)
          .receive(
            [&](const std::vector<std::string>& keys, const std::vector<std::string>& values,
                uint64_t revision) {
              if (cmd.json) {
                auto items = nlohmann::json::array();
                for (size_t i = 0; i < keys.size(); ++i)
                  items.push_back({{"key", keys[i]}, {"value", values[i]}});
                std::cout << nlohmann::json{{"revision", revision}, {"items", items}}.dump()
                          << "\n";
              } else {
                for (size_t i = 0; i < keys.size(); ++i)
                  std::cout << keys[i] << "\t" << values[i] << "\n";
              }
            },
            on_error);
        break;
    }
  }
  return code;
}

} // namespace troupe
