#include "nodes/http_pool.hpp"
#include "nodes/http_status.hpp"

#include "actors/api/main_worker.hpp"
#include "actors/inspect/actor_registry.hpp"
#include "actors/logging.hpp"
#include "actors/raft/raft_actor.hpp"
#include "actors/wall_clock.hpp"
#include "actors/wire.hpp"
#include "nodes/cluster_health.hpp"
#include "nodes/metrics_text.hpp"
#include "actors/link/process_links.hpp"
#include "nodes/remote_node.hpp"
#include "nodes/status_render.hpp"
#include "nodes/web_view.hpp"
#include "web_index_html.hpp"
#include "protocols/membership/codec.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <httplib.h>
#include <openssl/crypto.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <charconv>
#include <filesystem>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <cstring>
#include <thread>

namespace troupe {

namespace ms = membership;

struct http_status::impl {
  caf::actor_system& sys;
  std::shared_ptr<service_directory> services;
  std::vector<service> metric_sources;
  std::shared_ptr<const actor_registry> registry;  // the supervisors, for their restarts

  std::vector<actor_row> registry_rows() const {
    return registry ? registry->all() : std::vector<actor_row>{};
  }
  std::string console_token;  // empty: the web view is read-only
  httplib::Server server;
  std::thread thread;
  uint16_t port = 0;

  // The cluster's health: gathered from every node in the background, on demand, so that
  // GET /api/status stays fast when a member hangs (asking it costs up to the timeout).
  std::mutex health_mtx;
  std::condition_variable health_cv;
  std::optional<cluster_health> health;
  int64_t health_at_ms = 0;
  bool health_wanted = false;
  bool stopping = false;
  std::thread health_thread;

  impl(caf::actor_system& s, std::shared_ptr<service_directory> dir)
    : sys(s), services(std::move(dir)) {
  }

  /// The node's door: status, health and vnodes requests go where they would from outside.
  caf::actor node() const {
    return services->get(service::ingress);
  }

  std::optional<ms::status_reply> fetch_status(caf::scoped_actor& self, std::string* problem) {
    auto n = node();
    if (!n) {
      if (problem)
        *problem = "the node's ingress is restarting";
      return std::nullopt;
    }
    return request_status(sys, self, n, std::chrono::seconds(2), problem);
  }

  void health_loop() {
    std::unique_lock<std::mutex> lk{health_mtx};
    while (!stopping) {
      health_cv.wait_for(lk, std::chrono::seconds(1), [&] { return health_wanted || stopping; });
      if (stopping)
        break;
      if (!health_wanted)
        continue;
      health_wanted = false;
      lk.unlock();
      std::optional<cluster_health> fresh;
      {
        caf::scoped_actor self{sys};
        if (auto reply = fetch_status(self, nullptr))
          fresh = gather_health(sys, self, node(), *reply, std::chrono::milliseconds(500));
      }
      lk.lock();
      if (fresh) {
        health = std::move(fresh);
        health_at_ms = wall_clock_ms();
      }
    }
  }

  /// The last health gathered (and its age), asking for a fresh one when it is over 1 s old.
  std::optional<cluster_health> cached_health(int64_t& age_ms) {
    std::lock_guard<std::mutex> guard{health_mtx};
    age_ms = wall_clock_ms() - health_at_ms;
    if (!health || age_ms > 1000) {
      health_wanted = true;
      health_cv.notify_one();
    }
    return health;
  }

  /// Compares in time that does not depend on where the strings differ.
  static bool same_secret(const std::string& a, const std::string& b) {
    return !b.empty() && a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
  }

  static void answer_error(httplib::Response& res, int status, const std::string& problem) {
    res.status = status;
    res.set_content(nlohmann::json{{"error", problem}}.dump() + "\n", "application/json");
  }

  /// The /api/status object (health included), or nullopt with a 503 in `res`.
  std::optional<nlohmann::json> status_object(caf::scoped_actor& self, httplib::Response& res) {
    std::string problem = "bad status reply";
    auto reply = fetch_status(self, &problem);
    if (!reply) {
      answer_error(res, 503, problem);
      return std::nullopt;
    }
    auto j = status_json(*reply, wall_clock_ms());
    int64_t age = 0;
    if (auto h = cached_health(age)) {
      add_health(j, *h);
      j["cluster_health"]["age_ms"] = age;
    } else {
      j["cluster_health"] = {{"level", "unknown"},
                             {"reasons", {"being gathered from every node: ask again"}},
                             {"age_ms", nullptr}};
    }
    return j;
  }

