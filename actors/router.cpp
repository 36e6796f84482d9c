#include "actors/router.hpp"

#include "actors/api/counted_actor.hpp"
#include "actors/api/message_types.hpp"
#include "actors/bus/bus_actor.hpp"
#include "actors/handlers.hpp"
#include "actors/router_state.hpp"
#include "actors/workload_pull.hpp"

#include <caf/actor_system.hpp>
#include <isa-l/crc.h>

#include <random>

namespace troupe {

uint32_t vnode_of(const std::string& key, uint32_t vnodes) {
  if (vnodes == 0)
    return 0;
  auto crc = ~crc32_iscsi(reinterpret_cast<unsigned char*>(const_cast<char*>(key.data())),
                          static_cast<int>(key.size()), 0xFFFFFFFFu);
  return crc % vnodes;
}

namespace router_internal {

/// Why an event of `d` for vnode `v` has nowhere to go.
std::string no_owner(const state::deployment_spec& d, uint32_t v) {
  if (d.route == state::routing::singleton)
    return "no workers: singleton " + d.name + " has no main worker to run on (the cluster has "
           "no live worker)";
  return "no workers: vnode " + std::to_string(v) + " of " + d.name
         + " has no owner (the cluster has no live worker)";
}

/// Picks the vnode of an event, or explains why there is none.
std::optional<uint32_t> pick(router_state& st, const state::deployment_spec& d,
                             const std::string& key) {
  if (d.route == state::routing::singleton)
    return 0; // one instance, on the main worker
  auto n = st.view.vnodes.size();
  if (n == 0)
    return std::nullopt;
  if (d.route == state::routing::round_robin)
    return st.next_vnode[d.name]++ % n;
  return vnode_of(key, n);
}

/// A message of the user's own types to the instance `key` routes to: handed to its owner
/// with the request it came with, so that the instance answers the requester. Not held behind
/// the events in the outbox, not sent again: at most once.
void route_msg(router_ptr self, const std::string& deployment, const std::string& key,
               caf::message& msg) {
  auto& st = self->state;
  auto rp = self->make_response_promise();
  ++st.routed;
  if (auto why = unregistered_types(self->system(), msg); !why.empty()) {
    ++st.rejected;
    rp.deliver(failure(routing_errc::unregistered_type, why));
    return;
  }
  auto* d = st.view.deployments.find(deployment);
  if (!d) {
    ++st.rejected;
    rp.deliver(failure(routing_errc::no_deployment, "no deployment named '" + deployment + "'"));
    return;
  }
  if (d->durable) {
    rp.deliver(failure(routing_errc::malformed, deployment + " is durable: its instances take "
                                                             "troupe::event only, which is logged"));
    return;
  }
  auto v = pick(st, *d, key);
  if (!v) {
    rp.deliver(failure(routing_errc::no_vnode_map, "the cluster has no vnode map yet"));
    return;
  }
  auto owner = state::owner_of(st.view, *d, *v);
  if (owner.empty()) {
    rp.deliver(failure(routing_errc::no_workers, no_owner(*d, *v)));
    return;
  }
  auto epoch = epoch_of(st, deployment, *v);
  with_owner(
    self, owner,
    [rp, deployment, v = *v, epoch, msg](peer_node_actor target) mutable {
      rp.delegate(caf::actor_cast<caf::actor>(target), deliver_msg_atom::value, deployment, v,
                  epoch, std::move(msg));
    },
    [rp](const std::string& why) mutable {
      rp.deliver(failure(routing_errc::unreachable, why));
    });
}

/// Delivers `ev` to vnode `vnode` of `deployment` at `owner`; `rp` gets the instance's reply.
template <class Promise>
void deliver_at(router_ptr self, const std::string& owner, Promise rp, std::string deployment,
                uint32_t vnode, event ev) {
  auto timeout = self->state.cfg.timeout;
  auto epoch = epoch_of(self->state, deployment, vnode);
  with_owner(
    self, owner,
    [self, rp, deployment, vnode, epoch, ev, timeout](peer_node_actor target) mutable {
      self
        ->request(target, timeout, deliver_atom::value, deployment, vnode, epoch, std::move(ev))
        .then([rp](std::string& reply) mutable { rp.deliver(std::move(reply)); },
              [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
    },
    [rp](const std::string& why) mutable { rp.deliver(failure(routing_errc::unreachable, why)); });
}

void deliver_reliably(router_ptr self, std::shared_ptr<reliable_batch> b,
                      std::vector<size_t> remaining);

/// Tries `remaining` again after retry_interval, or gives up past the deadline.
void retry_later(router_ptr self, std::shared_ptr<reliable_batch> b, std::vector<size_t> remaining,
                 std::string problem) {
  b->last_problem = std::move(problem);
  if (!self->state.active.count(b))
    return; // answered already (the router is stopping)
  if (self->clock().now() >= b->deadline) {
    self->state.active.erase(b);
    if (!b->rp.pending())
      self->state.log->warn("{} events of {} sent without a reply were not delivered within "
                            "the deadline: {}", remaining.size(), b->deployment, b->last_problem);
    b->answer(failure(routing_errc::undelivered,
                          std::to_string(remaining.size()) + " events of " + b->deployment
                            + " not delivered within the deadline: " + b->last_problem));
    reliable_done(self, *b);
    return;
  }
  self->delayed_send(self, self->state.cfg.retry_interval, retry_atom::value);
  ++self->state.retried;
  self->state.retries.emplace_back(std::move(b), std::move(remaining));
}

/// Sends the events `remaining` of `b` to their vnodes' current owners, one group per owner.
void deliver_reliably(router_ptr self, std::shared_ptr<reliable_batch> b,
                      std::vector<size_t> remaining) {
  auto& st = self->state;
  std::map<std::string, std::vector<size_t>> by_owner;
  std::vector<size_t> unowned;
  auto* d = st.view.deployments.find(b->deployment);
  for (auto i : remaining) {
    std::string owner = d ? state::owner_of(st.view, *d, b->vnodes[i]) : std::string{};
    if (!owner.empty())
      by_owner[owner].push_back(i);
    else
      unowned.push_back(i);
  }
  if (!unowned.empty())
    retry_later(self, b, std::move(unowned), "no owner for some vnodes (no live worker)");
  auto timeout = st.cfg.timeout;
  auto sender = st.sender_id;
  for (auto& [owner, idx] : by_owner) {
    std::vector<uint32_t> vnodes;
    std::vector<uint64_t> epochs;
    std::vector<std::string> keys, payloads;
    std::vector<uint64_t> seqs;
    for (auto i : idx) {
      vnodes.push_back(b->vnodes[i]);
      epochs.push_back(epoch_of(st, b->deployment, b->vnodes[i]));
      keys.push_back(b->keys[i]);
      payloads.push_back(b->payloads[i]);
      seqs.push_back(b->seqs[i]);
    }
    // In flight until answered, or until a new view names another owner for its vnodes
    // (then it is sent there at once: see reroute_moved), whichever comes first.
    auto gid = st.next_group++;
    st.inflight[gid] = inflight_group{b, idx, owner};
    with_owner(
      self, owner,
      [self, gid, b, idx, vnodes, epochs, keys, payloads, seqs, sender,
       timeout](peer_node_actor target) {
        self
          ->request(target, timeout, deliver_batch_atom::value, b->deployment, vnodes, epochs,
                    keys, payloads, sender, seqs)
          .then(
            [self, gid, b, idx](std::vector<std::string>& replies) {
              if (self->state.inflight.erase(gid) == 0)
                return; // sent again elsewhere meanwhile
              b->done += idx.size();
              if (b->single && !replies.empty())
                b->last_problem = replies.front(); // the reply, for route_atom
              if (b->done == b->seqs.size() && self->state.active.erase(b) > 0) {
                if (b->single)
                  b->answer(b->last_problem);
                else
                  b->answer(static_cast<uint64_t>(b->done));
                reliable_done(self, *b);
              }
            },
            [self, gid, b, idx](caf::error& err) {
              if (self->state.inflight.erase(gid) > 0)
                retry_later(self, b, idx, caf::to_string(err));
            });
      },
      [self, gid, b, idx](const std::string& why) {
        if (self->state.inflight.erase(gid) > 0)
          retry_later(self, b, idx, why);
      });
  }
}

/// After a new view: at-least-once groups waiting on a worker that no longer owns their
/// vnodes (it went down, or they moved) go to the new owners now, not after their request
/// times out. An answer from the old owner that still comes is ignored (the instances skip
/// an event they already handled, so a duplicate does no harm).
void reroute_moved(router_ptr self) {
  auto& st = self->state;
  std::vector<inflight_group> moved;
  for (auto it = st.inflight.begin(); it != st.inflight.end();) {
    auto& g = it->second;
    auto* d = st.view.deployments.find(g.batch->deployment);
    bool stays = d != nullptr;
    for (auto i : g.idx)
      stays = stays && state::owner_of(st.view, *d, g.batch->vnodes[i]) == g.owner;
    if (stays) {
      ++it;
      continue;
    }
    moved.push_back(std::move(g));
    it = st.inflight.erase(it);
  }
  for (auto& g : moved)
    deliver_reliably(self, g.batch, g.idx);
}

/// Starts delivering at-least-once events (keys[i] to vnodes[i]).
void start_reliable(router_ptr self, const std::string& deployment,
                    std::vector<uint32_t> vnodes, std::vector<std::string> keys,
                    std::vector<std::string> payloads, bool single, caf::response_promise rp,
                    bool from_outbox) {
  auto& st = self->state;
  auto b = std::make_shared<reliable_batch>();
  b->deployment = deployment;
  b->vnodes = std::move(vnodes);
  b->keys = std::move(keys);
  b->payloads = std::move(payloads);
  for (size_t i = 0; i < b->keys.size(); ++i)
    b->seqs.push_back(st.next_seq++);
  b->deadline = self->clock().now() + st.cfg.delivery_deadline;
  b->single = single;
  b->rp = std::move(rp);
  b->from_outbox = from_outbox;
  st.active.insert(b);
  std::vector<size_t> all(b->keys.size());
  for (size_t i = 0; i < all.size(); ++i)
    all[i] = i;
  deliver_reliably(self, b, std::move(all));
}

/// A broadcast that is not persisted, to every other member that is not gone: answers
/// (sent, dropped) once each was sent or found unreachable. Down members count as drops.
caf::response_promise fan_out(router_ptr self, const std::string& topic,
                              const std::string& payload, const std::string& origin) {
  auto& st = self->state;
  struct tally {
    size_t left = 0;
    uint64_t sent = 0;
    uint64_t dropped = 0;
    caf::response_promise rp;
    void one_done() {
      if (--left == 0)
        rp.deliver(sent, dropped);
    }
  };
  auto t = std::make_shared<tally>();
  t->rp = self->make_response_promise();
  std::vector<std::string> targets;
  for (auto& rec : st.view.members.dump()) {
    if (rec.info.name == st.cfg.node_name || rec.info.state == membership::member_state::left)
      continue;
    if (rec.info.state == membership::member_state::down)
      ++t->dropped;
    else
      targets.push_back(rec.info.name);
  }
  t->left = targets.size();
  if (targets.empty())
    t->rp.deliver(t->sent, t->dropped);
  for (auto& name : targets)
    with_owner(
      self, name,
      [self, t, topic, payload, origin](peer_node_actor a) {
        self->send(a, bus_deliver_atom::value, topic, payload, origin);
        ++t->sent;
        t->one_done();
      },
      [self, t, name](const std::string& why) {
        self->state.log->debug("broadcast not sent to {}: {}", name, why);
        ++t->dropped;
        t->one_done();
      });
  return t->rp;
}

caf::result<std::string> route(router_ptr self, const std::string& deployment,
                                std::string& key, std::string& payload) {
  auto& st = self->state;
  auto* d = st.view.deployments.find(deployment);
  ++st.routed;
  if (!d) {
    ++st.rejected;
    return failure(routing_errc::no_deployment, "no deployment named '" + deployment + "'");
  }
  auto v = pick(st, *d, key);
  if (!v)
    return failure(routing_errc::no_vnode_map, "the cluster has no vnode map yet");
  if (!self->current_mailbox_element()->mid.is_request()) {
    hold(self, *d, *v, std::move(key), std::move(payload));
    return caf::delegated<std::string>{}; // nobody to answer
  }
  // A request goes out behind the events its sender sent before it (a key's order): at once,
  // or right after the last chunk waiting in the outbox is sent. (The promise takes over the
  // request: made only once no error is returned any more.)
  if (d->guarantee == state::delivery::at_least_once) {
    auto rp = self->make_response_promise();
    auto start = [self, deployment, v = *v, key, payload, rp]() mutable {
      start_reliable(self, deployment, {v}, {std::move(key)}, {std::move(payload)}, true, rp);
    };
    if (!after_outbox(self->state.reliable_out, deployment, start))
      start();
    return rp;
  }
  auto owner = state::owner_of(st.view, *d, *v);
  if (owner.empty())
    return failure(routing_errc::no_workers, no_owner(*d, *v));
  auto rp = self->make_response_promise();
  auto send = [self, owner, rp, deployment, v = *v, key, payload]() mutable {
    deliver_at(self, owner, rp, deployment, v, event{std::move(key), std::move(payload), {}});
  };
  if (!after_outbox(self->state.outboxes, std::make_pair(owner, deployment), send))
    send();
  return rp;
}

/// Sends each owner its events; answers with how many were accepted, or the first problem.
caf::response_promise send_batches(router_ptr self, const std::string& deployment,
                                   std::map<std::string, owner_batch> by_owner) {
  auto rp = self->make_response_promise();
  struct gather {
    size_t waiting = 0;
    uint64_t accepted = 0;
    caf::error problem;
  };
  auto g = std::make_shared<gather>();
  g->waiting = by_owner.size();
  if (g->waiting == 0) {
    rp.deliver(uint64_t{0});
    return rp;
  }
  auto finish = [rp, g]() mutable {
    if (--g->waiting > 0)
      return;
    if (!g->problem)
      rp.deliver(g->accepted);
    else
      rp.deliver(std::move(g->problem));
  };
  auto timeout = self->state.cfg.timeout;
  for (auto& [owner, b] : by_owner)
    with_owner(
      self, owner,
      [self, g, finish, deployment, b, timeout](peer_node_actor target) mutable {
        self
          ->request(target, timeout, deliver_batch_atom::value, deployment, b.vnodes, b.epochs,
                    b.keys, b.payloads)
          .then(
            [g, finish](uint64_t n) mutable {
              g->accepted += n;
              finish();
            },
            [g, finish](caf::error& err) mutable {
              if (!g->problem)
                g->problem = std::move(err);
              finish();
            });
      },
      [g, finish](const std::string& why) mutable {
        if (!g->problem)
          g->problem = failure(routing_errc::unreachable, why);
        finish();
      });
  return rp;
}

caf::result<uint64_t> route_batch(router_ptr self, const std::string& deployment,
                                      std::vector<std::string>& keys,
                                      std::vector<std::string>& payloads) {
  auto& st = self->state;
  auto* d = st.view.deployments.find(deployment);
  st.routed += keys.size();
  if (!d) {
    st.rejected += keys.size();
    return failure(routing_errc::no_deployment, "no deployment named '" + deployment + "'");
  }
  if (keys.size() != payloads.size())
    return failure(routing_errc::malformed, "as many keys as payloads, please");
  std::vector<uint32_t> vnodes;
  for (auto& k : keys) {
    auto v = pick(st, *d, k);
    if (!v)
      return failure(routing_errc::no_vnode_map, "the cluster has no vnode map yet");
    vnodes.push_back(*v);
  }
  if (d->guarantee == state::delivery::at_least_once)
  {
    auto rp = self->make_response_promise();
    start_reliable(self, deployment, std::move(vnodes), std::move(keys), std::move(payloads),
                   false, rp);
    return rp;
  }
  // Group by owner, keeping each owner's events in input order.
  std::map<std::string, owner_batch> by_owner;
  for (size_t i = 0; i < keys.size(); ++i) {
    auto& owner = state::owner_of(st.view, *d, vnodes[i]);
    if (owner.empty())
      return failure(routing_errc::no_workers, no_owner(*d, vnodes[i]));
    auto& b = by_owner[owner];
    b.vnodes.push_back(vnodes[i]);
    b.epochs.push_back(epoch_of(st.view, *d, vnodes[i]));
    b.keys.push_back(std::move(keys[i]));
    b.payloads.push_back(std::move(payloads[i]));
  }
  return send_batches(self, deployment, std::move(by_owner));
}

/// An event for a vnode this node's vnodes do not serve (any more): to its owner, once.
caf::result<std::string> pass_on(router_ptr self, const std::string& deployment,
                                 uint32_t vnode, event& ev) {
  auto& st = self->state;
  auto* d = st.view.deployments.find(deployment);
  auto owner = d ? state::owner_of(st.view, *d, vnode) : std::string{};
  if (owner.empty() || owner == st.cfg.node_name)
    return failure(routing_errc::not_served, "vnode " + std::to_string(vnode) + " of "
                                               + deployment
                                               + " has no other owner to pass the event on to");
  auto rp = self->make_response_promise<std::string>();
  deliver_at(self, owner, rp, deployment, vnode, std::move(ev));
  return rp;
}

/// A vnode's hand-over messages, to worker `to`'s vnodes (through its ingress). A worker this
/// router does not know yet (its view is behind the vnode's) is tried again, for up to 5 s: a
/// lost state would make the new owner start empty.
void forward(router_ptr self, const std::string& to, caf::message msg, uint32_t attempt) {
  with_owner(
    // The message is one of vnodes_peer_actor's hand-over messages, built by a vnode actor:
    // sent as it is, anonymously (no answer comes back).
    self, to,
    [msg](peer_node_actor target) { caf::anon_send(caf::actor_cast<caf::actor>(target), msg); },
    [self, to, msg, attempt](const std::string& why) {
      if (attempt < 50) {
        self->delayed_send(self, milliseconds(100), forward_atom::value, to, msg, attempt + 1);
        return;
      }
      self->state.log->warn("a vnode hand-over message did not reach {}: {}", to, why);
    });
}

/// A job hand-out or cancellation from the leader, to worker `to`'s job runner. Not retried:
/// a lost hand-out comes back to its queue at its timeout.
void forward_job(router_ptr self, const std::string& to, caf::message msg) {
  auto& st = self->state;
  if (to == st.cfg.node_name) {
    if (auto runner = st.cfg.services ? st.cfg.services->get(service::jobs) : caf::actor{})
      caf::anon_send(runner, std::move(msg));
    else
      st.log->warn("jobs for this node were dropped: its job runner is not running");
    return;
  }
  with_owner(
    self, to,
    [msg](peer_node_actor target) { caf::anon_send(caf::actor_cast<caf::actor>(target), msg); },
    [self, to](const std::string& why) {
      self->state.log->warn("jobs for {} were dropped (they come back at their timeout): {}", to,
                            why);
    });
}

void on_workload(router_ptr self, uint64_t version, const std::string& bytes) {
  auto& st = self->state;
  if (version < st.version)
    return;
  state::cluster_view view;
  if (!state::decode_view(bytes, view)) {
    st.log->error("a cluster view that does not decode was ignored");
    return;
  }
  st.version = version;
  st.view = std::move(view);
  reroute_moved(self);
}

auto routing_handlers(router_ptr self) {
  return std::make_tuple(
    [self](route_atom, const std::string& deployment, std::string& key,
           std::string& payload) -> caf::result<std::string> {
      return route(self, deployment, key, payload);
    },
    [self](route_batch_atom, const std::string& deployment, std::vector<std::string>& keys,
           std::vector<std::string>& payloads) -> caf::result<uint64_t> {
      return route_batch(self, deployment, keys, payloads);
    },
    [self](deliver_atom, const std::string& deployment, uint32_t vnode,
           event& ev) -> caf::result<std::string> { return pass_on(self, deployment, vnode, ev); },
    [self](route_msg_atom, const std::string& deployment, const std::string& key,
           caf::message& msg) { route_msg(self, deployment, key, msg); },
    [self](forward_atom, const std::string& to, caf::message& msg) {
      forward(self, to, std::move(msg), 0);
    },
    [self](forward_atom, const std::string& to, caf::message& msg, uint32_t attempt) {
      forward(self, to, std::move(msg), attempt);
    },
    [self](job_forward_atom, const std::string& to, caf::message& msg) {
      forward_job(self, to, std::move(msg));
    },
    [self](outbox_flush_atom) { flush_all(self); },
    [self](retry_atom) {
      auto& st = self->state;
      if (st.retries.empty())
        return;
      auto [b, remaining] = std::move(st.retries.front());
      st.retries.pop_front();
      deliver_reliably(self, std::move(b), std::move(remaining));
    }
  );
}

router_impl::behavior_type router(router_ptr self, router_config cfg) {
  self->state.cfg = std::move(cfg);
  {
    std::random_device rd;
    self->state.sender_id = (static_cast<uint64_t>(rd()) << 32) | rd();
  }
  // Stopped (the node stops, or its supervisor restarts it): the at-least-once events not
  // acknowledged yet are refused now, so that their senders send them again at once rather
  // than at their timeout.
  self->set_exit_handler([self](caf::exit_msg& em) {
    auto& st = self->state;
    for (auto& b : st.active)
      b->answer(failure(routing_errc::stopped,
                            "the router of " + st.cfg.node_name + " stopped before "
                              + std::to_string(b->seqs.size() - b->done) + " events of "
                              + b->deployment + " were acknowledged: send them again"));
    st.active.clear();
    self->quit(std::move(em.reason));
  });
  self->set_down_handler([self](const caf::down_msg& dm) {
    for (auto it = self->state.nodes.begin(); it != self->state.nodes.end(); ++it)
      if (it->second.address() == dm.source) {
        self->state.nodes.erase(it);
        return;
      }
  });
  pull_workload(self, self->state.cfg.services); // a restarted router missed views
  return join_handlers<router_impl::behavior_type>(routing_handlers(self), std::make_tuple(
    [self](bus_fanout_atom, const std::string& topic, const std::string& payload,
           const std::string& origin) -> caf::result<uint64_t, uint64_t> {
      return fan_out(self, topic, payload, origin);
    },
    [self](workload_atom, uint64_t version, const std::string& bytes) {
      on_workload(self, version, bytes);
    },
    [self](metrics_atom) -> metrics_result {
      auto& st = self->state;
      return {
        std::vector<std::string>{"troupe_events_routed_total", "troupe_events_rejected_total",
                                 "troupe_events_dropped_total", "troupe_delivery_retries_total",
                                 "troupe_delivery_retry_queue"},
        std::vector<uint64_t>{st.routed, st.rejected, st.dropped, st.retried,
                              static_cast<uint64_t>(st.retries.size())}};
    }
  ));
}

} // namespace router_internal

router_actor spawn_router(caf::actor_system& sys, router_config cfg,
                          std::shared_ptr<actor_stats> stats) {
  using namespace router_internal;
  return spawn_counted_as<router_class>(
    sys, [cfg](router_ptr self) { return router(self, cfg); }, std::move(stats));
}

} // namespace troupe
