#include "actors/link/process_links.hpp"

#include "actors/link/cookie.hpp"
#include "actors/logging.hpp"

#include <caf/scoped_actor.hpp>

#include <stdexcept>

namespace troupe {

namespace {

process_links& links_of(caf::actor_system& sys) {
  auto* cfg = dynamic_cast<const troupe_system_config*>(&sys.config());
  if (cfg == nullptr)
    throw std::logic_error("an actor system without Troupe's links (use troupe_system_config)");
  return *cfg->links;
}

link_context_ptr context_locked(process_links& l) {
  if (!l.ctx) {
    l.ctx = std::make_shared<link_context>(link_settings{}, logging::get("link"));
    // A client speaks TLS when it is given its files ($TROUPE_TLS_CA, _CERT, _KEY).
    auto files = tls_files_from_env();
    if (files.enabled()) {
      std::string problem;
      auto tls = make_tls_context(files, problem);
      if (!tls)
        throw std::runtime_error("TLS ($TROUPE_TLS_CA, $TROUPE_TLS_CERT, $TROUPE_TLS_KEY): "
                                 + problem);
      l.ctx->set_tls(std::move(tls));
    } else { // without TLS, the cluster's cookie, when this client has one
      std::string problem;
      auto cookie = client_cookie(problem);
      if (!problem.empty())
        throw std::runtime_error(std::string{"$"} + cookie_env + ": " + problem);
      l.ctx->set_cookie(std::move(cookie));
    }
  }
  return l.ctx;
}

} // namespace

troupe_system_config::troupe_system_config() {
  // CAF's work-stealing threads poll for work before they sleep: 100 tries, then 500 more
  // 50 us apart (25 ms of wake-ups after every message), then wait on a condition variable
  // that a message from outside the scheduler signals, stealing from the other threads every
  // 10 ms. A node gets a message every few tens of milliseconds (Raft ticks, heartbeats), so
  // its threads never stopped polling: an idle local cluster used 20% of a core for the
  // coordinator and 8% per worker. Without the 50 us stage an idle thread sleeps at once and
  // steals every 100 ms; on 2 cores the polling had also taken CPU from the threads with work
  // (scripts/bench/idle.sh, and send throughput and KV latency in docs/running.md).
  // The first stage, polling without a pause, runs 3,000 tries instead of 100 (a few tens of
  // microseconds): a burst of work from one actor (spawning 100,000 actors, say) then finds
  // the other thread still awake instead of waking it for every piece: spawns 174k -> ~250k/s
  // (scripts/bench/scale.sh), while idle nodes and the event path measured the same.
  set("work-stealing.moderate-poll-attempts", size_t{0});
  set("work-stealing.aggressive-poll-attempts", size_t{3000});
  set("work-stealing.relaxed-sleep-duration", caf::timespan{std::chrono::milliseconds(100)});
}

troupe_system::~troupe_system() {
  stop_links(*this);
}

void install_link_context(caf::actor_system& sys, link_context_ptr ctx) {
  auto& l = links_of(sys);
  std::lock_guard<std::mutex> g{l.mtx};
  l.ctx = std::move(ctx);
}

link_context_ptr link_context_of(caf::actor_system& sys) {
  auto& l = links_of(sys);
  std::lock_guard<std::mutex> g{l.mtx};
  return context_locked(l);
}

caf::actor link_connector_of(caf::actor_system& sys) {
  auto& l = links_of(sys);
  std::lock_guard<std::mutex> g{l.mtx};
  if (!l.connector)
    l.connector = spawn_link_connector(sys, context_locked(l));
  return l.connector;
}

caf::expected<uint16_t> listen_links(caf::actor_system& sys, const std::string& bind,
                                     uint16_t port) {
  auto& l = links_of(sys);
  std::lock_guard<std::mutex> g{l.mtx};
  caf::actor listener;
  auto res = link_listen(sys, context_locked(l), bind, port, &listener);
  if (res)
    l.listener = listener;
  return res;
}

void stop_links(caf::actor_system& sys) {
  auto& l = links_of(sys);
  caf::actor listener;
  caf::actor connector;
  {
    std::lock_guard<std::mutex> g{l.mtx};
    listener = std::move(l.listener);
    connector = std::move(l.connector);
    l.listener = nullptr;
    l.connector = nullptr;
  }
  caf::scoped_actor self{sys, true};
  size_t waiting = 0;
  for (auto& a : {listener, connector})
    if (a) {
      self->monitor(a);
      self->send_exit(a, caf::exit_reason::user_shutdown);
      ++waiting;
    }
  for (; waiting > 0; --waiting)
    self->receive([](const caf::down_msg&) {},
                  caf::after(std::chrono::seconds(2)) >> [&] { waiting = 1; });
}

} // namespace troupe
