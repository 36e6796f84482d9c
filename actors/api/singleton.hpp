// Singletons from inside an actor: one instance in the whole cluster, on the main worker,
// started again on the next main worker when that one dies or leaves; never two at once (the
// main worker's lease fences it). The same as `troupe ctl deploy NAME TYPE --routing singleton`.
//
//   troupe::spawn_singleton(self, ctx, "scheduler", "my-type", {{"k", "v"}}, std::chrono::seconds(5))
//     .then([](bool ok, uint64_t, const std::string& reason) { ... },
//           [](const caf::error& err) { ... });
//
// Deploying the same singleton again is a no-op; another spec under the name is refused (ok
// false, with the reason). Events reach it with troupe::send/request (any key).
#pragma once

#include "actors/api/event.hpp"
#include "actors/api/messages.hpp"

#include <map>
#include <string>

namespace troupe {

/// The encoded cluster-state command that deploys singleton `name` (see spawn_singleton).
std::string singleton_deploy_command(const std::string& name, const std::string& type,
                                     std::map<std::string, std::string> config);

/// Asks the cluster to run `type` as singleton `name` with `config`. Returns the handle of
/// the answer: (bool ok, uint64_t, std::string reason).
template <class Self, class Duration>
auto spawn_singleton(Self* self, const context& ctx, const std::string& name,
                     const std::string& type, std::map<std::string, std::string> config,
                     Duration timeout) {
  return self->request(ctx.node(), timeout, state_cmd_atom::value,
                       singleton_deploy_command(name, type, std::move(config)));
}

} // namespace troupe
