#include "actors/supervision/service_errc.hpp"
#include "actors/membership_agent.hpp"

#include "actors/api/counted_actor.hpp"
#include "actors/bus/bus_actor.hpp"
#include "actors/kv_relay.hpp"
#include "actors/log_roller.hpp"
#include "actors/handlers.hpp"
#include "actors/logging.hpp"
#include "actors/reply.hpp"
#include "actors/workload_pull.hpp"
#include "actors/vnodes/vnodes.hpp"
#include "actors/wall_clock.hpp"
#include "actors/wire.hpp"
#include "protocols/membership/codec.hpp"
#include "protocols/supervision/backoff.hpp"

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/io/middleman_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <spdlog/spdlog.h>

#include <optional>
#include <random>

namespace troupe {

namespace ms = membership;

namespace {

using drain_poll_atom = caf::atom_constant<caf::atom("ag_drain")>;
using roller_retry_atom = caf::atom_constant<caf::atom("ag_roller")>;

enum class link_state : uint8_t { disconnected, connecting, joining, up };

const char* to_string(link_state s) {
  switch (s) {
    case link_state::disconnected:
      return "disconnected";
    case link_state::connecting:
      return "connecting";
    case link_state::joining:
      return "joining";
    case link_state::up:
      return "up";
  }
  return "?";
}

struct agent_state {
  membership_agent_config cfg;
  owed_promises owed;  // requests relayed to the coordinator, answered as the agent exits
  std::shared_ptr<spdlog::logger> log = logging::get("membership");
  link_state state = link_state::disconnected;
  caf::actor coordinator;
  endpoint coordinator_ep;
  size_t next_endpoint = 0;
  uint64_t incarnation = 0;
  uint64_t generation = 0;   // bumped on every (re)connect: replies of older links are ignored
  std::string cluster_id;
  time_point last_ack{};   // when the last answered heartbeat (or the join) was sent
  time_point join_sent{};
  std::optional<supervision::backoff> backoff;
  std::minstd_rand rng;
  std::optional<ms::view> cached_view;
  uint64_t bad_frames = 0;
  uint32_t failed_attempts = 0;
  bool started = false;
  // A graceful stop in progress: leaving, until the vnode host has handed everything over.
  std::optional<caf::response_promise> leave_rp;
  time_point drain_deadline{};
  // The last workload and bus head pushed, for services that restart (workload_pull_atom).
  uint64_t workload_version = 0;
  std::string workload;
  uint64_t bus_head = 0;
  caf::actor roller;  // the coordinator (its door), while lines are shipped to its log-roller

