#include "nodes/node_runner.hpp"

#include "actors/bus/bus_actor.hpp"
#include "actors/endpoint.hpp"
#include "actors/inspect/inspector.hpp"
#include "actors/logging.hpp"
#include "actors/log_roller.hpp"
#include "actors/membership_agent.hpp"
#include "actors/membership_server.hpp"
#include "actors/migrations/migrator.hpp"
#include "actors/router.hpp"
#include "actors/vnode_host.hpp"
#include "actors/raft/raft_actor.hpp"
#include "actors/wall_clock.hpp"
#include "actors/wire.hpp"
#include "nodes/exit_codes.hpp"
#include "nodes/http_status.hpp"
#include "nodes/local_supervisor.hpp"
#include "nodes/pid_file.hpp"
#include "nodes/remote_node.hpp"
#include "nodes/stop_request.hpp"
#include "protocols/membership/codec.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <random>
#include <thread>

namespace troupe {

namespace fs = std::filesystem;
namespace ms = membership;

namespace {

int config_failure(const std::string& message) {
  std::cerr << "troupe run: " << message << "\n";
  return exit_code::config;
}

/// Returns the cluster id kept in the data dir, creating it on first start. The id names the
/// cluster in logs and instance ids; it survives restarts of the coordinator.
std::string load_or_create_cluster_id(const fs::path& dir, std::string& problem) {
  auto path = dir / "cluster-id";
  std::ifstream in{path};
  std::string id;
  if (in >> id && !id.empty())
    return id;
  std::random_device rd;
  std::mt19937_64 gen{(static_cast<uint64_t>(rd()) << 32) ^ rd()};
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(gen()));
  id = buf;
  auto tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out{tmp, std::ios::trunc};
    out << id << "\n";
    out.flush();
    if (!out) {
      problem = "cannot write " + tmp.string();
      return {};
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    problem = "cannot write " + path.string() + ": " + ec.message();
    return {};
  }
  return id;
}

std::string self_exe() {
  std::error_code ec;
  auto p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string{"/proc/self/exe"} : p.string();
}

} // namespace

