#include "nodes/status_client.hpp"

#include "actors/wall_clock.hpp"
#include "actors/wire.hpp"
#include "nodes/cluster_health.hpp"
#include "nodes/exit_codes.hpp"
#include "nodes/remote_node.hpp"
#include "nodes/status_render.hpp"
#include "protocols/membership/codec.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <nlohmann/json.hpp>

#include <iostream>

namespace troupe {

namespace ms = membership;

int run_status(const status_command& cmd) {
  client_config sc;
  troupe_system sys{sc};
  int code = exit_code::ok;
  {
    caf::scoped_actor self{sys};
    auto target_name = cmd.target.to_string();
    std::string problem;
    auto target = connect_node(sys, self, cmd.target, cmd.timeout, problem);
    std::optional<ms::status_reply> reply;
    if (target)
      reply = request_status(sys, self, target, cmd.timeout, &problem);
    if (!reply) {
      std::cerr << "troupe status: cannot get the status from " << target_name << ": "
                << problem << "\n";
      code = exit_code::unavailable;
    } else {
      auto health = gather_health(sys, self, target, *reply,
                                  std::min<duration>(cmd.timeout, std::chrono::seconds(1)));
      if (cmd.json) {
        auto j = status_json(*reply, wall_clock_ms());
        add_health(j, health);
        std::cout << j.dump(2) << "\n";
      } else {
        std::cout << status_table(*reply, wall_clock_ms(), &health);
      }
    }
  }
  return code;
}

} // namespace troupe
