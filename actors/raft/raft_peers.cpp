#include "actors/raft/raft_actor_state.hpp"

#include "protocols/raft/codec.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman_actor.hpp>

namespace troupe::raft_detail {

void send_raft(raft_ptr self, const r::message& m) {
  auto& st = self->state;
  auto it = st.peers.find(m.to);
  if (it == st.peers.end())
    return;
  if (!it->second.handle) {
    if (!it->second.connecting)
      connect_peer(self, m.to);
    return; // Raft tolerates the loss; the next heartbeat or append repeats what matters
  }
  self->send(caf::actor_cast<raft_actor>(it->second.handle), raft_frame{r::encode(m)});
}

void peer_lost(raft_ptr self, r::node_id id, const std::string& why) {
  auto& p = self->state.peers[id];
  if (p.handle)
    self->state.log->info("lost peer {} at {}: {}", id, p.ep.to_string(), why);
  p.handle = nullptr;
  p.connecting = true;
  auto gen = ++p.generation;
  auto delay = p.backoff->next(std::uniform_real_distribution<double>{0, 1}(self->state.rng));
  self->delayed_send(self, delay, peer_retry_atom::value, id, gen);
}

void connect_peer(raft_ptr self, r::node_id id) {
  auto& st = self->state;
  auto& p = st.peers[id];
  p.connecting = true;
  auto gen = ++p.generation;
  auto timeout = st.cfg.request_timeout;
  self
    ->request(st.cfg.resolver, timeout, caf::connect_atom::value, p.ep.host, p.ep.port)
    .then(
      [self, id, gen, timeout](const caf::node_id&, caf::strong_actor_ptr& ptr,
                               const std::set<std::string>&) {
        auto& p = self->state.peers[id];
        if (gen != p.generation)
          return;
        auto published = caf::actor_cast<caf::actor>(ptr);
        if (!published) {
          peer_lost(self, id, "nothing published there");
          return;
        }
        // The node's door says whether it runs a Raft replica; frames then go to the door.
        self->request(published, timeout, peer_hello_atom::value)
          .then(
            [self, id, gen, published](bool has_raft) {
              auto& p = self->state.peers[id];
              if (gen != p.generation)
                return;
              if (!has_raft) {
                peer_lost(self, id, "that node runs no Raft replica");
                return;
              }
              auto raft_peer = published;
              p.handle = raft_peer;
              p.connecting = false;
              p.backoff->reset();
              self->monitor(raft_peer);
              self->state.log->info("connected to peer {} at {}", id, p.ep.to_string());
            },
            [self, id, gen](caf::error& err) {
              if (gen == self->state.peers[id].generation)
                peer_lost(self, id, self->system().render(err));
            });
      },
      [self, id, gen](caf::error& err) {
        if (gen == self->state.peers[id].generation)
          peer_lost(self, id, self->system().render(err));
      });
}


raft_status own_status(raft_actor_state& st) {
  return raft_status{r::to_string(st.node->current_role()), st.node->term(),
                     st.node->commit_index(), st.applied, st.node->leader(), st.cfg.raft.id};
}

/// Collects this replica's status and every connected peer's that answers in time.
caf::response_promise all_status(raft_ptr self) {
  auto& st = self->state;
  auto rp = self->make_response_promise();
  struct gather {
    std::vector<raft_status> got;
    size_t waiting = 0;
    caf::response_promise rp;
  };
  auto g = std::make_shared<gather>();
  g->got.push_back(own_status(st));
  g->rp = rp;
  for (auto& [id, p] : st.peers) {
    if (!p.handle)
      continue;
    ++g->waiting;
    auto done = [g] {
      if (--g->waiting == 0)
        g->rp.deliver(std::move(g->got));
    };
    self->request(p.handle, st.cfg.peer_status_timeout, raft_status_atom::value)
      .then([g, done](const raft_status& rs) { g->got.push_back(rs); done(); },
            [done](const caf::error&) { done(); });
  }
  if (g->waiting == 0)
    rp.deliver(std::move(g->got));
  return rp;
}

} // namespace troupe::raft_detail