int run_node(const node_config& cfg, std::shared_ptr<const actor_types> types,
             std::shared_ptr<const migration_list> migrations) {
  // Block the stop signals before any thread exists so that every thread inherits the mask and
  // the main thread alone receives them, synchronously, in sigtimedwait below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  logging::init(cfg.name, cfg.log_level);
  auto log = logging::get("node");

  std::unique_ptr<pid_file> pidf;
  if (!cfg.pid_file.empty())
    if (auto problem = pid_file::acquire(cfg.pid_file, pidf); !problem.empty())
      return config_failure("--pid-file: " + problem);

  std::error_code ec;
  fs::create_directories(cfg.data_dir, ec);
  if (ec || !fs::is_directory(cfg.data_dir))
    return config_failure("--data-dir: cannot create '" + cfg.data_dir + "': "
                          + (ec ? ec.message() : "not a directory"));
  if (::access(cfg.data_dir.c_str(), W_OK) != 0)
    return config_failure("--data-dir: '" + cfg.data_dir + "' is not writable");

  bool coordinator = cfg.has_coordinator_role();
  bool worker = cfg.has_worker_role();
  std::string cluster_id = cfg.instance_prefix;
  if (coordinator) {
    std::string problem;
    cluster_id = load_or_create_cluster_id(cfg.data_dir, problem);
    if (!problem.empty())
      return config_failure("--data-dir: " + problem);
  }

  // The coordinator's Raft log is opened before anything starts: a damaged log stops the node
  // here, naming the file and offset, instead of after it has joined anything.
  coordinator_group group;
  std::unique_ptr<raft::raft_storage> raft_storage;
  raft::restored_state raft_restored;
  if (coordinator) {
    std::optional<config_error> group_error;
    group = resolve_group(cfg, group_error);
    if (group_error)
      return config_failure(group_error->message());
    raft::recovery_report rep;
    raft::storage_options so;
    auto err = raft::raft_storage::open(cfg.data_dir + "/raft", so, raft_storage, raft_restored,
                                        &rep);
    if (err) {
      std::cerr << "troupe run: raft storage: " << err.message << "\n";
      return exit_code::storage;
    }
    if (rep.truncated_bytes > 0)
      log->warn("raft log: truncated a torn tail of {} bytes in {} (a crash cut its last write)",
                rep.truncated_bytes, rep.truncated_file);
  }

  caf::actor_system_config sc;
  register_types(sc);
  if (types)
    types->configure(sc); // the user's own message types
  sc.load<caf::io::middleman>();
  auto threads = cfg.threads != 0 ? cfg.threads
                                   : std::max(2u, std::thread::hardware_concurrency());
  sc.set("scheduler.max-threads", static_cast<size_t>(threads));
  // Automatic connections would open a second listener on every interface: Troupe connects
  // to the nodes its own membership names instead.
  sc.set("middleman.enable-automatic-connections", false);
  caf::actor_system sys{sc};

  // The log-roller: from here on this process's lines go to the log file, through one writer.
  caf::actor log_roller;
  if (!cfg.log_file.empty()) {
    std::string problem;
    log_roller = spawn_log_roller(sys, log_roller_config{cfg.log_file, cfg.log_max_bytes,
                                                         cfg.log_max_files},
                                  problem);
    if (!log_roller)
      return config_failure("--log-file: " + problem);
    logging::ship_to(log_roller);
  } else if (cfg.ship_logs) {
    // A local worker: its coordinator's roller is reachable once it has joined; until then
    // its lines go to stderr, counted (troupe_log_lines_stderr_total).
    logging::ship_to(caf::actor{});
  }
  // Lines leave through the roller until run_node returns (this guard goes before the actor
  // system does); then the roller is stopped, after the last line.
  struct logging_guard {
    std::function<void()> done;
    ~logging_guard() { done(); }
  } stop_logging{[&] {
    logging::stop_shipping();
    if (log_roller) {
      caf::scoped_actor s{sys};
      s->request(log_roller, std::chrono::seconds(2), metrics_atom::value)
        .receive([](const std::vector<std::string>&, const std::vector<uint64_t>&) {},
                 [](const caf::error&) {});
      caf::anon_send_exit(log_roller, caf::exit_reason::user_shutdown);
    }
  }};

  stop_request stop;
  ms::member self;
  self.name = cfg.name;
  self.address = cfg.bind;
  self.roles.coordinator = coordinator;
  self.roles.worker = worker;
  self.pid = static_cast<uint32_t>(getpid());
  self.started_at_ms = wall_clock_ms();
  self.instance_id = cfg.worker_id != 0 && !cfg.instance_prefix.empty()
                       ? cfg.instance_prefix + "-" + std::to_string(cfg.worker_id)
                       : cluster_id.empty() ? cfg.name : cluster_id + "-" + cfg.name;

  // Every node routes events; a node with the worker role also hosts vnodes: one instance per
  // deployment and owned vnode, which can send events through the router in turn.
  auto router = spawn_router(
    sys, router_config{cfg.name, {}, caf::actor_cast<caf::actor>(sys.middleman().actor_handle())});
  // Every node has a bus and a migration actor (which runs migrations on the main worker).
  auto bus = spawn_bus(sys, bus_config{cfg.name, router, cfg.bus_keep});
  migrator_config gc;
  gc.node_name = cfg.name;
  gc.data_dir = cfg.data_dir;
  gc.migrations = migrations;
  gc.bus = bus;
  auto migrator = spawn_migrator(sys, std::move(gc));
  // Every node lists its actors for the console, and supervises the actors spawned from it.
  auto registry = std::make_shared<actor_registry>(cfg.name);
  inspector_config ic;
  ic.node_name = cfg.name;
  ic.registry = registry;
  ic.types = types;
  ic.router = router;
  ic.bus = bus;
  ic.data_dir = cfg.data_dir;
  ic.restart.max_restarts = cfg.restart_max;
  ic.restart.period = cfg.restart_period;
  ic.restart.initial_backoff = cfg.restart_backoff;
  ic.restart.max_backoff = cfg.restart_backoff_max;
  auto inspector = spawn_inspector(sys, std::move(ic));
  caf::anon_send(inspector, register_atom::value, std::string{"router"}, router);
  caf::anon_send(inspector, register_atom::value, std::string{"bus"}, bus);
  caf::anon_send(inspector, register_atom::value, std::string{"migrator"}, migrator);
  caf::actor host;
  if (worker) {
    vnode_host_config hc;
    hc.node_name = cfg.name;
    hc.data_dir = cfg.data_dir;
    hc.types = types;
    hc.router = router;
    hc.registry = registry;
    hc.bus = bus;
    hc.migrations = migrations;
    host = spawn_vnode_host(sys, std::move(hc));
    caf::anon_send(router, vnode_host_atom::value, host);
    caf::anon_send(inspector, register_atom::value, std::string{"vnode-host"}, host);
  }
  if (!cfg.console_token.empty())
    ::setenv("TROUPE_CONSOLE_TOKEN", cfg.console_token.c_str(), 1); // local workers inherit it
  caf::actor main_actor;
  caf::actor raft_actor;
  if (coordinator) {
    raft_actor_config rc;
    rc.raft.id = group.self + 1;
    for (size_t i = 0; i < group.members.size(); ++i) {
      rc.raft.voters.push_back(i + 1);
      if (i != group.self)
        rc.peers[i + 1] = group.members[i];
    }
    rc.raft.seed = static_cast<uint64_t>(getpid()) ^ static_cast<uint64_t>(wall_clock_ms());
    rc.raft.election_ticks = static_cast<int>(cfg.election_ticks);
    rc.raft.heartbeat_ticks = 1;
    rc.tick_interval = std::chrono::duration_cast<milliseconds>(cfg.raft_tick);
    rc.resolver = caf::actor_cast<caf::actor>(sys.middleman().actor_handle());
    rc.node_name = cfg.name;
    rc.peer_timeout = std::chrono::duration_cast<milliseconds>(cfg.failure_timeout);
    // Workers fence themselves two thirds of the failure timeout after their last answer.
    rc.vnode_lease = std::chrono::duration_cast<milliseconds>(cfg.failure_timeout * 2 / 3);
    raft_actor = spawn_raft_actor(sys, rc, std::move(raft_storage), std::move(raft_restored));
    caf::anon_send(inspector, register_atom::value, std::string{"raft"}, raft_actor);
    membership_server_config mc;
    mc.raft = raft_actor;
    mc.raft_id = rc.raft.id;
    mc.local_host = host;
    mc.router = router;
    mc.vnodes = cfg.vnodes;
    mc.inspector = inspector;
    mc.console_token = cfg.console_token;
    mc.log_roller = log_roller;
    mc.bus = bus;
    mc.migrator = migrator;
    mc.on_fatal = [&stop](const std::string& reason) {
      stop.request(exit_code::config, "refused by the cluster: " + reason);
    };
    mc.self = self;
    mc.cluster_id = cluster_id;
    mc.table.detector.interval = cfg.heartbeat_interval;
    mc.table.detector.timeout = cfg.failure_timeout;
    // Failure detection runs on this tick: a member is down at most one tick after the timeout.
    mc.tick_interval = std::max<duration>(milliseconds(10), cfg.heartbeat_interval / 10);
    main_actor = spawn_membership_server(sys, std::move(mc));
  } else {
    membership_agent_config ac;
    ac.self = self;
    ac.coordinators = cfg.coordinators;
    ac.vnodes = cfg.vnodes;
    ac.on_refused = [&stop](const std::string& reason) {
      stop.request(exit_code::config, "refused by the cluster: " + reason);
    };
    ac.resolver = caf::actor_cast<caf::actor>(sys.middleman().actor_handle());
    ac.heartbeat_interval = cfg.heartbeat_interval;
    ac.failure_timeout = cfg.failure_timeout;
    ac.seed = static_cast<uint32_t>(getpid());
    ac.on_fatal = [&stop](const std::string& reason) { stop.request(exit_code::failure, reason); };
    if (cfg.supervisor_pid != 0) {
      auto parent = cfg.supervisor_pid;
      // Reparenting is how a child learns its parent died, whatever killed it (even SIGKILL).
      ac.is_orphaned = [parent] { return getppid() != parent; };
    }
    ac.host = host;
    ac.router = router;
    ac.inspector = inspector;
    ac.console_token = cfg.console_token;
    ac.ship_logs = cfg.ship_logs;
    ac.bus = bus;
    ac.migrator = migrator;
    main_actor = spawn_membership_agent(sys, std::move(ac));
  }
  caf::anon_send(inspector, register_atom::value,
                 std::string{coordinator ? "membership-server" : "membership-agent"}, main_actor);

  if (host)
    caf::anon_send(host, kv_target_atom::value, main_actor); // periodic snapshots go to the KV
  caf::anon_send(inspector, kv_target_atom::value, main_actor); // in spawned actors' contexts
  caf::anon_send(bus, kv_target_atom::value, main_actor);
  caf::anon_send(migrator, kv_target_atom::value, main_actor);
  auto shutdown_actor = [&] {
    caf::anon_send_exit(main_actor, caf::exit_reason::user_shutdown);
    if (raft_actor)
      caf::anon_send_exit(raft_actor, caf::exit_reason::user_shutdown);
    if (host)
      caf::anon_send_exit(host, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(router, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(bus, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(migrator, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(inspector, caf::exit_reason::user_shutdown);
  };

  auto published = sys.middleman().publish(main_actor, cfg.cluster_port, cfg.bind.c_str(), true);
  if (!published) {
    shutdown_actor();
    return config_failure("--cluster-port: cannot listen on " + cfg.bind + ":"
                          + std::to_string(cfg.cluster_port) + ": " + sys.render(published.error()));
  }
  uint16_t cluster_port = *published;

  std::unique_ptr<http_status> http;
  uint16_t http_port = 0;
  if (cfg.http_port != 0) {
    uint16_t wanted = cfg.http_port > 0 ? static_cast<uint16_t>(cfg.http_port)
                      : cfg.cluster_port == 0 ? 0
                                              : static_cast<uint16_t>(cluster_port + 1);
    http = std::make_unique<http_status>(sys, main_actor);
    http->add_metrics_source(router);
    http->add_metrics_source(inspector);
    http->add_metrics_source(bus);
    if (log_roller)
      http->add_metrics_source(log_roller);
    if (host)
      http->add_metrics_source(host);
    if (auto problem = http->start(cfg.bind, wanted); !problem.empty()) {
      sys.middleman().unpublish(main_actor, cluster_port);
      shutdown_actor();
      return config_failure(std::string{cfg.http_port > 0 ? "--http-port" : "--http-port (default: cluster port + 1)"}
                            + ": " + problem);
    }
    http_port = http->port();
  }

  log->info("node {} (pid {}) listening on {} as {}{}{}", cfg.name, getpid(),
            advertised_address(cfg.bind, cluster_port),
            coordinator ? "coordinator" : "", coordinator && worker ? " and " : "",
            worker ? "worker" : "");
  caf::anon_send(main_actor, start_atom::value, cluster_port, http_port);
  if (raft_actor)
    caf::anon_send(raft_actor, start_atom::value);

  std::unique_ptr<local_supervisor> supervisor;
  if (cfg.workers > 0) {
    local_supervisor_config lc;
    lc.exe = self_exe();
    lc.parent = cfg;
    lc.parent_port = cluster_port;
    lc.cluster_id = cluster_id;
    lc.restart.max_restarts = cfg.restart_max;
    lc.restart.period = cfg.restart_period;
    lc.restart.initial_backoff = cfg.restart_backoff;
    lc.restart.max_backoff = cfg.restart_backoff_max;
    lc.shutdown_timeout = cfg.shutdown_timeout;
    lc.on_give_up = [&stop](int code, const std::string& reason) { stop.request(code, reason); };
    lc.down_pids = [&sys, main_actor] {
      std::vector<uint32_t> pids;
      caf::scoped_actor s{sys};
      if (auto r = request_status(sys, s, main_actor, std::chrono::seconds(1)))
        for (auto& m : r->members.members)
          if (m.state == ms::member_state::down)
            pids.push_back(m.pid);
      return pids;
    };
    supervisor = std::make_unique<local_supervisor>(std::move(lc));
    if (auto problem = supervisor->start(); !problem.empty())
      stop.request(exit_code::software, problem);
  }

  while (!stop.is_set()) {
    timespec wait{0, 100'000'000};
    int sig = sigtimedwait(&stop_signals, nullptr, &wait);
    if (sig == SIGTERM || sig == SIGINT)
      stop.request(exit_code::ok, std::string{"received SIG"} + sigabbrev_np(sig));
  }

  auto code = stop.code();
  if (code == exit_code::ok)
    log->info("stopping: {}", stop.reason());
  else
    log->error("stopping: {}", stop.reason());
  if (supervisor)
    supervisor->stop(); // workers leave the cluster before their coordinator goes
  if (!coordinator) {
    caf::scoped_actor s{sys};
    // A worker hands its vnodes over first (at most the agent's drain timeout, 5 s).
    s->request(main_actor, std::chrono::milliseconds(8000), leave_atom::value)
      .receive([](bool) {}, [](const caf::error&) {});
  }
  if (raft_actor) {
    // A leader hands over before it goes, so the cluster does not wait for an election.
    caf::scoped_actor s{sys};
    s->request(raft_actor, std::chrono::seconds(2), leave_atom::value)
      .receive([&](bool handed) { log->debug("raft leave: {}", handed); },
               [](const caf::error&) {});
  }
  if (http)
    http->stop();
  sys.middleman().unpublish(main_actor, cluster_port);
  shutdown_actor();
  log->info("stopped");
  if (code != exit_code::ok)
    std::cerr << "troupe run: " << stop.reason() << "\n";
  return code;
}

} // namespace troupe