  void serve_status(httplib::Response& res) {
    caf::scoped_actor self{sys};
    if (auto j = status_object(self, res)) {
      res.status = 200;
      res.set_content(j->dump(2) + "\n", "application/json");
    }
  }

  /// GET /api/view: everything the web view draws, asked with short timeouts so one slow
  /// member leaves its section empty (named under "problems") instead of stalling the page.
  void serve_view(httplib::Response& res) {
    caf::scoped_actor self{sys};
    auto status = status_object(self, res);
    if (!status)
      return;
    auto j = view_json(sys, self, node(), std::move(*status), std::chrono::milliseconds(800));
    j["actions"] = !console_token.empty();
    res.status = 200;
    res.set_content(j.dump() + "\n", "application/json");
  }

  /// POST /api/kill {"id"} and /api/migrations/retry {"id"}: refused (403) unless this node
  /// has a console token and X-Troupe-Token carries it; the node checks the token again.
  void serve_action(const httplib::Request& req, httplib::Response& res, bool kill) {
    if (console_token.empty())
      return answer_error(res, 403, "this node has no console token, so its web view is "
                                    "read-only: start it with --console-token to allow actions");
    if (!same_secret(req.get_header_value("X-Troupe-Token"), console_token))
      return answer_error(res, 403, "wrong or missing console token");
    auto body = nlohmann::json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object() || !body.value("id", nlohmann::json{}).is_string())
      return answer_error(res, 400, "the body must be a JSON object with a string \"id\"");
    auto id = body.at("id").get<std::string>();
    caf::scoped_actor self{sys};
    auto timeout = std::chrono::seconds(5);
    auto r = kill ? kill_actor(sys, self, node(), timeout, console_token, id, "killed from the web view")
                  : retry_migration(sys, self, node(), timeout, console_token, id);
    if (!r)
      return answer_error(res, r.code == 1 || r.code == 64 ? 400 : 503, r.problem);
    auto message = kill ? "killed " + id + ": its supervisor restarts it"
                        : "migration " + id + " runs again on the main worker";
    res.status = 200;
    res.set_content(nlohmann::json{{"message", message}, {"reply", r.value}}.dump() + "\n",
                    "application/json");
  }

