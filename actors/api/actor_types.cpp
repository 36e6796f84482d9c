#include "actors/api/actor_types.hpp"

#include "protocols/cluster_state/deployments.hpp"

namespace troupe {

bool actor_types::add_spawner(const std::string& name, spawner f) {
  state::deployment_spec probe;
  probe.name = "probe";
  probe.type = name;
  if (!state::check_spec(probe).empty() || !f)
    return false;
  return types_.emplace(name, std::move(f)).second;
}

bool actor_types::add_factory(const std::string& name, factory f) {
  if (!f)
    return false;
  return add_spawner(name, [f = std::move(f)](caf::actor_system& sys,
                                              std::shared_ptr<const context> ctx,
                                              std::shared_ptr<actor_stats> stats) {
    return f(sys, *ctx, std::move(stats));
  });
}

caf::actor actor_types::spawn(const std::string& name, caf::actor_system& sys,
                              const context& ctx, std::shared_ptr<actor_stats> stats) const {
  return spawn(name, sys, std::make_shared<const context>(ctx), std::move(stats));
}

caf::actor actor_types::spawn(const std::string& name, caf::actor_system& sys,
                              std::shared_ptr<const context> ctx,
                              std::shared_ptr<actor_stats> stats) const {
  auto it = types_.find(name);
  if (it == types_.end())
    return caf::actor{};
  if (!stats)
    stats = std::make_shared<actor_stats>();
  return it->second(sys, std::move(ctx), std::move(stats));
}

std::vector<std::string> actor_types::names() const {
  std::vector<std::string> out;
  for (auto& [name, f] : types_)
    out.push_back(name);
  return out;
}

} // namespace troupe
