#include "nodes/node_tree.hpp"

#include "actors/bus/bus_actor.hpp"
#include "actors/endpoint.hpp"
#include "actors/ingress.hpp"
#include "actors/jobs/job_runner.hpp"
#include "actors/inspect/inspector.hpp"
#include "actors/inspect/user_supervisor.hpp"
#include "actors/log_roller.hpp"
#include "actors/logging.hpp"
#include "actors/membership_agent.hpp"
#include "actors/membership_server.hpp"
#include "actors/migrations/migrator.hpp"
#include "actors/raft/raft_actor.hpp"
#include "actors/raft/raft_storage.hpp"
#include "actors/router.hpp"
#include "actors/vnodes/vnodes.hpp"
#include "actors/wall_clock.hpp"
#include "actors/wire.hpp"
#include "nodes/exit_codes.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/middleman_actor.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include <unistd.h>

namespace troupe {

namespace sv = supervision;

namespace {

using rt_ptr = std::shared_ptr<node_runtime>;
using stats_ptr = const std::shared_ptr<actor_stats>&;

// Intensities: a subtree whose services crash more than 5 times in 10 s is not failing by
// accident; it gives up, and the root starts it afresh at most twice a minute before the
// node stops (exit 70) for its own supervisor (systemd, or the coordinator in local mode) to
// start a clean process.
const sv::intensity subtree_limit{5, std::chrono::seconds(10)};
const sv::intensity root_limit{2, std::chrono::seconds(60)};

/// A service started again (not the node's first start) is told the ports at once: on the
/// first start the node sends start_atom itself once the ports are bound.
void start_if_restarted(const rt_ptr& rt, const caf::actor& a, bool with_ports) {
  if (!rt->started.load())
    return;
  if (with_ports)
    caf::anon_send(a, start_atom::value, rt->cluster_port.load(), rt->http_port.load());
  else
    caf::anon_send(a, start_atom::value);
}

child_def service_child(service s, std::string name,
                        std::function<caf::expected<caf::actor>(caf::actor_system&, stats_ptr)>
                          start) {
  child_def c;
  c.name = std::move(name);
  c.fills = s;
  c.start = std::move(start);
  return c;
}

child_def log_roller_child(const rt_ptr& rt) {
  auto c = service_child(service::log_roller, "log-roller",
                         [rt](caf::actor_system& sys, stats_ptr) -> caf::expected<caf::actor> {
    if (auto first = std::exchange(rt->first_roller, caf::actor{}))
      return first;
    std::string problem;
    auto roller = caf::actor_cast<caf::actor>(
      spawn_log_roller(sys,
                       log_roller_config{rt->cfg.log_file, rt->cfg.log_max_bytes,
                                         rt->cfg.log_max_files},
                       problem));
    if (!roller)
      return caf::make_error(caf::sec::runtime_error, "--log-file: " + problem);
    logging::ship_to(roller);
    return roller;
  });
  // Lines go to stderr (counted) while the roller restarts.
  c.on_exit = [] { logging::ship_to(caf::actor{}); };
  return c;
}

// Why one-for-one: the services do not share state. Each finds the others through the
// service directory at each use, the bus keeps its subscriptions in a table of its own, and a
// restarted router, bus or migrator asks the membership actor for the view it missed.
supervisor_def services_tree(const rt_ptr& rt) {
  supervisor_def def{"services", sv::strategy::one_for_one, subtree_limit, {}};
  auto& cfg = rt->cfg;
  if (!cfg.log_file.empty())
    def.children.push_back(log_roller_child(rt));
  def.children.push_back(service_child(service::router, "router",
                                       [rt](caf::actor_system& sys, stats_ptr stats) {
    return caf::expected<caf::actor>{
      caf::actor_cast<caf::actor>(
        spawn_router(sys, router_config{rt->cfg.name, rt->tree.services, rt->resolver}, stats))};
  }));
  auto table = make_bus_table(cfg.name);
  def.children.push_back(service_child(service::bus, "bus",
                                       [rt, table](caf::actor_system& sys, stats_ptr stats) {
    bus_config bc;
    bc.node_name = rt->cfg.name;
    bc.services = rt->tree.services;
    bc.table = table;
    bc.keep = rt->cfg.bus_keep;
    return caf::expected<caf::actor>{
      caf::actor_cast<caf::actor>(spawn_bus(sys, std::move(bc), stats))};
  }));
  def.children.push_back(service_child(service::migrator, "migrator",
                                       [rt](caf::actor_system& sys, stats_ptr stats) {
    migrator_config gc;
    gc.node_name = rt->cfg.name;
    gc.data_dir = rt->cfg.data_dir;
    gc.migrations = rt->migrations;
    gc.services = rt->tree.services;
    return caf::expected<caf::actor>{
      caf::actor_cast<caf::actor>(spawn_migrator(sys, std::move(gc), stats))};
  }));
  def.children.push_back(service_child(service::inspector, "inspector",
                                       [rt](caf::actor_system& sys, stats_ptr stats) {
    inspector_config ic;
    ic.node_name = rt->cfg.name;
    ic.registry = rt->tree.registry;
    ic.services = rt->tree.services;
    return caf::expected<caf::actor>{
      caf::actor_cast<caf::actor>(spawn_inspector(sys, std::move(ic), stats))};
  }));
  return def;
}

raft_actor_config raft_config(const rt_ptr& rt) {
  auto& cfg = rt->cfg;
  raft_actor_config rc;
  rc.raft.id = rt->group.self + 1;
  for (size_t i = 0; i < rt->group.members.size(); ++i) {
    rc.raft.voters.push_back(i + 1);
    if (i != rt->group.self)
      rc.peers[i + 1] = rt->group.members[i];
  }
  rc.raft.seed = static_cast<uint64_t>(getpid()) ^ static_cast<uint64_t>(wall_clock_ms());
  rc.raft.election_ticks = static_cast<int>(cfg.election_ticks);
  rc.raft.heartbeat_ticks = static_cast<int>(cfg.heartbeat_ticks);
  rc.tick_interval = std::chrono::duration_cast<milliseconds>(cfg.raft_tick);
  rc.resolver = rt->resolver;
  rc.services = rt->tree.services;
  rc.max_kv_bytes = cfg.links.max_frame - (64u << 10);
  rc.node_name = cfg.name;
  rc.peer_timeout = std::chrono::duration_cast<milliseconds>(cfg.failure_timeout);
  // Workers fence themselves two thirds of the failure timeout after their last answer.
  rc.vnode_lease = std::chrono::duration_cast<milliseconds>(cfg.failure_timeout * 2 / 3);
  return rc;
}

child_def raft_child(const rt_ptr& rt) {
  return service_child(service::raft, "raft",
                       [rt](caf::actor_system& sys, stats_ptr stats) -> caf::expected<caf::actor> {
    std::unique_ptr<raft::raft_storage> storage;
    raft::restored_state restored;
    if (rt->first_storage) {
      storage = std::move(*std::exchange(rt->first_storage, nullptr));
      restored = std::move(*std::exchange(rt->first_restored, nullptr));
    } else {
      // A restart: the replica comes back from what it made durable, as after a crash.
      raft::recovery_report rep;
      auto err = raft::raft_storage::open(rt->cfg.data_dir + "/raft", raft::storage_options{},
                                          storage, restored, &rep);
      if (err)
        return caf::make_error(exit_errc::storage_failed, "raft storage: " + err.message);
    }
    auto a = caf::actor_cast<caf::actor>(
      spawn_raft_actor(sys, raft_config(rt), std::move(storage), std::move(restored), stats));
    start_if_restarted(rt, a, false);
    return a;
  });
}

child_def membership_server_child(const rt_ptr& rt) {
  return service_child(service::membership, "membership-server",
                       [rt](caf::actor_system& sys, stats_ptr stats) {
    auto& cfg = rt->cfg;
    membership_server_config mc;
    mc.services = rt->tree.services;
    mc.raft_id = rt->group.self + 1;
    mc.vnodes = cfg.vnodes;
    std::weak_ptr<node_runtime> weak = rt;
    mc.on_fatal = [weak](const std::string& reason) {
      if (auto r = weak.lock())
        r->stop(exit_code::config, "refused by the cluster: " + reason);
    };
    mc.on_evicted = [weak](const std::string& reason) {
      if (auto r = weak.lock())
        r->stop(exit_code::evicted, "evicted by the cluster: " + reason);
    };
    mc.resolver = rt->resolver;
    mc.self = rt->self;
    mc.cluster_id = rt->cluster_id;
    mc.table.detector.interval = cfg.heartbeat_interval;
    mc.table.detector.timeout = cfg.failure_timeout;
    // Failure detection wakes at the detector's deadlines; this bounds the housekeeping's wait.
    mc.tick_interval = cfg.heartbeat_interval;
    // Heartbeats stay answered through an election, but a coordinator cut off from the quorum
    // must stop before the majority's leader moves its workers' vnodes: that leader declares it
    // lost after the failure timeout, and its replica knows no leader after at most two
    // election timeouts. Half of what is left is the grace.
    auto election_max = cfg.raft_tick * (2 * cfg.election_ticks);
    mc.leader_grace = std::max<duration>(duration{0}, (cfg.failure_timeout - election_max) / 2);
    auto a = caf::actor_cast<caf::actor>(spawn_membership_server(sys, std::move(mc), stats));
    start_if_restarted(rt, a, true);
    return caf::expected<caf::actor>{a};
  });
}

// Why one-for-all: the membership server is the Raft replica's listener and proposes through
// it; a replica restarted from disk re-applies its log, and the server's cached view and
// proposals in flight belong to the old one. They start again together.
supervisor_def coordinator_tree(const rt_ptr& rt) {
  return supervisor_def{"coordinator",
                        sv::strategy::one_for_all,
                        subtree_limit,
                        {raft_child(rt), membership_server_child(rt)}};
}

child_def membership_agent_child(const rt_ptr& rt) {
  return service_child(service::membership, "membership-agent",
                       [rt](caf::actor_system& sys, stats_ptr stats) {
    auto& cfg = rt->cfg;
    membership_agent_config ac;
    ac.self = rt->self;
    ac.coordinators = cfg.coordinators;
    ac.vnodes = cfg.vnodes;
    std::weak_ptr<node_runtime> weak = rt;
    ac.on_refused = [weak](const std::string& reason) {
      if (auto r = weak.lock())
        r->stop(exit_code::config, "refused by the cluster: " + reason);
    };
    ac.on_fatal = [weak](const std::string& reason) {
      if (auto r = weak.lock())
        r->stop(exit_code::failure, reason);
    };
    ac.on_evicted = [weak](const std::string& reason) {
      if (auto r = weak.lock())
        r->stop(exit_code::evicted, "evicted by the cluster: " + reason);
    };
    ac.resolver = rt->resolver;
    ac.heartbeat_interval = cfg.heartbeat_interval;
    ac.failure_timeout = cfg.failure_timeout;
    ac.seed = static_cast<uint32_t>(getpid());
    if (cfg.supervisor_pid != 0) {
      auto parent = cfg.supervisor_pid;
      // Reparenting is how a child learns its parent died, whatever killed it (even SIGKILL).
      ac.is_orphaned = [parent] { return getppid() != parent; };
    }
    ac.services = rt->tree.services;
    ac.console_token = cfg.console_token;
    ac.ship_logs = cfg.ship_logs;
    auto a = caf::actor_cast<caf::actor>(spawn_membership_agent(sys, std::move(ac), stats));
    start_if_restarted(rt, a, true);
    return caf::expected<caf::actor>{a};
  });
}

child_def vnodes_child(const rt_ptr& rt) {
  auto c = service_child(service::vnodes, "vnodes", [rt](caf::actor_system& sys, stats_ptr stats) {
    vnodes_config vc;
    vc.node_name = rt->cfg.name;
    vc.data_dir = rt->cfg.data_dir;
    vc.types = rt->types;
    vc.services = rt->tree.services;
    vc.registry = rt->tree.registry;
    vc.migrations = rt->migrations;
    // The workers' lease (the agent's two thirds of the failure timeout).
    vc.lease = rt->cfg.failure_timeout * 2 / 3;
    return caf::expected<caf::actor>{
      caf::actor_cast<caf::actor>(spawn_vnodes(sys, std::move(vc), stats))};
  });
  // It supervises one actor per vnode, each started again alone when it crashes.
  c.kind = "supervisor";
  c.strategy = "one-for-one, each vnode alone";
  return c;
}

child_def job_runner_child(const rt_ptr& rt) {
  return service_child(service::jobs, "job-runner", [rt](caf::actor_system& sys, stats_ptr stats) {
    job_runner_config jc;
    jc.node_name = rt->cfg.name;
    jc.data_dir = rt->cfg.data_dir;
    jc.types = rt->types;
    jc.services = rt->tree.services;
    return caf::expected<caf::actor>{
      caf::actor_cast<caf::actor>(spawn_job_runner(sys, std::move(jc), stats))};
  });
}

// Why rest-for-one: the vnodes serve only under the lease the membership agent holds. An
// agent that dies takes its lease with it, so the vnodes after it stop too and start again
// fenced, until the new agent has joined and received the workload. The vnodes crashing
// alone leave the agent and its lease alone.
supervisor_def worker_tree(const rt_ptr& rt) {
  supervisor_def def{"worker", sv::strategy::rest_for_one, subtree_limit, {}};
  if (!rt->cfg.has_coordinator_role())
    def.children.push_back(membership_agent_child(rt));
  def.children.push_back(vnodes_child(rt));
  // Its attempts are fenced by epochs, not by the lease: it stops with the agent only so that
  // a worker that lost its coordinator stops running jobs it can no longer report.
  def.children.push_back(job_runner_child(rt));
  return def;
}

child_def user_supervisor_child(const rt_ptr& rt) {
  auto children = make_user_children();
  return service_child(service::user_supervisor, user_supervisor_name,
                       [rt, children](caf::actor_system& sys, stats_ptr stats) {
    auto& cfg = rt->cfg;
    user_supervisor_config uc;
    uc.node_name = cfg.name;
    uc.registry = rt->tree.registry;
    uc.types = rt->types;
    uc.services = rt->tree.services;
    uc.children = children;
    uc.data_dir = cfg.data_dir;
    uc.restart.max_restarts = cfg.restart_max;
    uc.restart.period = cfg.restart_period;
    uc.restart.initial_backoff = cfg.restart_backoff;
    uc.restart.max_backoff = cfg.restart_backoff_max;
    return caf::expected<caf::actor>{
      caf::actor_cast<caf::actor>(spawn_user_supervisor(sys, std::move(uc), stats))};
  });
}

child_def ingress_child(const rt_ptr& rt) {
  return service_child(service::ingress, "ingress", [rt](caf::actor_system& sys, stats_ptr stats) {
    ingress_config ic;
    ic.services = rt->tree.services;
    ic.console_token = rt->cfg.console_token;
    ic.coordinator = rt->cfg.has_coordinator_role();
    for (size_t i = 0; i < rt->group.members.size(); ++i)
      if (i != rt->group.self)
        ic.raft_peers.push_back(rt->group.members[i]);
    if (rt->cfg.fault_injection) // tests: (inject_fault_atom, kind) garbles the next frame
      ic.inject_fault = [links = rt->links](const std::string& kind) {
        if (kind == "drop")
          links->inject(link_context::fault::drop);
        else if (kind == "duplicate")
          links->inject(link_context::fault::duplicate);
        else if (kind == "corrupt")
          links->inject(link_context::fault::corrupt);
        else
          return false;
        return true;
      };
    // The door published on the node's port finds it in the directory (no republishing).
    return caf::expected<caf::actor>{spawn_ingress(sys, std::move(ic), stats)};
  });
}

} // namespace

std::vector<service> expected_services(const node_config& cfg) {
  std::vector<service> out{service::router, service::bus, service::migrator,
                           service::inspector, service::user_supervisor, service::ingress,
                           service::membership};
  if (!cfg.log_file.empty())
    out.push_back(service::log_roller);
  if (cfg.has_coordinator_role())
    out.push_back(service::raft);
  if (cfg.has_worker_role()) {
    out.push_back(service::vnodes);
    out.push_back(service::jobs);
  }
  return out;
}

// Why one-for-one at the root: the subtrees share nothing but the service directory. The
// ingress comes last so that the door opens once everything behind it runs (and, stopping in
// reverse order, closes first).
supervisor_def make_node_tree(std::shared_ptr<node_runtime> rt) {
  supervisor_def root{"node", sv::strategy::one_for_one, root_limit, {}};
  root.children.push_back(supervisor_child(services_tree(rt), rt->tree));
  if (rt->cfg.has_coordinator_role())
    root.children.push_back(supervisor_child(coordinator_tree(rt), rt->tree));
  if (rt->cfg.has_worker_role())
    root.children.push_back(supervisor_child(worker_tree(rt), rt->tree));
  root.children.push_back(user_supervisor_child(rt));
  root.children.push_back(ingress_child(rt));
  std::weak_ptr<node_runtime> weak = rt;
  root.on_give_up = [weak](const caf::error& reason) {
    if (auto r = weak.lock()) {
      auto code = static_cast<exit_errc>(reason.code());
      r->stop(code == exit_errc::storage_failed ? exit_code::storage : exit_code::software,
              fatal_text(reason));
    }
  };
  return root;
}

} // namespace troupe
