#include "actors/membership_server.hpp"

#include "actors/endpoint.hpp"
#include "actors/kv_relay.hpp"
#include "actors/logging.hpp"
#include "actors/reply.hpp"
#include "actors/wall_clock.hpp"
#include "actors/wire.hpp"
#include "protocols/membership/codec.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <spdlog/spdlog.h>

#include <optional>
#include <unordered_map>

namespace troupe {

namespace ms = membership;

namespace {

struct link {
  caf::actor handle;
  uint64_t incarnation = 0;
};

struct server_state {
  membership_server_config cfg;
  std::optional<ms::membership_table> table_;  // set when the actor starts
  ms::membership_table& table() { return *table_; }
  std::shared_ptr<spdlog::logger> log = logging::get("membership");
  std::unordered_map<std::string, link> links;          // name -> joined member's agent
  std::unordered_map<caf::actor_addr, std::string> by_addr;
  uint64_t bad_frames = 0;
  uint64_t broadcast_version = 0;
  bool started = false;

  static inline const char* name = "troupe.membership_server";
};

using server_actor = caf::stateful_actor<server_state>;

void log_changes(server_state& st, const std::vector<ms::transition>& changes) {
  for (auto& t : changes) {
    if (t.from)
      st.log->info("member {} (incarnation {}) {} -> {}: {}", t.name, t.incarnation,
                   ms::to_string(*t.from), ms::to_string(t.to), t.cause);
    else
      st.log->info("member {} (incarnation {}) is {}: {}", t.name, t.incarnation,
                   ms::to_string(t.to), t.cause);
  }
}

/// Pushes the view to every joined member when it changed since the last push.
void broadcast_if_changed(server_actor* self) {
  auto& st = self->state;
  if (st.table().version() == st.broadcast_version)
    return;
  st.broadcast_version = st.table().version();
  frame f{ms::encode(st.table().snapshot())};
  for (auto& kv : st.links)
    self->send(kv.second.handle, f);
}

void forget_link(server_actor* self, const std::string& name) {
  auto i = self->state.links.find(name);
  if (i == self->state.links.end())
    return;
  self->demonitor(i->second.handle);
  self->state.by_addr.erase(i->second.handle.address());
  self->state.links.erase(i);
}

void reject(server_actor* self, const char* what) {
  ++self->state.bad_frames;
  self->state.log->warn("rejected a frame from {}: {}", caf::to_string(self->current_sender()),
                        what);
  reply_error(self, caf::make_error(caf::sec::invalid_argument, what));
}

caf::behavior server(server_actor* self, membership_server_config cfg) {
  auto& st = self->state;
  st.table_.emplace(cfg.cluster_id, cfg.table);
  st.cfg = std::move(cfg);
  self->set_error_handler([self](caf::error& err) {
    self->state.log->warn("unexpected error message: {}", self->system().render(err));
  });
  self->set_down_handler([self](const caf::down_msg& dm) {
    auto& st = self->state;
    auto i = st.by_addr.find(dm.source);
    if (i == st.by_addr.end())
      return;
    auto name = i->second;
    auto inc = st.links[name].incarnation;
    st.by_addr.erase(i);
    st.links.erase(name);
    st.log->debug("monitor of {} fired: {}", name, self->system().render(dm.reason));
    log_changes(st, st.table().connection_lost(name, inc, self->clock().now(), wall_clock_ms()));
    broadcast_if_changed(self);
  });
  return caf::message_handler{
    [self](start_atom, uint16_t cluster_port, uint16_t http_port) {
      // The ports are known only once they are bound (0 means "any free port").
      auto& st = self->state;
      if (st.started)
        return;
      st.started = true;
      st.cfg.self.address = advertised_address(st.cfg.self.address, cluster_port);
      st.cfg.self.http_port = http_port;
      log_changes(st, st.table().add_local(st.cfg.self, self->clock().now(), wall_clock_ms()));
      st.log->info("coordinator {} at {} serves the membership of cluster {}", st.cfg.self.name,
                   st.cfg.self.address, st.cfg.cluster_id);
      self->send(self, tick_atom::value);
    },
    [self](tick_atom) {
      auto& st = self->state;
      auto changes = st.table().tick(self->clock().now(), wall_clock_ms());
      for (auto& t : changes)
        if (ms::is_gone(t.to))
          forget_link(self, t.name);
      log_changes(st, changes);
      broadcast_if_changed(self);
      self->delayed_send(self, st.cfg.tick_interval, tick_atom::value);
    },
    [self](const frame& f) {
      auto& st = self->state;
      ms::decoded msg;
      if (auto err = ms::decode(f.bytes, msg); err != ms::codec_errc::none)
        return reject(self, ms::to_string(err));
      auto now = self->clock().now();
      auto wall = wall_clock_ms();
      if (auto* join = std::get_if<ms::join_request>(&msg.body)) {
        auto sender = caf::actor_cast<caf::actor>(self->current_sender());
        if (!sender)
          return reject(self, "join without a sender");
        auto name = join->self.name;
        auto out = st.table().join(std::move(join->self), now, wall);
        if (!out.accepted) {
          st.log->warn("refused join of {}: {}", name, out.reject_reason);
          return reply(self, frame{ms::encode(ms::join_rejected{out.reject_reason})});
        }
        auto& l = st.links[name];
        if (l.handle && l.handle != sender) {
          self->demonitor(l.handle);
          st.by_addr.erase(l.handle.address());
        }
        if (l.handle != sender)
          self->monitor(sender);
        l = link{sender, out.incarnation};
        st.by_addr[sender.address()] = name;
        log_changes(st, out.changes);
        broadcast_if_changed(self);
        return reply(self, frame{ms::encode(ms::join_accepted{st.cfg.cluster_id, out.incarnation})});
      }
      if (auto* hb = std::get_if<ms::heartbeat>(&msg.body)) {
        auto out = st.table().heartbeat(hb->name, hb->incarnation, now, wall);
        log_changes(st, out.changes);
        broadcast_if_changed(self);
        return reply(self, frame{ms::encode(ms::heartbeat_ack{out.rejoin, st.table().version()})});
      }
      if (auto* lv = std::get_if<ms::leave>(&msg.body)) {
        auto changes = st.table().leave(lv->name, lv->incarnation, now, wall);
        if (!changes.empty())
          forget_link(self, lv->name);
        log_changes(st, changes);
        broadcast_if_changed(self);
        return reply(self, frame{ms::encode(ms::heartbeat_ack{false, st.table().version()})});
      }
      if (std::holds_alternative<ms::status_request>(msg.body)) {
        ms::status_reply status;
        status.members = st.table().snapshot();
        status.answered_by = st.cfg.self.name;
        status.bad_frames = st.bad_frames;
        if (!st.cfg.raft)
          return reply(self, frame{ms::encode(status)});
        // Add this coordinator's live Raft state; without an answer the status still goes out.
        auto rp = self->make_response_promise();
        self->request(st.cfg.raft, std::chrono::seconds(1), raft_status_atom::value)
          .then(
            [rp, status](const raft_status& rs) mutable {
              for (auto& m : status.members.members)
                if (m.name == status.answered_by)
                  m.raft = ms::raft_info{rs.role, rs.term, rs.commit_index, rs.leader, rs.id};
              rp.deliver(frame{ms::encode(status)});
            },
            [rp, status](const caf::error&) mutable {
              status.node_health.level = "yellow";
              status.node_health.reasons.push_back("the Raft replica did not answer");
              rp.deliver(frame{ms::encode(status)});
            });
        return;
      }
      return reject(self, "unexpected message type for a coordinator");
    },
    [self](peer_hello_atom) -> caf::actor { return self->state.cfg.raft; },
  }.or_else(kv_relay_handler(
      self, [self] { return self->state.cfg.raft; }, std::chrono::milliseconds(10000),
      "this coordinator runs no Raft replica"));
}

} // namespace

caf::actor spawn_membership_server(caf::actor_system& sys, membership_server_config cfg) {
  return sys.spawn(server, std::move(cfg));
}

} // namespace troupe
