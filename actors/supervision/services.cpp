#include "actors/supervision/services.hpp"

namespace troupe {

const char* to_string(service s) {
  switch (s) {
    case service::ingress:
      return "ingress";
    case service::router:
      return "router";
    case service::bus:
      return "bus";
    case service::migrator:
      return "migrator";
    case service::inspector:
      return "inspector";
    case service::log_roller:
      return "log-roller";
    case service::raft:
      return "raft";
    case service::membership:
      return "membership";
    case service::vnodes:
      return "vnodes";
    case service::user_supervisor:
      return "user-supervisor";
    case service::jobs:
      return "job-runner";
  }
  return "?";
}

std::optional<service> service_from_string(const std::string& name) {
  for (size_t k = 0; k < service_count; ++k) {
    auto s = static_cast<service>(k);
    if (name == to_string(s))
      return s;
  }
  return std::nullopt;
}

} // namespace troupe