  void serve_metrics(httplib::Response& res) {
    using metrics::family;
    std::vector<family> out;
    caf::scoped_actor self{sys};
    if (auto r = fetch_status(self, nullptr)) {
      family members{"troupe_members", "Members of the cluster by state, as this node sees them.",
                     "gauge", {}};
      for (auto s : {ms::member_state::joining, ms::member_state::up, ms::member_state::suspect,
                     ms::member_state::leaving, ms::member_state::down, ms::member_state::left}) {
        double n = 0;
        for (auto& m : r->members.members)
          n += m.state == s;
        members.samples.push_back({{{"state", ms::to_string(s)}}, n});
      }
      out.push_back(std::move(members));
      out.push_back({"troupe_bad_frames_total", "Frames this node rejected (malformed, too large).",
                     "counter", {{{}, static_cast<double>(r->bad_frames)}}});
      for (auto& m : r->members.members)
        if (m.name == r->answered_by && m.raft && !m.raft->role.empty()) {
          family role{"troupe_raft_role", "This coordinator's Raft role (1 for the current one).",
                      "gauge", {}};
          for (auto name : {"follower", "pre-candidate", "candidate", "leader"})
            role.samples.push_back({{{"role", name}}, m.raft->role == name ? 1.0 : 0.0});
          out.push_back(std::move(role));
          out.push_back({"troupe_raft_term", "This coordinator's Raft term.", "gauge",
                         {{{}, static_cast<double>(m.raft->term)}}});
          out.push_back({"troupe_raft_commit_index", "This coordinator's Raft commit index.",
                         "gauge", {{{}, static_cast<double>(m.raft->commit_index)}}});
        }
    }
    // Each source's counters and gauges; a name may carry labels ("metric;k1;v1;k2;v2").
    std::map<std::string, family> by_name;
    auto take = [&](const std::vector<std::string>& names, const std::vector<uint64_t>& values) {
      for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
        std::vector<std::string> parts;
        for (size_t a = 0;;) {
          auto b = names[i].find(';', a);
          parts.push_back(names[i].substr(a, b == std::string::npos ? b : b - a));
          if (b == std::string::npos)
            break;
          a = b + 1;
        }
        std::map<std::string, std::string> labels;
        for (size_t k = 1; k + 1 < parts.size(); k += 2)
          labels[parts[k]] = parts[k + 1];
        auto& name = parts.front();
        auto& f = by_name[name];
        f.name = name;
        bool counter = name.size() > 6 && name.compare(name.size() - 6, 6, "_total") == 0;
        f.type = counter ? "counter" : "gauge";
        f.help = help_of(name);
        f.samples.push_back({labels, static_cast<double>(values[i])});
      }
    };
    std::vector<caf::actor> sources;
    for (auto s : metric_sources)
      if (auto a = services->get(s))
        sources.push_back(a);
    // Every supervisor counts the restarts of its children.
    for (auto& row : registry_rows())
      if (row.kind == "supervisor" && row.handle)
        sources.push_back(row.handle);
    for (auto& src : sources)
      self->request(src, std::chrono::seconds(2), metrics_atom::value)
        .receive([&](const std::vector<std::string>& names,
                     const std::vector<uint64_t>& values) { take(names, values); },
                 [](const caf::error&) {});
    // A coordinator: the job queues, as the leader has them.
    if (auto raft = services->get(service::raft))
      self->request(raft, std::chrono::seconds(2), jobs_view_atom::value, std::string{}, std::string{})
        .receive([&](const std::string& text) { take_queues(text, take); },
                 [](const caf::error&) {});
    for (auto& [name, f] : by_name)
      out.push_back(std::move(f));
    auto proc = metrics::read_process_stats();
    out.push_back({"troupe_process_resident_memory_bytes", "Resident memory of this process.",
                   "gauge", {{{}, static_cast<double>(proc.rss_bytes)}}});
    out.push_back({"troupe_log_lines_stderr_total",
                   "Log lines written to stderr because the log-roller was unreachable.", "counter",
                   {{{}, static_cast<double>(logging::stderr_lines())}}});
    out.push_back({"troupe_log_lines_dropped_total",
                   "Log lines that waited for an unreachable log-roller too long (past 10,000) "
                   "and are not in the log file.",
                   "counter", {{{}, static_cast<double>(logging::dropped_lines())}}});
    out.push_back({"troupe_main_worker", "1 on the cluster's main worker, 0 elsewhere.", "gauge",
                   {{{}, is_main_worker() ? 1.0 : 0.0}}});
    out.push_back({"troupe_process_threads", "Threads of this process.", "gauge",
                   {{{}, static_cast<double>(proc.threads)}}});
    add_link_metrics(link_context_of(sys)->stats, out);
    res.status = 200;
    res.set_content(metrics::render(out), "text/plain; version=0.0.4; charset=utf-8");
  }

  /// The transport's counters (actors/link).
  static void add_link_metrics(const link_stats& st, std::vector<metrics::family>& out) {
    auto v = [](const std::atomic<uint64_t>& a) {
      return static_cast<double>(a.load(std::memory_order_relaxed));
    };
    metrics::family refused{"troupe_link_refused_total",
                   "Connections closed and frames refused by the transport, by reason.",
                   "counter", {}};
    for (size_t i = 1; i < link_stats::reasons; ++i) {
      auto name = wire::to_string(static_cast<wire::wire_errc>(i));
      if (std::string{name} != "unknown")
        refused.samples.push_back({{{"reason", name}}, v(st.refused[i])});
    }
    out.push_back(std::move(refused));
    out.push_back({"troupe_link_connections", "Connections of this node, by state.", "gauge",
                   {{{{"state", "established"}}, v(st.established)},
                    {{{"state", "awaiting_hello"}}, v(st.pending)}}});
    out.push_back({"troupe_link_frames_total", "Frames sent and received.", "counter",
                   {{{{"direction", "in"}}, v(st.frames_in)},
                    {{{"direction", "out"}}, v(st.frames_out)}}});
    out.push_back({"troupe_link_unsupported_total",
                   "Messages of a type the receiving release does not know: received here "
                   "(in) or answered so by a peer (out).",
                   "counter",
                   {{{{"direction", "in"}}, v(st.unsupported_in)},
                    {{{"direction", "out"}}, v(st.unsupported_out)}}});
    out.push_back({"troupe_link_late_answers_total",
                   "Answers that came after their request was no longer waited for.", "counter",
                   {{{}, v(st.late_answers)}}});
  }

  /// The queues of a jobs view as gauges per queue (take's names and values).
  template <class Take>
  static void take_queues(const std::string& text, Take& take) {
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded())
      return;
    std::vector<std::string> names;
    std::vector<uint64_t> values;
    for (auto& q : j.value("queues", nlohmann::json::array())) {
      auto label = ";queue;" + q.value("name", "");
      for (auto* what : {"pending", "running", "done", "dead"}) {
        names.push_back(std::string{"troupe_jobs_queue_"} + what + label);
        values.push_back(q.value(what, uint64_t{0}));
      }
      names.push_back("troupe_jobs_queue_oldest_pending_ms" + label);
      values.push_back(static_cast<uint64_t>(q.value("oldest_pending_age_ms", int64_t{0})));
    }
    take(names, values);
  }

  static std::string help_of(const std::string& name) {
    static const std::map<std::string, std::string> help{
      {"troupe_instances", "Running instances of each deployment on this node."},
      {"troupe_bus_published_total", "Broadcasts published on this node."},
      {"troupe_bus_persisted_total", "Broadcasts published on this node and committed through Raft."},
      {"troupe_bus_delivered_total", "Broadcasts handed to subscribers on this node."},
      {"troupe_bus_dropped_total",
       "Broadcasts (not persisted) from this node that did not reach a member: down or unreachable."},
      {"troupe_bus_persist_failed_total", "Persisted broadcasts that could not be committed."},
      {"troupe_bus_subscriptions", "Subscriptions on this node's bus."},
      {"troupe_jobs_started_total", "Job attempts this worker started."},
      {"troupe_jobs_succeeded_total", "Job attempts on this worker whose handler succeeded."},
      {"troupe_jobs_failed_total", "Job attempts on this worker that failed (error, exit, timeout)."},
      {"troupe_jobs_fenced_total", "Job attempts on this worker taken back while they ran or after."},
      {"troupe_jobs_refused_total", "Results of this worker the cluster refused: the attempt had been taken back."},
      {"troupe_jobs_running", "Job attempts running on this worker."},
      {"troupe_jobs_queue_pending", "Jobs of each queue waiting to run (the leader's table)."},
      {"troupe_jobs_queue_running", "Jobs of each queue running on a worker."},
      {"troupe_jobs_queue_done", "Jobs of each queue done."},
      {"troupe_jobs_queue_dead", "Dead letters of each queue: jobs that failed max-attempts times."},
      {"troupe_jobs_queue_oldest_pending_ms", "Age of each queue's oldest pending job."},
      {"troupe_log_lines_written_total", "Lines the log-roller wrote to the log file."},
      {"troupe_log_bytes_written_total", "Bytes the log-roller wrote to the log file."},
      {"troupe_log_rotations_total", "Rotations of the log file."},
      {"troupe_log_write_errors_total", "Failed writes or rotations of the log file."},
      {"troupe_actor_messages_handled_total",
       "Messages handled by the user actors of this node (instances and spawned), by type."},
      {"troupe_actor_mailbox_size", "Messages waiting in the mailboxes of this node's user actors, by type."},
      {"troupe_actor_restarts_total", "Restarts of this node's user actors by their supervisor, by type."},
      {"troupe_events_delivered_total", "Events handed to instances on this node."},
      {"troupe_handoff_buffered_events", "Events waiting for a vnode's state to arrive."},
      {"troupe_handoff_buffer_refused_total", "Events refused because a handoff buffer was full."},
      {"troupe_vnode_handoffs_sent_total", "Instance states handed to a vnode's new owner."},
      {"troupe_vnode_handoffs_received_total", "Instance states received from a vnode's old owner."},
      {"troupe_duplicates_skipped_total", "At-least-once events skipped as already handled."},
      {"troupe_fenced", "1 while this worker has fenced its vnodes (lost its coordinator)."},
      {"troupe_events_routed_total", "Events routed by this node."},
      {"troupe_events_rejected_total", "Events this node refused to route."},
      {"troupe_events_dropped_total",
       "At-most-once events sent without a reply (troupe::send) that no instance took."},
      {"troupe_delivery_retries_total", "At-least-once event groups sent again after a failure."},
      {"troupe_delivery_retry_queue", "At-least-once event groups waiting to be sent again."},
      {"troupe_supervisor_restarts_total",
       "Restarts of each child by its supervisor in the node's supervision tree."},
    };
    auto it = help.find(name);
    return it == help.end() ? name : it->second;
  }
};