  static inline const char* name = "troupe.membership_agent";
};

// Besides its interface, the agent tells itself to retry a join, to tick (heartbeats), to look
// for the coordinator's log-roller again, to poll a graceful stop's drain, and to end it.
using agent_impl = membership_agent_actor::extend<
  caf::reacts_to<retry_atom, uint64_t>, caf::reacts_to<tick_atom>,
  caf::reacts_to<roller_retry_atom, uint64_t>, caf::reacts_to<drain_poll_atom>,
  caf::reacts_to<leave_atom, bool>>;
using agent_class = agent_impl::stateful_base<agent_state>;
using agent_ptr = agent_class*;

double jitter(agent_state& st) {
  return std::uniform_real_distribution<double>{0.0, 1.0}(st.rng);
}

/// Drops the current link and schedules the next join attempt after `delay`. The generation
/// bump makes late replies and timers of the old link harmless.
/// True while joined and the coordinator's door is known (not while reattaching).
bool linked(const agent_state& st) {
  return st.state == link_state::up && st.coordinator;
}

/// The worker's lease: the failure timeout's two thirds from the last answered heartbeat.
duration lease_of(const agent_state& st) {
  return st.cfg.failure_timeout * 2 / 3;
}

void renew_lease(agent_state& st) {
  if (st.cfg.services)
    st.cfg.services->lease().renew_until(st.last_ack + lease_of(st));
}

void disconnect(agent_ptr self, duration delay) {
  auto& st = self->state;
  if (st.cfg.services)
    st.cfg.services->lease().revoke();
  // Whatever ended the link, this worker's vnodes may be given away: stop serving them.
  if (st.state == link_state::up)
    if (auto host = lookup_as<vnodes_actor>(self->state.cfg.services, service::vnodes))
      self->send(host, fence_atom::value);
  if (st.coordinator && st.state == link_state::up)
    self->demonitor(st.coordinator);
  st.state = link_state::disconnected;
  st.coordinator = nullptr;
  if (st.cfg.ship_logs) {
    logging::ship_to(caf::actor{}); // to stderr, counted, until the roller is back
    st.roller = nullptr; // the coordinator's door: watched as the coordinator
  }
  auto gen = ++st.generation;
  self->delayed_send(self, delay, retry_atom::value, gen);
}

void retry_later(agent_ptr self, const std::string& reason) {
  auto& st = self->state;
  auto delay = st.backoff->next(jitter(st));
  disconnect(self, delay);
  // The first failure is news; repeating it every few seconds is noise.
  auto lvl = ++st.failed_attempts == 1 || st.failed_attempts % 10 == 0 ? spdlog::level::warn
                                                                      : spdlog::level::debug;
  st.log->log(lvl, "cannot join via {} (attempt {}): {}; retrying in {} ms",
              st.coordinator_ep.to_string(), st.failed_attempts, reason,
              std::chrono::duration_cast<milliseconds>(delay).count());
}

void lost(agent_ptr self, const std::string& reason) {
  auto& st = self->state;
  st.log->warn("lost coordinator {}: {}", st.coordinator_ep.to_string(), reason);
  disconnect(self, st.backoff->next(jitter(st)));
}

void send_heartbeat(agent_ptr self);

/// The coordinator's door (its ingress) exited while the connection stayed: its supervisor
/// publishes a new one on the same port. This worker looks it up again and carries on with its
/// incarnation and lease; heartbeats that fail meanwhile are judged on the tick as usual.
void reattach(agent_ptr self, const std::string& why) {
  auto& st = self->state;
  st.log->info("the ingress of coordinator {} exited ({}): looking it up again",
               st.coordinator_ep.to_string(), why);
  st.coordinator = nullptr;
  auto gen = st.generation;
  self
    ->request(st.cfg.resolver, st.cfg.connect_timeout, caf::connect_atom::value,
              st.coordinator_ep.host, st.coordinator_ep.port)
    .then(
      [self, gen](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>&) {
        auto& st = self->state;
        if (gen != st.generation || st.state != link_state::up)
          return;
        auto a = caf::actor_cast<caf::actor>(ptr);
        if (!a)
          return lost(self, "nothing is published at the coordinator any more");
        st.coordinator = a;
        self->monitor(a);
        send_heartbeat(self);
      },
      [self, gen](const caf::error& err) {
        if (gen == self->state.generation && self->state.state == link_state::up)
          lost(self, "cannot reach it again: " + self->system().render(err));
      });
}

/// The cluster evicted this node (a link from it went out of step): it stops, exit 75.
void evicted(agent_ptr self, const std::string& reason) {
  auto& st = self->state;
  st.log->error("evicted by the cluster: {}", reason);
  ++st.generation; // no more heartbeats or joins from this process
  if (st.cfg.on_evicted)
    st.cfg.on_evicted(reason);
}

/// Lines go to the coordinator's log-roller, the one writer of the host's log file, through
/// the coordinator's door (which writes them to its stderr while its roller restarts). When
/// the coordinator is lost, lines go to stderr (counted) until it is back.
void find_roller(agent_ptr self, uint64_t gen) {
  auto& st = self->state;
  self->request(st.coordinator, std::chrono::seconds(5), log_roller_atom::value)
    .then(
      [self, gen](bool has_roller) {
        auto& st = self->state;
        if (gen != st.generation || st.state != link_state::up)
          return;
        if (!has_roller) {
          // The coordinator's roller is restarting (or there is none): ask again later.
          self->delayed_send(self, milliseconds(500), roller_retry_atom::value, gen);
          return;
        }
        // Lines go to the coordinator's door, which hands them to its roller (watched with
        // the coordinator itself).
        st.roller = st.coordinator;
        logging::ship_to(st.roller);
      },
      [self](const caf::error& err) {
        self->state.log->warn("no log-roller at the coordinator ({}): logging to stderr",
                              self->system().render(err));
      });
}

void on_join_reply(agent_ptr self, uint64_t gen, const frame& f) {
  auto& st = self->state;
  if (gen != st.generation || st.state != link_state::joining)
    return;
  ms::decoded msg;
  if (auto err = ms::decode(f.bytes, msg); err != ms::codec_errc::none) {
    ++st.bad_frames;
    retry_later(self, std::string{"bad reply to join: "} + ms::to_string(err));
    return;
  }
  if (auto* ev = std::get_if<ms::evicted>(&msg.body))
    return evicted(self, ev->reason);
  if (auto* rej = std::get_if<ms::join_rejected>(&msg.body)) {
    if (rej->permanent && st.cfg.on_refused) {
      st.log->error("the cluster refused this node: {}", rej->reason);
      st.state = link_state::disconnected;
      ++st.generation; // no more attempts
      st.cfg.on_refused(rej->reason);
      return;
    }
    retry_later(self, "refused: " + rej->reason);
    return;
  }
  auto* acc = std::get_if<ms::join_accepted>(&msg.body);
  if (!acc) {
    ++st.bad_frames;
    retry_later(self, "unexpected reply to join");
    return;
  }
  st.incarnation = acc->incarnation;
  st.cluster_id = acc->cluster_id;
  if (st.cfg.services)
    st.cfg.services->lease().set_incarnation(acc->incarnation);
  st.state = link_state::up;
  st.last_ack = st.join_sent; // the lease runs from when the accepted join left
  renew_lease(st);
  st.backoff->reset();
  st.failed_attempts = 0;
  self->monitor(st.coordinator);
  st.log->info("joined cluster {} via {} as incarnation {}", st.cluster_id,
               st.coordinator_ep.to_string(), st.incarnation);
  if (st.cfg.ship_logs)
    find_roller(self, gen);
  send_heartbeat(self);
}

void attempt_join(agent_ptr self) {
  auto& st = self->state;
  if (st.cfg.coordinators.empty())
    return;
  st.coordinator_ep = st.cfg.coordinators[st.next_endpoint++ % st.cfg.coordinators.size()];
  st.state = link_state::connecting;
  auto gen = ++st.generation;
  self
    ->request(st.cfg.resolver, st.cfg.connect_timeout, caf::connect_atom::value,
              st.coordinator_ep.host, st.coordinator_ep.port)
    .then(
      [self, gen](const caf::node_id&, caf::strong_actor_ptr& ptr,
                  const std::set<std::string>&) {
        auto& st = self->state;
        if (gen != st.generation)
          return;
        if (!ptr) {
          retry_later(self, "no actor is published there");
          return;
        }
        st.coordinator = caf::actor_cast<caf::actor>(ptr);
        st.state = link_state::joining;
        st.join_sent = self->clock().now();
        self
          ->request(st.coordinator, st.cfg.connect_timeout,
                    frame{ms::encode(ms::join_request{st.cfg.self, st.cfg.vnodes})})
          .then([self, gen](const frame& f) { on_join_reply(self, gen, f); },
                [self, gen](const caf::error& err) {
                  if (gen == self->state.generation)
                    retry_later(self, "join: " + self->system().render(err));
                });
      },
      [self, gen](const caf::error& err) {
        if (gen == self->state.generation)
          retry_later(self, self->system().render(err));
      });
}

void send_heartbeat(agent_ptr self) {
  auto& st = self->state;
  if (!st.coordinator)
    return; // looking up its new ingress (reattach)
  auto gen = st.generation;
  auto sent = self->clock().now();
  self
    ->request(st.coordinator, st.cfg.failure_timeout,
              frame{ms::encode(ms::heartbeat{st.cfg.self.name, st.incarnation})})
    .then(
      [self, gen, sent](const frame& f) {
        auto& st = self->state;
        if (gen != st.generation || st.state != link_state::up)
          return;
        ms::decoded msg;
        auto* ack = ms::decode(f.bytes, msg) == ms::codec_errc::none
                      ? std::get_if<ms::heartbeat_ack>(&msg.body)
                      : nullptr;
        if (auto* ev = std::get_if<ms::evicted>(&msg.body))
          return evicted(self, ev->reason);
        if (!ack) {
          ++st.bad_frames;
          st.log->warn("bad heartbeat reply from {}", st.coordinator_ep.to_string());
          return;
        }
        // The lease runs from when the answered heartbeat left: the coordinator vouched for
        // this worker no earlier than that (protocols/ownership/lease.hpp).
        st.last_ack = std::max(st.last_ack, sent);
        renew_lease(st);
        if (ack->rejoin) {
          st.log->info("coordinator no longer knows incarnation {}: joining again",
                       st.incarnation);
          disconnect(self, duration{0});
        }
      },
      [](const caf::error&) {
        // Silence is judged on the tick, by the time since the last ack.
      });
}

ms::status_reply status_of(agent_state& st) {
  ms::status_reply r;
  if (st.cached_view) {
    r.members = *st.cached_view;
  } else {
    auto me = st.cfg.self;
    me.state = ms::member_state::joining;
    r.members.members.push_back(me);
  }
  r.answered_by = st.cfg.self.name;
  if (st.state != link_state::up) {
    r.node_health.level = "yellow";
    r.node_health.reasons.push_back(std::string{"not connected to a coordinator ("}
                                    + to_string(st.state) + ")");
  }
  r.bad_frames = st.bad_frames;
  return r;
}

/// Answers a status request with the coordinator's live status (its Raft state included)
/// under this worker's name and health, or with the cached view when it does not answer.
void answer_status(agent_ptr self) {
  auto& st = self->state;
  if (!linked(st) || !self->current_message_id().is_request())
    return reply(self, frame{ms::encode(status_of(st))});
  auto rp = self->make_response_promise();
  self->request(st.coordinator, milliseconds(1000), frame{ms::encode(ms::status_request{})})
    .then(
      [self, rp](const frame& f) mutable {
        auto own = status_of(self->state);
        ms::decoded msg;
        if (ms::decode(f.bytes, msg) == ms::codec_errc::none)
          if (auto* r = std::get_if<ms::status_reply>(&msg.body)) {
            own.members = std::move(r->members);
            own.main_worker = std::move(r->main_worker);
          }
        rp.deliver(frame{ms::encode(own)});
      },
      [self, rp](const caf::error&) mutable {
        rp.deliver(frame{ms::encode(status_of(self->state))});
      });
}

/// Tells the coordinator this worker leaves for good, and drops the link.
void finish_leave(agent_ptr self, caf::response_promise rp) {
  auto& st = self->state;
  auto coordinator = st.coordinator;
  if (!coordinator) {
    rp.deliver(false);
    return;
  }
  self->demonitor(coordinator);
  ++st.generation; // no more heartbeats or rejoins after this
  st.state = link_state::disconnected;
  st.coordinator = nullptr;
  self
    ->request(coordinator, milliseconds(1000),
              frame{ms::encode(ms::leave{st.cfg.self.name, st.incarnation})})
    .then(
      [self, rp](const frame&) mutable {
        self->state.log->info("left the cluster");
        rp.deliver(true);
      },
      [self, rp](const caf::error& err) mutable {
        self->state.log->warn("leave not confirmed: {}", self->system().render(err));
        rp.deliver(false);
      });
}

/// The link's periodic check: the lease (give the link up, and fence the vnodes, before the
/// coordinators, which wait the whole failure timeout, can declare this worker down), then a
/// heartbeat.
void on_tick(agent_ptr self) {
  auto& st = self->state;
  if (st.cfg.is_orphaned && st.cfg.is_orphaned()) {
    if (st.cfg.on_fatal)
      st.cfg.on_fatal("the supervising coordinator process is gone");
    st.cfg.is_orphaned = nullptr; // report once
  }
  auto now = self->clock().now();
  // Joining is driven by retry timers; connecting and joining are bounded by their request
  // timeouts. The tick only keeps an established link alive.
  if (st.state == link_state::up) {
    if (now - st.last_ack >= lease_of(st))
      lost(self, "no heartbeat answer for "
                   + std::to_string(
                     std::chrono::duration_cast<milliseconds>(now - st.last_ack).count())
                   + " ms");
    else
      send_heartbeat(self);
  }
  self->delayed_send(self, st.cfg.heartbeat_interval, tick_atom::value);
}

/// A frame from the coordinator (views, workloads, bus heads) or a status request.
void on_frame(agent_ptr self, const frame& f) {
  auto& st = self->state;
  ms::decoded msg;
  if (auto err = ms::decode(f.bytes, msg); err != ms::codec_errc::none) {
    ++st.bad_frames;
    st.log->warn("rejected a frame: {}", ms::to_string(err));
    return reply_error(self, caf::make_error(service_errc::malformed, ms::to_string(err)));
  }
  if (auto* v = std::get_if<ms::view>(&msg.body)) {
    if (!st.cached_view || v->version >= st.cached_view->version
        || v->cluster_id != st.cached_view->cluster_id)
      st.cached_view = std::move(*v);
    return;
  }
  if (std::holds_alternative<ms::status_request>(msg.body))
    return answer_status(self);
  if (std::holds_alternative<ms::link_fault>(msg.body)) {
    // Found by this node's transport: the coordinators decide.
    if (st.coordinator)
      caf::anon_send(caf::actor_cast<caf::actor>(st.coordinator), f);
    else
      st.log->warn("a desynchronized link and no coordinator to report it to");
    return;
  }
  if (auto* ev = std::get_if<ms::evicted>(&msg.body))
    return evicted(self, ev->reason);
  if (auto* h = std::get_if<ms::bus_head>(&msg.body)) {
    st.bus_head = std::max(st.bus_head, h->head);
    if (auto bus = lookup_as<bus_actor>(self->state.cfg.services, service::bus))
      self->send(bus, bus_head_atom::value, h->head);
    return;
  }
  if (auto* w = std::get_if<ms::workload>(&msg.body)) {
    if (w->version >= st.workload_version) {
      st.workload_version = w->version;
      st.workload = w->state;
    }
    for (auto s : {service::router, service::bus, service::migrator, service::vnodes})
      if (auto a = lookup_as<caf::typed_actor<workload_sig>>(self->state.cfg.services, s))
        self->send(a, workload_atom::value, w->version, w->state);
    return;
  }
  ++st.bad_frames;
  st.log->warn("rejected a frame: unexpected message type for a worker");
  reply_error(self, caf::make_error(service_errc::malformed, "unexpected message type"));
}

/// A graceful stop, step one: become `leaving`, so that the vnodes move away (with their
/// state) while this worker is still linked; step two once they are gone (drain_poll_atom).
caf::result<bool> begin_leave(agent_ptr self) {
  auto& st = self->state;
  if (!linked(st))
    return false;
  auto rp = self->make_response_promise<bool>();
  if (!lookup_as<vnodes_actor>(self->state.cfg.services, service::vnodes) || st.leave_rp) {
    finish_leave(self, rp);
    return rp;
  }
  st.leave_rp = rp;
  st.drain_deadline = self->clock().now() + st.cfg.drain_timeout;
  auto gen = st.generation;
  self
    ->request(st.coordinator, milliseconds(2000),
              frame{ms::encode(ms::leave{st.cfg.self.name, st.incarnation, true})})
    .then(
      [self, gen](const frame&) {
        self->state.log->info("leaving: handing this worker's vnodes over");
        if (gen == self->state.generation)
          self->send(self, drain_poll_atom::value);
      },
      [self](const caf::error& err) {
        self->state.log->warn("could not start handing over: {}", self->system().render(err));
        self->send(self, leave_atom::value, true);
      });
  return rp;
}

/// While leaving: done once no instance runs here (or the drain timed out).
void poll_drain(agent_ptr self) {
  auto& st = self->state;
  if (!st.leave_rp)
    return;
  auto host = lookup_as<vnodes_actor>(self->state.cfg.services, service::vnodes);
  if (!host) {
    self->send(self, leave_atom::value, true);
    return;
  }
  self->request(host, milliseconds(500), instances_atom::value)
    .then(
      [self](const std::vector<std::string>& running) {
        auto& st = self->state;
        if (!st.leave_rp)
          return;
        if (running.empty() || self->clock().now() >= st.drain_deadline) {
          if (!running.empty())
            st.log->warn("leaving with {} instances not handed over", running.size());
          self->send(self, leave_atom::value, true);
        } else {
          self->delayed_send(self, milliseconds(50), drain_poll_atom::value);
        }
      },
      [self](const caf::error&) { self->send(self, leave_atom::value, true); });
}

void on_down(agent_ptr self, const caf::down_msg& dm) {
  auto& st = self->state;
  if (st.roller && st.roller != st.coordinator && dm.source == st.roller.address()) {
    st.roller = nullptr;
    logging::ship_to(caf::actor{});
    if (st.state == link_state::up)
      self->delayed_send(self, milliseconds(200), roller_retry_atom::value, st.generation);
    return;
  }
  if (st.coordinator && dm.source == st.coordinator.address()) {
    if (dm.reason == caf::exit_reason::remote_link_unreachable || st.state != link_state::up)
      lost(self, "connection closed (" + self->system().render(dm.reason) + ")");
    else
      reattach(self, self->system().render(dm.reason));
  }
}

auto link_handlers(agent_ptr self) {
  return std::make_tuple(
    [self](start_atom, uint16_t cluster_port, uint16_t http_port) {
      // The ports are known only once they are bound (0 means "any free port").
      auto& st = self->state;
      if (st.started)
        return;
      st.started = true;
      st.cfg.self.address = advertised_address(st.cfg.self.address, cluster_port);
      st.cfg.self.http_port = http_port;
      self->send(self, tick_atom::value);
      attempt_join(self);
    },
    [self](retry_atom, uint64_t gen) {
      auto& st = self->state;
      if (gen == st.generation && st.state == link_state::disconnected)
        attempt_join(self);
    },
    [self](tick_atom) { on_tick(self); },
    [self](const frame& f) -> caf::result<frame> {
      on_frame(self, f); // a StatusRequest is answered there, through a promise
      return caf::delegated<frame>{};
    },
    [self](workload_pull_atom) {
      auto& st = self->state;
      answer_workload_pull(self, st.cfg.services, st.workload_version, st.workload, st.bus_head);
    },
    [self](roller_retry_atom, uint64_t gen) {
      auto& st = self->state;
      if (gen == st.generation && st.state == link_state::up && !st.roller && st.cfg.ship_logs)
        find_roller(self, gen);
    },
    [self](leave_atom) -> caf::result<bool> { return begin_leave(self); },
    [self](drain_poll_atom) { poll_drain(self); },
    [self](leave_atom, bool) {
      // Step two of a graceful stop: the vnodes are gone (or the drain timed out).
      auto& st = self->state;
      if (!st.leave_rp)
        return;
      auto rp = *st.leave_rp;
      st.leave_rp.reset();
      if (st.state != link_state::up) {
        rp.deliver(false);
        return;
      }
      finish_leave(self, rp);
    }
  );
}

/// What the node's ingress hands on: KV requests and log rotation, for the coordinator.
auto relay_handlers(agent_ptr self) {
  auto coordinator = [self]() -> caf::actor {
    auto& st = self->state;
    return st.state == link_state::up ? st.coordinator : caf::actor{};
  };
  auto kv = kv_relay_handler(self, coordinator, std::chrono::milliseconds(10000),
                             "this worker is not connected to a coordinator",
                             self->state.cfg.console_token, false, &self->state.owed,
                             service_errc::not_connected);
  return std::tuple_cat(std::move(kv), std::make_tuple(
      [self](log_rotate_atom a) -> caf::result<std::string> {
        // The log file is the coordinator's: the request goes there.
        auto& st = self->state;
        if (!linked(st))
          return caf::make_error(service_errc::not_connected,
                                 std::string{"this worker is not connected to a coordinator"});
        auto rp = self->make_response_promise();
        if (!st.cfg.console_token.empty())
          rp.delegate(st.coordinator, auth_atom::value, st.cfg.console_token,
                      caf::make_message(a));
        else
          rp.delegate(st.coordinator, a);
        return rp;
      }));
}

agent_impl::behavior_type agent(agent_ptr self, membership_agent_config cfg) {
  auto& st = self->state;
  st.backoff.emplace(cfg.backoff_initial, cfg.backoff_max);
  st.rng.seed(cfg.seed);
  st.cfg = std::move(cfg);
  // This worker serves vnodes only under the lease its coordinator renews (none yet: a
  // restarted agent starts unleased and joins again).
  if (st.cfg.services) {
    st.cfg.services->lease().revoke();
    st.cfg.services->lease().enforce();
  }
  self->set_error_handler([self](caf::error& err) {
    self->state.log->warn("unexpected error message: {}", self->system().render(err));
  });
  self->set_down_handler([self](const caf::down_msg& dm) { on_down(self, dm); });
  // Requests relayed to the coordinator are answered as the agent goes (their outcome is
  // unknown): otherwise their senders would wait for their own timeouts.
  self->set_exit_handler([self](caf::exit_msg& em) {
    if (!em.reason)
      return; // a normal exit of a linked actor is not this agent's end
    self->state.owed.fail_all(caf::make_error(
      raft_errc::replica_stopped,
      std::string{"this worker's membership agent stopped before its coordinator answered; "
                  "the outcome is unknown"}));
    self->quit(std::move(em.reason));
  });
  return join_handlers<agent_impl::behavior_type>(link_handlers(self), relay_handlers(self));
}

} // namespace

membership_agent_actor spawn_membership_agent(caf::actor_system& sys,
                                              membership_agent_config cfg,
                                              std::shared_ptr<actor_stats> stats) {
  return spawn_counted_as<agent_class>(
    sys, [cfg](agent_ptr self) { return agent(self, cfg); }, std::move(stats));
}

} // namespace troupe
