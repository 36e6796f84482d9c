#include "actors/api/event.hpp"

#include "actors/supervision/services.hpp"

namespace troupe {

caf::actor context::router() const {
  return services ? services->get(service::router) : caf::actor{};
}

caf::actor context::node() const {
  return services ? services->get(service::ingress) : caf::actor{};
}

caf::actor context::bus() const {
  return services ? services->get(service::bus) : caf::actor{};
}

bool context::may_serve() const {
  if (!services)
    return true;
  auto& lease = services->lease();
  return lease.valid(clock_type::now()) && (incarnation == 0 || lease.incarnation() == incarnation);
}

} // namespace troupe
