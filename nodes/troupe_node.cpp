#include "nodes/troupe_node.hpp"

#include "nodes/cli.hpp"
#include "nodes/console.hpp"
#include "nodes/ctl_client.hpp"
#include "nodes/exit_codes.hpp"
#include "nodes/kv_client.hpp"
#include "nodes/node_runner.hpp"
#include "nodes/status_client.hpp"

#include <exception>
#include <iostream>

namespace troupe {

node::node(int argc, char** argv)
  : args_(argv, argv + argc),
    types_(std::make_shared<actor_types>()),
    migrations_(std::make_shared<migration_list>()) {
}

int node::run() {
  try {
    auto cmd = parse_command_line(args_, std::cout, std::cerr);
    if (auto* r = std::get_if<run_command>(&cmd))
      return run_node(r->cfg, types_, migrations_);
    if (auto* s = std::get_if<status_command>(&cmd))
      return run_status(*s);
    if (auto* k = std::get_if<kv_command>(&cmd))
      return run_kv(*k);
    if (auto* c = std::get_if<ctl_command>(&cmd))
      return run_ctl(*c);
    if (auto* c = std::get_if<console_command>(&cmd))
      return run_console(*c);
    return std::get<exit_now>(cmd).code;
  } catch (const std::exception& e) {
    std::cerr << "troupe: fatal: " << e.what() << "\n";
    return exit_code::failure;
  }
}

} // namespace troupe