http_status::http_status(caf::actor_system& sys, std::shared_ptr<service_directory> services,
                         std::shared_ptr<const actor_registry> registry)
  : impl_(std::make_unique<impl>(sys, std::move(services))) {
  impl_->registry = std::move(registry);
}

void http_status::set_console_token(std::string token) {
  impl_->console_token = std::move(token);
}

void http_status::add_metrics_source(service source) {
  impl_->metric_sources.push_back(source);
}

http_status::~http_status() {
  stop();
}

namespace {

/// httplib listens with a backlog of 5: a burst of connections (idle ones included) left new
/// clients waiting for TCP's one-second retransmission. This finds the listening socket on
/// `port` (httplib does not expose it) and listens again with the system's largest backlog.
void raise_backlog(uint16_t port) {
  std::error_code ec;
  for (auto& entry : std::filesystem::directory_iterator{"/proc/self/fd", ec}) {
    int fd = 0;
    auto name = entry.path().filename().string();
    if (std::from_chars(name.data(), name.data() + name.size(), fd).ec != std::errc{})
      continue;
    int listening = 0;
    socklen_t len = sizeof(listening);
    sockaddr_storage addr{};
    socklen_t alen = sizeof(addr);
    if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening
        || ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &alen) != 0)
      continue;
    uint16_t bound = 0;
    if (addr.ss_family == AF_INET)
      bound = ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
    else if (addr.ss_family == AF_INET6)
      bound = ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
    if (bound == port)
      ::listen(fd, SOMAXCONN);
  }
}

} // namespace

