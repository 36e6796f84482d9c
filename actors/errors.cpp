#include "actors/errors.hpp"

#include "actors/api/errors.hpp"
#include "actors/inspect/console_errc.hpp"
#include "actors/link/link_errc.hpp"
#include "actors/raft/raft_errc.hpp"
#include "actors/supervision/exit_errc.hpp"
#include "actors/supervision/service_errc.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/message.hpp>

namespace troupe {

const char* to_string(routing_errc x) {
  switch (x) {
    case routing_errc::no_deployment: return "no_deployment";
    case routing_errc::no_workers: return "no_workers";
    case routing_errc::no_vnode_map: return "no_vnode_map";
    case routing_errc::not_served: return "not_served";
    case routing_errc::fenced: return "fenced";
    case routing_errc::lease_expired: return "lease_expired";
    case routing_errc::buffer_full: return "buffer_full";
    case routing_errc::stopped: return "stopped";
    case routing_errc::undelivered: return "undelivered";
    case routing_errc::malformed: return "malformed";
    case routing_errc::unreachable: return "unreachable";
    case routing_errc::unregistered_type: return "unregistered_type";
  }
  return "?";
}

const char* to_string(bus_errc x) {
  switch (x) {
    case bus_errc::no_subscriber: return "no_subscriber";
    case bus_errc::not_persisted: return "not_persisted";
    case bus_errc::unavailable: return "unavailable";
    case bus_errc::invalid: return "invalid";
  }
  return "?";
}

const char* to_string(raft_errc x) {
  switch (x) {
    case raft_errc::no_quorum: return "no_quorum";
    case raft_errc::leadership_lost: return "leadership_lost";
    case raft_errc::replica_stopped: return "replica_stopped";
    case raft_errc::compacted: return "compacted";
    case raft_errc::malformed: return "malformed";
    case raft_errc::not_found: return "not_found";
  }
  return "?";
}

const char* text_of(raft_errc x) {
  switch (x) {
    case raft_errc::no_quorum:
      return "no quorum: no leader is reachable; the write was not applied";
    case raft_errc::leadership_lost:
      return "leadership changed before the write was confirmed; its outcome is unknown";
    case raft_errc::replica_stopped:
      return "the Raft replica stopped before the write was confirmed; its outcome is unknown";
    case raft_errc::compacted:
      return "the events asked for are no longer kept";
    case raft_errc::malformed:
      return "a malformed request";
    case raft_errc::not_found:
      return "not in the cluster state";
  }
  return "?";
}

const char* to_string(console_errc x) {
  switch (x) {
    case console_errc::refused: return "refused";
    case console_errc::unknown_actor: return "unknown_actor";
    case console_errc::unknown_type: return "unknown_type";
    case console_errc::invalid: return "invalid";
    case console_errc::not_running: return "not_running";
    case console_errc::not_allowed: return "not_allowed";
    case console_errc::no_answer: return "no_answer";
    case console_errc::unknown_command: return "unknown_command";
    case console_errc::killed: return "killed";
    case console_errc::unavailable: return "unavailable";
    case console_errc::failed: return "failed";
  }
  return "?";
}

const char* to_string(service_errc x) {
  switch (x) {
    case service_errc::restarting: return "restarting";
    case service_errc::not_connected: return "not_connected";
    case service_errc::malformed: return "malformed";
  }
  return "?";
}

const char* to_string(link_errc x) {
  switch (x) {
    case link_errc::unsupported: return "unsupported";
    case link_errc::too_many_requests: return "too_many_requests";
    case link_errc::closed: return "closed";
    case link_errc::malformed: return "malformed";
    case link_errc::too_large: return "too_large";
    case link_errc::refused: return "refused";
  }
  return "?";
}

const char* to_string(jobs_errc x) {
  switch (x) {
    case jobs_errc::no_queue: return "no_queue";
    case jobs_errc::invalid: return "invalid";
    case jobs_errc::exists: return "exists";
    case jobs_errc::fenced: return "fenced";
    case jobs_errc::no_job: return "no_job";
    case jobs_errc::not_dead: return "not_dead";
    case jobs_errc::no_task: return "no_task";
  }
  return "?";
}

namespace {

/// Renders an error of enum E as its text (the context's first string), else the code's name.
template <class E>
void add(caf::actor_system_config& cfg) {
  cfg.add_error_category(caf::detail::error_factory<E>::category,
                         [](uint8_t code, caf::atom_value, const caf::message& ctx) {
                           if (ctx.size() >= 1 && ctx.match_element<std::string>(0))
                             return ctx.get_as<std::string>(0);
                           return std::string{to_string(static_cast<E>(code))};
                         });
}

} // namespace

void add_error_categories(caf::actor_system_config& cfg) {
  add<routing_errc>(cfg);
  add<bus_errc>(cfg);
  add<jobs_errc>(cfg);
  add<raft_errc>(cfg);
  add<console_errc>(cfg);
  add<service_errc>(cfg);
  add<link_errc>(cfg);
  add_exit_errc_category(cfg);
}

} // namespace troupe
