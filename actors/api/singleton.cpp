#include "actors/api/singleton.hpp"

#include "protocols/cluster_state/commands.hpp"

namespace troupe {

std::string singleton_deploy_command(const std::string& name, const std::string& type,
                                     std::map<std::string, std::string> config) {
  state::deployment_spec d;
  d.name = name;
  d.type = type;
  d.route = state::routing::singleton;
  d.config = std::move(config);
  state::command c;
  c.body = state::deploy_cmd{std::move(d)};
  return state::encode(c);
}

} // namespace troupe
