#include "actors/inspect/console_errc.hpp"
#include "actors/supervision/service_errc.hpp"
#include "actors/ingress.hpp"

#include "actors/api/counted_actor.hpp"
#include "actors/bus/bus_relay.hpp"
#include "actors/event_relay.hpp"
#include "actors/handlers.hpp"
#include "actors/inspect/console_handler.hpp"
#include "actors/jobs/job_messages.hpp"
#include "actors/kv_relay.hpp"
#include "actors/log_roller.hpp"
#include "actors/members_only.hpp"
#include "actors/migrations/migrator.hpp"
#include "actors/raft/raft_actor.hpp"
#include "actors/link/process_links.hpp"
#include "actors/wire.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

#include <algorithm>
#include <iostream>

namespace troupe {

namespace {

caf::error unavailable(const std::string& what) {
  return caf::make_error(service_errc::restarting, what);
}

/// True when `h` says it is a coordinator of this node's Raft group (with TLS, its name is the
/// one its certificate names; its address is what it says).
bool raft_peer(const ingress_config& cfg, const wire::hello& h) {
  if (h.kind != wire::peer_kind::node || !h.coordinator)
    return false;
  auto ep = parse_endpoint(h.address);
  return ep && std::find(cfg.raft_peers.begin(), cfg.raft_peers.end(), *ep) != cfg.raft_peers.end();
}

/// Refuses a Raft message from a link peer that is not one of the group's coordinators:
/// counted and logged with who it is. False for a local sender or a Raft peer. With TLS the
/// peer must also show a coordinator's certificate: the address in its hello is only what it
/// says, so a worker's certificate claiming a coordinator's address is not enough.
bool refused_raft(caf::event_based_actor* self, const ingress_config& cfg, bool tls,
                  const char* what) {
  auto& sender = self->current_sender();
  auto peer = link_peer_of(sender);
  if (!peer)
    return false;
  bool listed = raft_peer(cfg, *peer);
  if (listed && (!tls || link_peer_coordinator_cert(sender)))
    return false;
  auto who = peer->kind == wire::peer_kind::client ? std::string{"a client"}
             : !listed
               ? peer->name + " at " + peer->address
                   + (peer->coordinator ? " (not in --peers)" : " (not a coordinator)")
               : peer->name + " at " + peer->address
                   + " (its certificate is not a coordinator's)";
  link_context_of(self->system())
    ->refused(wire::wire_errc::not_permitted, who,
              std::string{what} + ": only the coordinators of this node's Raft group send them");
  return true;
}

/// What a client needs to change anything, for the refusal's line ("": nothing).
std::string write_credential(const link_context& links) {
  if (links.tls())
    return "the operator's certificate (scripts/certs.sh makes it)";
  if (!links.cookie().empty())
    return "the cluster's cookie (--cluster-secret-file or $TROUPE_CLUSTER_SECRET_FILE; on "
           "this host, a client run where the nodes keep ./troupe-data finds it)";
  return {};
}

caf::behavior ingress(caf::event_based_actor* self, ingress_config cfg) {
  auto dir = cfg.services;
  bool coordinator = cfg.coordinator;
  auto links = link_context_of(self->system()); // set before the node listens: read once
  bool tls = static_cast<bool>(links->tls());
  caf::message_handler own{
    [=](const frame& f) -> caf::result<caf::message> {
      auto m = dir->get(service::membership);
      if (!m)
        return unavailable("this node's membership is restarting: try again");
      return self->delegate(m, f);
    },
    [=](peer_hello_atom) {
      return !refused_raft(self, cfg, tls, "a Raft hello") && static_cast<bool>(dir->get(service::raft));
    },
    [=](raft_frame& f) {
      if (refused_raft(self, cfg, tls, "a Raft message"))
        return;
      if (auto raft = dir->get(service::raft))
        self->send(raft, std::move(f)); // Raft tolerates a frame lost while it restarts
    },
    [=](inject_fault_atom, const std::string& kind) -> caf::result<bool> {
      if (!cfg.inject_fault)
        return caf::make_error(console_errc::not_allowed,
                               std::string{"fault injection is off on this node"});
      if (!cfg.inject_fault(kind))
        return caf::make_error(console_errc::invalid,
                               "no fault '" + kind + "' (drop, duplicate or corrupt)");
      return true;
    },
    [=](migrations_atom a) -> caf::result<caf::message> {
      auto m = dir->get(service::migrator);
      if (!m)
        return unavailable("this node's migrator is restarting: try again");
      return self->delegate(m, a);
    },
    // The leader's job hand-outs and cancellations (through its router): cluster members only.
    [=](job_run_atom a, std::vector<job_handout>& batch) {
      if (refused_non_member(self, "job hand-outs"))
        return;
      if (auto runner = dir->get(service::jobs))
        self->send(runner, a, std::move(batch)); // lost while it restarts: back at the timeout
    },
    [=](job_cancel_atom a, std::string& queue, std::string& id, uint64_t epoch) {
      if (refused_non_member(self, "job cancellations"))
        return;
      if (auto runner = dir->get(service::jobs))
        self->send(runner, a, std::move(queue), std::move(id), epoch);
    },
    [=](task_assign_atom a, std::vector<task_assignment>& tasks) {
      if (refused_non_member(self, "task placements"))
        return;
      if (auto runner = dir->get(service::jobs))
        self->send(runner, a, std::move(tasks)); // lost while it restarts: sent again in 1 s
    },
    [=](log_roller_atom) { return static_cast<bool>(dir->get(service::log_roller)); },
    [=](log_lines_atom a, std::vector<std::string>& lines) {
      if (refused_non_member(self, "log lines"))
        return;
      if (auto roller = dir->get(service::log_roller))
        return self->send(roller, a, std::move(lines));
      for (auto& l : lines) // the roller is restarting: the lines are not lost
        std::cerr << l << '\n';
    },
    [=](log_rotate_atom a) -> caf::result<caf::message> {
      if (auto roller = dir->get(service::log_roller))
        return self->delegate(roller, a);
      if (!coordinator)
        if (auto m = dir->get(service::membership))
          return self->delegate(m, a); // a worker's log file is its coordinator's
      return caf::make_error(console_errc::failed,
                             std::string{"this node writes no log file (start it with --log-file)"});
    },
  };
  // KV and cluster-state requests: to the Raft replica here, or (a worker) to the membership
  // agent, which relays them to its coordinator.
  auto kv_target = [dir, coordinator] {
    return dir->get(coordinator ? service::raft : service::membership);
  };
  auto kv = as_message_handler(
    kv_relay_handler(self, kv_target, std::chrono::milliseconds(10000),
                     coordinator ? "this coordinator's Raft replica is restarting: try again"
                                 : "this worker's membership is restarting: try again",
                     {}, true));
  return guard_writes(self, cfg.console_token,
                      own.or_else(kv)
                        .or_else(event_relay_handler(self, dir))
                        .or_else(console_handler(self, dir))
                        .or_else(bus_relay_handler(self, dir)),
                      write_credential(*links));
}

using door_ping_atom = caf::atom_constant<caf::atom("door_ping")>;

caf::behavior door(caf::event_based_actor* self, std::shared_ptr<service_directory> dir) {
  self->set_default_handler(
    [dir](caf::scheduled_actor* s, caf::message_view& x) -> caf::result<caf::message> {
      auto in = dir->get(service::ingress);
      if (!in)
        return unavailable("this node's ingress is restarting: try again");
      auto* me = static_cast<caf::event_based_actor*>(s);
      return me->delegate(in, x.move_content_to_message());
    });
  // Everything goes through the default handler; a behavior keeps the actor alive.
  return {[](door_ping_atom) { return true; }};
}

} // namespace

caf::actor spawn_door(caf::actor_system& sys, std::shared_ptr<service_directory> services) {
  return sys.spawn(door, std::move(services));
}

caf::actor spawn_ingress(caf::actor_system& sys, ingress_config cfg,
                         std::shared_ptr<actor_stats> stats) {
  return spawn_counted_as<caf::event_based_actor>(
    sys, [cfg](caf::event_based_actor* self) { return ingress(self, cfg); }, std::move(stats));
}

} // namespace troupe
