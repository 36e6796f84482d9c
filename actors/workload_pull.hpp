// A service that (re)starts missed the cluster views its node's membership actor pushed
// before: it asks for the last one (workload_pull_atom), and the membership actor (server or
// agent) answers with what it has. Both halves live here.
#pragma once

#include "actors/bus/bus_actor.hpp"
#include "actors/supervision/services.hpp"
#include "actors/vnodes/vnodes.hpp"
#include "actors/wire.hpp"

#include <caf/actor_cast.hpp>
#include <caf/typed_actor.hpp>

#include <memory>
#include <string>

namespace troupe {

/// Asks the node's membership actor for the current view (nothing happens without one).
template <class Self>
void pull_workload(Self* self, const std::shared_ptr<service_directory>& services) {
  if (services)
    if (auto m = services->get_as<caf::typed_actor<workload_pull_sig>>(service::membership))
      self->send(m, workload_pull_atom::value);
}

/// The membership actor's answer to the current sender: the last workload, and to the bus
/// the last bus head (which may be past the workload's).
template <class Self>
void answer_workload_pull(Self* self, const std::shared_ptr<service_directory>& services,
                          uint64_t version, const std::string& workload, uint64_t bus_head) {
  auto to = caf::actor_cast<caf::actor>(self->current_sender());
  if (!to)
    return;
  if (!workload.empty())
    self->send(caf::actor_cast<caf::typed_actor<workload_sig>>(to), workload_atom::value, version,
               workload);
  if (bus_head > 0 && services && to == services->get(service::bus))
    self->send(caf::actor_cast<bus_actor>(to), bus_head_atom::value, bus_head);
}

} // namespace troupe