std::string http_status::start(const std::string& host, uint16_t port) {
  auto* p = impl_.get();
  p->health_thread = std::thread{[p] { p->health_loop(); }};
  p->server.Get("/api/status",
                [p](const httplib::Request&, httplib::Response& res) { p->serve_status(res); });
  p->server.Get("/metrics",
                [p](const httplib::Request&, httplib::Response& res) { p->serve_metrics(res); });
  p->server.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(web_index_html, "text/html; charset=utf-8");
  });
  p->server.Get("/api/view",
                [p](const httplib::Request&, httplib::Response& res) { p->serve_view(res); });
  p->server.Post("/api/kill", [p](const httplib::Request& req, httplib::Response& res) {
    p->serve_action(req, res, true);
  });
  p->server.Post("/api/migrations/retry", [p](const httplib::Request& req, httplib::Response& res) {
    p->serve_action(req, res, false);
  });
  // httplib's default options add SO_REUSEPORT, which lets a second node bind a port that is
  // in use and silently share it. SO_REUSEADDR alone allows a quick restart and nothing more.
  p->server.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  // Idle connections must not hold the endpoint: each waits on a thread of its own (up to
  // 1024 at once) and is closed after 2 s without a request; a request has 2 s to arrive
  // whole and its answer 5 s to leave.
  p->server.new_task_queue = [] { return new http_pool(1024); };
  p->server.set_keep_alive_timeout(2);
  p->server.set_keep_alive_max_count(100);
  p->server.set_read_timeout(2, 0);
  p->server.set_write_timeout(5, 0);
  if (port == 0) {
    auto bound = p->server.bind_to_any_port(host);
    if (bound <= 0)
      return "cannot listen on " + host + ": " + std::strerror(errno);
    p->port = static_cast<uint16_t>(bound);
  } else {
    if (!p->server.bind_to_port(host, port))
      return host + ":" + std::to_string(port) + " is not available ("
             + std::strerror(errno ? errno : EADDRINUSE) + ")";
    p->port = port;
  }
  raise_backlog(p->port);
  p->thread = std::thread{[p] { p->server.listen_after_bind(); }};
  logging::get("http")->info("serving the web view, /api/status and /metrics on http://{}:{}", host, p->port);
  return {};
}

uint16_t http_status::port() const {
  return impl_->port;
}

void http_status::stop() {
  if (!impl_)
    return;
  {
    std::lock_guard<std::mutex> guard{impl_->health_mtx};
    impl_->stopping = true;
  }
  impl_->health_cv.notify_all();
  if (impl_->health_thread.joinable())
    impl_->health_thread.join();
  if (!impl_->thread.joinable())
    return;
  impl_->server.stop();
  impl_->thread.join();
}

} // namespace troupe
