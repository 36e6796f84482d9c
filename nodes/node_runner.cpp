#include "nodes/node_runner.hpp"

#include "actors/endpoint.hpp"
#include "actors/api/actor_stats.hpp"
#include "actors/ingress.hpp"
#include "actors/link/cookie.hpp"
#include "actors/logging.hpp"
#include "actors/log_roller.hpp"
#include "actors/raft/raft_actor.hpp"
#include "actors/supervision/exit_errc.hpp"
#include "actors/supervision/supervisor.hpp"
#include "actors/wall_clock.hpp"
#include "actors/wire.hpp"
#include "nodes/error_text.hpp"
#include "nodes/exit_codes.hpp"
#include "nodes/http_status.hpp"
#include "nodes/local_supervisor.hpp"
#include "nodes/node_cookie.hpp"
#include "nodes/node_tree.hpp"
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
#include <sys/resource.h>
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
  // Every connection is a file descriptor: take what the system allows (the transport's own
  // bounds, --max-connections and the hello queue, keep the node within it).
  if (rlimit r{}; ::getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = std::min<rlim_t>(r.rlim_max, 65536);
    ::setrlimit(RLIMIT_NOFILE, &r);
  }
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  logging::init(cfg.name, cfg.log_level);
  auto log = logging::get("node");

  // TLS first: a bad key or certificate stops the node before it changes anything.
  tls_context tls;
  if (cfg.tls.enabled()) {
    std::string problem;
    tls = make_tls_context(cfg.tls, problem);
    if (!tls)
      return config_failure(problem);
    if (auto names = own_names(tls); !names_member(names, cfg.name)) {
      std::string listed;
      for (auto& n : names)
        listed += (listed.empty() ? "" : ", ") + n;
      return config_failure("--tls-cert " + cfg.tls.cert + " names " + listed
                            + ", not this node (--name " + cfg.name
                            + "): make one for it with scripts/certs.sh");
    }
  } else if (cfg.insecure) {
    log->warn("--insecure: links on {} are plain: whoever reaches the port can join or command "
              "the cluster", cfg.bind);
  }

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
    // With TLS, the other coordinators take Raft messages only from a coordinator's certificate.
    if (tls && group.members.size() > 1 && !own_coordinator_cert(tls))
      return config_failure("--tls-cert " + cfg.tls.cert + " is not a coordinator's certificate "
                            "(organizational unit 'coordinator'): the other coordinators would "
                            "refuse its Raft messages; make one with scripts/certs.sh DIR "
                            "--coordinator " + cfg.name);
  }
  // Without TLS, the cookie says who belongs (actors/link/cookie.hpp).
  node_cookie cookie;
  if (!tls) {
    bool first = coordinator && cfg.worker_id == 0 && group.self == 0;
    auto maker = coordinator ? "the first coordinator of the group, "
                                 + group.members.front().to_string() + ","
                             : std::string{"a lone coordinator or the first of a group"};
    if (auto err = find_node_cookie(cfg, first, maker, cookie))
      return config_failure(err->message());
  }
  if (coordinator) {
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

  troupe_system_config sc;
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
  // Whoever asks the node to stop (a signal, the tree giving up, the cluster refusing it);
  // shared, since actors may still ask while the node winds down.
  auto stop = std::make_shared<stop_request>();
  troupe_system sys{sc};

  // The log-roller: from here on this process's lines go to the log file, through one writer.
  // It is opened here so that a bad --log-file stops the node with one line; the tree's
  // services supervisor takes it over.
  caf::actor log_roller;
  if (!cfg.log_file.empty()) {
    std::string problem;
    log_roller = caf::actor_cast<caf::actor>(spawn_log_roller(sys, log_roller_config{cfg.log_file, cfg.log_max_bytes,
                                                         cfg.log_max_files},
                                  problem));
    if (!log_roller)
      return config_failure("--log-file: " + problem);
    logging::ship_to(log_roller);
  } else if (cfg.ship_logs) {
    // A local worker: its coordinator's roller is reachable once it has joined; until then
    // its lines go to stderr, counted (troupe_log_lines_stderr_total).
    logging::ship_to(caf::actor{});
  }

  auto rt = std::make_shared<node_runtime>();
  rt->cfg = cfg;
  rt->types = types;
  rt->migrations = migrations;
  rt->tree.registry = std::make_shared<actor_registry>(cfg.name);
  rt->tree.services = std::make_shared<service_directory>();
  if (cfg.insecure && !cfg.tls.enabled())
    rt->tree.services->problems().set("insecure", "insecure: plain links on " + cfg.bind
                                                    + " (--insecure): give the node TLS");
  rt->cluster_id = cluster_id;
  rt->group = group;
  // The wire (actors/link): its bounds are set before anything connects or listens.
  auto links = std::make_shared<link_context>(cfg.links, logging::get("link"));
  links->set_tls(tls);
  links->set_cookie(cookie.cookie);
  install_link_context(sys, links);
  rt->resolver = link_connector_of(sys);
  rt->links = links;
  rt->first_roller = log_roller;
  if (coordinator) {
    rt->first_storage = std::make_shared<std::unique_ptr<raft::raft_storage>>(std::move(raft_storage));
    rt->first_restored = std::make_shared<raft::restored_state>(std::move(raft_restored));
  }
  rt->stop = [stop](int code, const std::string& reason) { stop->request(code, reason); };
  auto& self = rt->self;
  self.name = cfg.name;
  self.address = cfg.bind;
  self.roles.coordinator = coordinator;
  self.roles.worker = worker;
  self.pid = static_cast<uint32_t>(getpid());
  if (worker && types)
    self.actor_types = types->names(); // so a deployment of a type no worker has is refused
  self.started_at_ms = wall_clock_ms();
  self.instance_id = cfg.worker_id != 0 && !cfg.instance_prefix.empty()
                       ? cfg.instance_prefix + "-" + std::to_string(cfg.worker_id)
                       : cluster_id.empty() ? cfg.name : cluster_id + "-" + cfg.name;
  if (!cfg.console_token.empty())
    ::setenv("TROUPE_CONSOLE_TOKEN", cfg.console_token.c_str(), 1); // local workers inherit it
  if (!cookie.file.empty())
    ::setenv(cookie_env, cookie.file.c_str(), 1); // and the cookie

  // Every actor of the node lives in one supervision tree (nodes/node_tree.hpp).
  auto root_def = make_node_tree(rt);
  actor_row root_row;
  root_row.name = root_def.name;
  root_row.type = "supervisor";
  root_row.kind = "supervisor";
  root_row.strategy = describe(root_def);
  root_row.state = "running";
  root_row.started_ms = wall_clock_ms();
  auto root_stats = std::make_shared<actor_stats>();
  auto root = caf::actor_cast<caf::actor>(
    spawn_supervisor(sys, std::move(root_def), rt->tree, root_stats));
  root_row.handle = root;
  rt->tree.registry->add(std::move(root_row), root_stats);
  auto& services = *rt->tree.services;
  caf::actor door; // published on the cluster port; outlives every ingress
  auto shutdown_tree = [&] {
    // Stops every actor of the node, children before their supervisors, in reverse start
    // order: the ingress first, the services (the log-roller last) at the end.
    caf::scoped_actor s{sys};
    s->monitor(root);
    caf::anon_send_exit(root, caf::exit_reason::user_shutdown);
    s->receive([](const caf::down_msg&) {},
               caf::after(cfg.shutdown_timeout + std::chrono::seconds(5)) >> [&] {
                 log->warn("the supervision tree did not stop in time");
               });
    if (door)
      caf::anon_send_exit(door, caf::exit_reason::user_shutdown);
  };
  // The tree starts its children asynchronously: wait (bounded) until every service runs.
  {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    auto want = expected_services(cfg);
    auto all_up = [&] {
      for (auto s : want)
        if (!services.get(s))
          return false;
      return true;
    };
    while (!all_up() && !stop->is_set() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (!all_up() && !stop->is_set()) {
      shutdown_tree();
      std::cerr << "troupe run: the node's services did not start within 10 s\n";
      return exit_code::software;
    }
  }
  auto membership_actor = services.get(service::membership);

  door = spawn_door(sys, rt->tree.services);
  links->set_door(door);
  // A link from another node out of step: this node's membership reports it, and the
  // coordinators evict the sender (README, The wire).
  links->set_on_desync([dir = rt->tree.services, me = cfg.name](const wire::hello& peer,
                                                                const std::string& reason) {
    if (auto m = dir->get(service::membership))
      caf::anon_send(m, frame{ms::encode(ms::link_fault{peer.name, reason, me})});
  });
  auto published = listen_links(sys, cfg.bind, cfg.cluster_port);
  if (!published) {
    shutdown_tree();
    return config_failure("--cluster-port: cannot listen on " + cfg.bind + ":"
                          + std::to_string(cfg.cluster_port) + ": "
                          + error_text(sys, published.error()));
  }
  uint16_t cluster_port = *published;
  // A coordinator of a group says it is at its own --peers entry: the address the others
  // know it by and take Raft messages from (a wildcard --bind would advertise the host name).
  links->set_identity(cfg.name,
                      coordinator && !group.members.empty()
                        ? advertised_address(group.members[group.self].host,
                                             group.members[group.self].port)
                        : advertised_address(cfg.bind, cluster_port),
                      coordinator);

  std::unique_ptr<http_status> http;
  uint16_t http_port = 0;
  if (cfg.http_port != 0) {
    uint16_t wanted = cfg.http_port > 0 ? static_cast<uint16_t>(cfg.http_port)
                      : cfg.cluster_port == 0 ? 0
                                              : static_cast<uint16_t>(cluster_port + 1);
    http = std::make_unique<http_status>(sys, rt->tree.services, rt->tree.registry);
    for (auto s : {service::router, service::inspector, service::bus, service::log_roller,
                   service::vnodes, service::jobs})
      http->add_metrics_source(s);
    http->set_console_token(cfg.console_token);
    if (auto problem = http->start(cfg.bind, wanted); !problem.empty()) {
      stop_links(sys);
      shutdown_tree();
      return config_failure(std::string{cfg.http_port > 0 ? "--http-port" : "--http-port (default: cluster port + 1)"}
                            + ": " + problem);
    }
    http_port = http->port();
  }

  log->info("node {} (pid {}) listening on {} as {}{}{}", cfg.name, getpid(),
            advertised_address(cfg.bind, cluster_port),
            coordinator ? "coordinator" : "", coordinator && worker ? " and " : "",
            worker ? "worker" : "");
  if (!cookie.file.empty()) // after the start-up checks: a refusal stays one line
    log->info("the cluster's cookie: {}{}", cookie.file, cookie.created ? " (made now)" : "");
  rt->cluster_port = cluster_port;
  rt->http_port = http_port;
  rt->started = true; // from now on, restarted services are started (and published) by the tree
  caf::anon_send(membership_actor, start_atom::value, cluster_port, http_port);
  if (auto raft = services.get(service::raft))
    caf::anon_send(raft, start_atom::value);

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
    lc.hung_grace = cfg.failure_timeout;
    lc.on_give_up = [stop](int code, const std::string& reason) { stop->request(code, reason); };
    auto dir = rt->tree.services;
    lc.down_pids = [&sys, dir] {
      std::vector<uint32_t> pids;
      auto m = dir->get(service::membership);
      if (!m)
        return pids;
      caf::scoped_actor s{sys};
      if (auto r = request_status(sys, s, m, std::chrono::seconds(1)))
        for (auto& m : r->members.members)
          if (m.state == ms::member_state::down)
            pids.push_back(m.pid);
      return pids;
    };
    supervisor = std::make_unique<local_supervisor>(std::move(lc));
    if (auto problem = supervisor->start(); !problem.empty())
      stop->request(exit_code::software, problem);
  }

  while (!stop->is_set()) {
    timespec wait{0, 100'000'000};
    int sig = sigtimedwait(&stop_signals, nullptr, &wait);
    if (sig == SIGTERM || sig == SIGINT)
      stop->request(exit_code::ok, std::string{"received SIG"} + sigabbrev_np(sig));
  }

  auto code = stop->code();
  if (code == exit_code::ok)
    log->info("stopping: {}", stop->reason());
  else
    log->error("stopping: {}", stop->reason());
  if (supervisor)
    supervisor->stop(); // workers leave the cluster before their coordinator goes
  // A graceful stop hands the node's work over first; a node that gives up (its tree past its
  // intensity, refused by the cluster) stops at once: its actors may be gone already.
  bool graceful = code == exit_code::ok;
  if (!coordinator && graceful) {
    if (auto m = services.get(service::membership)) {
      caf::scoped_actor s{sys};
      // A worker hands its vnodes over first (at most the agent's drain timeout, 5 s).
      s->request(m, std::chrono::milliseconds(8000), leave_atom::value)
        .receive([](bool) {}, [](const caf::error&) {});
    }
  }
  if (auto raft = graceful ? services.get(service::raft) : caf::actor{}) {
    // A leader hands over before it goes, so the cluster does not wait for an election.
    caf::scoped_actor s{sys};
    s->request(raft, std::chrono::seconds(2), leave_atom::value)
      .receive([&](bool handed) { log->debug("raft leave: {}", handed); },
               [](const caf::error&) {});
  }
  if (http)
    http->stop();
  stop_links(sys); // no new connections; those open close
  log->info("stopped");
  // The last lines go to stderr; the roller writes what it holds before the tree stops it.
  logging::stop_shipping();
  if (auto roller = services.get(service::log_roller)) {
    caf::scoped_actor s{sys};
    s->request(roller, std::chrono::seconds(2), metrics_atom::value)
      .receive([](const std::vector<std::string>&, const std::vector<uint64_t>&) {},
               [](const caf::error&) {});
  }
  shutdown_tree();
  if (code != exit_code::ok)
    std::cerr << "troupe run: " << stop->reason() << "\n";
  return code;
}

} // namespace troupe
