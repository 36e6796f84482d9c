#include "actors/router.hpp"

#include "actors/api/errors.hpp"

#include "actors/api/counted_actor.hpp"
#include "actors/api/event.hpp"
#include "actors/bus/bus_actor.hpp"
#include "actors/endpoint.hpp"
#include "actors/handlers.hpp"
#include "actors/logging.hpp"
#include "actors/wire.hpp"
#include "actors/workload_pull.hpp"
#include "actors/vnodes/vnodes.hpp"
#include "protocols/cluster_state/state_machine.hpp"

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/io/middleman_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <isa-l/crc.h>
#include <spdlog/spdlog.h>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>

namespace troupe {

uint32_t vnode_of(const std::string& key, uint32_t vnodes) {
  if (vnodes == 0)
    return 0;
  auto crc = ~crc32_iscsi(reinterpret_cast<unsigned char*>(const_cast<char*>(key.data())),
                          static_cast<int>(key.size()), 0xFFFFFFFFu);
  return crc % vnodes;
}

namespace {

using retry_atom = caf::atom_constant<caf::atom("rt_retry")>;
using outbox_flush_atom = caf::atom_constant<caf::atom("rt_flush")>;

/// Events sent without asking for a reply (troupe::send) wait in outboxes and go out in
/// batches: an actor sending one event at a time pays one message per link per batch, not per
/// event. A batch goes out when the router has handled what was in its mailbox before it (a
/// flush message the router sends itself) or when it holds outbox_max_events, and only while
/// fewer than outbox_window batches are unanswered (per owner; per deployment for
/// at-least-once): a fast sender's backlog waits here, and the owner, never flooded, keeps
/// answering heartbeats.
constexpr size_t outbox_max_events = 1024;
constexpr size_t outbox_window = 4;

/// At-least-once events in flight: delivered in groups by owner, retried until acknowledged.
struct reliable_batch {
  std::string deployment;
  std::vector<uint32_t> vnodes;
  std::vector<std::string> keys;
  std::vector<std::string> payloads;
  std::vector<uint64_t> seqs;
  size_t done = 0;
  std::string last_problem;
  time_point deadline;
  caf::response_promise rp;  // not pending for events sent without asking for a reply
  bool single = false;  // a route_atom: answer with the instance's reply
  bool from_outbox = false;  // counted in its deployment's outbox window until done

  template <class... Ts>
  void answer(Ts&&... xs) {
    if (rp.pending())
      rp.deliver(std::forward<Ts>(xs)...);
  }
};

/// At-most-once events of one owner, with their vnodes and epochs, in input order.
struct owner_batch {
  std::vector<uint32_t> vnodes;
  std::vector<uint64_t> epochs;
  std::vector<std::string> keys;
  std::vector<std::string> payloads;
  std::vector<std::function<void()>> then_send;  // requests that came after these events
};

/// At-least-once events of one deployment sent without asking for a reply, waiting to start.
struct reliable_chunk {
  std::vector<uint32_t> vnodes;
  std::vector<std::string> keys;
  std::vector<std::string> payloads;
  std::vector<std::function<void()>> then_send;  // requests that came after these events
};

/// Events waiting to go out, in chunks of at most outbox_max_events, and the batches sent
/// and not answered yet.
template <class Chunk>
struct outbox {
  std::deque<Chunk> chunks;
  size_t unanswered = 0;

  Chunk& back() {
    // A chunk with a request behind it takes no later event: it would overtake the request.
    if (chunks.empty() || chunks.back().keys.size() >= outbox_max_events
        || !chunks.back().then_send.empty())
      chunks.emplace_back();
    return chunks.back();
  }
  bool may_send() const { return !chunks.empty() && unanswered < outbox_window; }
};

/// An at-least-once group sent to one owner and not answered yet.
struct inflight_group {
  std::shared_ptr<reliable_batch> batch;
  std::vector<size_t> idx;
  std::string owner;
};

struct router_state {
  router_config cfg;
  state::cluster_view view;
  uint64_t version = 0;
  std::map<std::string, uint32_t> next_vnode;  // round robin, per deployment
  std::map<std::string, peer_node_actor> nodes;  // owner name -> its published door
  uint64_t sender_id = 0;                      // random per process: names this router's events
  uint64_t next_seq = 1;
  std::deque<std::pair<std::shared_ptr<reliable_batch>, std::vector<size_t>>> retries;
  std::set<std::shared_ptr<reliable_batch>> active;  // at-least-once batches not answered yet
  std::map<uint64_t, inflight_group> inflight;        // their groups waiting for an owner
  uint64_t next_group = 1;
  // Events sent without asking for a reply: at-most-once by (owner, deployment), at-least-once
  // by deployment.
  std::map<std::pair<std::string, std::string>, outbox<owner_batch>> outboxes;
  std::map<std::string, outbox<reliable_chunk>> reliable_out;
  bool flush_queued = false;
  uint64_t routed = 0;        // events taken from clients and actors
  uint64_t retried = 0;       // at-least-once groups sent again
  uint64_t rejected = 0;      // events refused (unknown deployment, no workers, ...)
  uint64_t dropped = 0;       // at-most-once events sent without a reply that were lost
  std::shared_ptr<spdlog::logger> log = logging::get("router");

  static inline const char* name = "troupe.router";
};

// Besides its interface, the router tells itself to retry at-least-once groups and hand-over
// messages for workers it cannot reach yet.
using router_impl = router_actor::extend<
  caf::reacts_to<retry_atom>, caf::reacts_to<outbox_flush_atom>, caf::reacts_to<forward_atom, std::string, caf::message, uint32_t>>;
using router_class = router_impl::stateful_base<router_state>;
using router_ptr = router_class*;



caf::error failure(routing_errc x, std::string text) {
  return caf::make_error(x, std::move(text));
}

/// Why an event of `d` for vnode `v` has nowhere to go.
std::string no_owner(const state::deployment_spec& d, uint32_t v) {
  if (d.route == state::routing::singleton)
    return "no workers: singleton " + d.name + " has no main worker to run on (the cluster has "
           "no live worker)";
  return "no workers: vnode " + std::to_string(v) + " of " + d.name
         + " has no owner (the cluster has no live worker)";
}

/// The ownership epoch of vnode `v` of `d` in the view: deliveries carry it, and the owner's
/// vnode actor handles nothing routed under an older one.
uint64_t epoch_of(const state::cluster_view& view, const state::deployment_spec& d, uint32_t v) {
  if (d.route == state::routing::singleton)
    return view.main.epoch();
  auto& e = view.vnodes.epochs();
  return v < e.size() ? e[v] : 0;
}

uint64_t epoch_of(const router_state& st, const std::string& deployment, uint32_t v) {
  auto* d = st.view.deployments.find(deployment);
  return d ? epoch_of(st.view, *d, v) : 0;
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

/// Runs `then(actor)` with the actor that delivers to `owner`'s vnodes, or `fail(why)`.
template <class Then, class Fail>
void with_owner(router_ptr self, const std::string& owner, Then then, Fail fail) {
  auto& st = self->state;
  if (owner == st.cfg.node_name)
    if (auto host = lookup_as<vnodes_actor>(st.cfg.services, service::vnodes))
      return then(caf::actor_cast<peer_node_actor>(host)); // never sent bus_deliver: fan_out
                                                            // skips this node
  if (auto it = st.nodes.find(owner); it != st.nodes.end() && it->second)
    return then(it->second);
  auto* rec = st.view.members.find(owner);
  auto ep = rec ? parse_endpoint(rec->info.address) : std::nullopt;
  if (!ep)
    return fail("the owner " + owner + " has no known address");
  self->request(st.cfg.resolver, st.cfg.timeout, caf::connect_atom::value, ep->host, ep->port)
    .then(
      [self, owner, then, fail](const caf::node_id&, caf::strong_actor_ptr& ptr,
                                const std::set<std::string>&) mutable {
        // The door of another node hands on whatever it gets: the cast is where the cluster
        // port's dynamic typing ends.
        auto a = caf::actor_cast<peer_node_actor>(ptr);
        if (!a)
          return fail("nothing is published at the owner " + owner);
        self->state.nodes[owner] = a;
        self->monitor(a);
        then(a);
      },
      [owner, fail](const caf::error& err) mutable {
        fail("cannot reach the owner " + owner + ": " + caf::to_string(err));
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
void reliable_done(router_ptr self, const reliable_batch& b);

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
/// `rp` gets the outcome (when the sender waits for it: not for troupe::send's events, which
/// come `from_outbox`).
void start_reliable(router_ptr self, const std::string& deployment,
                    std::vector<uint32_t> vnodes, std::vector<std::string> keys,
                    std::vector<std::string> payloads, bool single, caf::response_promise rp,
                    bool from_outbox = false) {
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

/// Puts `send` behind the last events waiting in the outbox `key` of `boxes`; false when none
/// wait (send now).
template <class Boxes, class Key, class F>
bool after_outbox(Boxes& boxes, const Key& key, F send) {
  auto it = boxes.find(key);
  if (it == boxes.end() || it->second.chunks.empty())
    return false;
  it->second.chunks.back().then_send.emplace_back(std::move(send));
  return true;
}

/// Has the router flush its outboxes once it handled what its mailbox holds now.
void queue_flush(router_ptr self) {
  if (self->state.flush_queued)
    return;
  self->state.flush_queued = true;
  self->send(self, outbox_flush_atom::value);
}

/// Sends `owner` the at-most-once events of `deployment` that waited in its outbox, while
/// the window allows. Nobody waits for them: what the owner did not take counts as dropped.
void pump_outbox(router_ptr self, const std::string& owner, const std::string& deployment) {
  auto& st = self->state;
  auto it = st.outboxes.find({owner, deployment});
  if (it == st.outboxes.end())
    return;
  auto& out = it->second;
  if (!out.may_send()) {
    if (out.chunks.empty() && out.unanswered == 0)
      st.outboxes.erase(it);
    return;
  }
  auto b = std::move(out.chunks.front());
  out.chunks.pop_front();
  ++out.unanswered;
  auto then_send = std::move(b.then_send);
  b.then_send.clear();
  auto n = static_cast<uint64_t>(b.keys.size());
  auto timeout = st.cfg.timeout;
  auto answered = [self, owner, deployment](uint64_t lost, const std::string& why) {
    auto& st = self->state;
    if (lost > 0) {
      st.dropped += lost;
      st.log->debug("{} events of {} sent without a reply to {} were dropped: {}", lost,
                    deployment, owner, why);
    }
    if (auto it = st.outboxes.find({owner, deployment}); it != st.outboxes.end()) {
      --it->second.unanswered;
      pump_outbox(self, owner, deployment);
    }
  };
  with_owner(
    self, owner,
    [self, deployment, b, n, timeout, answered](peer_node_actor target) mutable {
      self
        ->request(target, timeout, deliver_batch_atom::value, deployment, std::move(b.vnodes),
                  std::move(b.epochs), std::move(b.keys), std::move(b.payloads))
        .then([n, answered](uint64_t took) { answered(took < n ? n - took : 0, "not served"); },
              [n, answered](caf::error& err) { answered(n, caf::to_string(err)); });
    },
    [n, answered](const std::string& why) { answered(n, why); });
  for (auto& f : then_send)
    f();
  pump_outbox(self, owner, deployment); // the window may take another chunk
}

/// Starts the at-least-once events of `deployment` sent without a reply, while the window
/// allows; the rest waits for a batch to be done (see reliable_done).
void pump_reliable(router_ptr self, const std::string& deployment) {
  auto& st = self->state;
  auto it = st.reliable_out.find(deployment);
  if (it == st.reliable_out.end())
    return;
  auto& out = it->second;
  while (out.may_send()) {
    auto c = std::move(out.chunks.front());
    out.chunks.pop_front();
    ++out.unanswered;
    start_reliable(self, deployment, std::move(c.vnodes), std::move(c.keys),
                   std::move(c.payloads), false, {}, true);
    for (auto& f : c.then_send)
      f();
  }
  if (out.chunks.empty() && out.unanswered == 0)
    st.reliable_out.erase(it);
}

/// A batch of the outbox of its deployment was acknowledged or given up on.
void reliable_done(router_ptr self, const reliable_batch& b) {
  if (!b.from_outbox)
    return;
  auto& out = self->state.reliable_out;
  if (auto it = out.find(b.deployment); it != out.end() && it->second.unanswered > 0) {
    --it->second.unanswered;
    pump_reliable(self, b.deployment);
  }
}

void flush_all(router_ptr self) {
  auto& st = self->state;
  st.flush_queued = false;
  std::vector<std::pair<std::string, std::string>> targets;
  for (auto& [to, out] : st.outboxes)
    targets.push_back(to);
  for (auto& [owner, deployment] : targets)
    pump_outbox(self, owner, deployment);
  std::vector<std::string> deployments;
  for (auto& [deployment, out] : st.reliable_out)
    deployments.push_back(deployment);
  for (auto& deployment : deployments)
    pump_reliable(self, deployment);
}

/// An event whose sender asked for no reply (troupe::send): into its outbox.
void hold(router_ptr self, const state::deployment_spec& d, uint32_t v, std::string key,
          std::string payload) {
  auto& st = self->state;
  if (d.guarantee == state::delivery::at_least_once) {
    auto& c = st.reliable_out[d.name].back();
    c.vnodes.push_back(v);
    c.keys.push_back(std::move(key));
    c.payloads.push_back(std::move(payload));
    if (c.keys.size() >= outbox_max_events)
      return pump_reliable(self, d.name);
    return queue_flush(self);
  }
  auto& owner = state::owner_of(st.view, d, v);
  if (owner.empty()) {
    ++st.dropped;
    return;
  }
  auto& b = st.outboxes[{owner, d.name}].back();
  b.vnodes.push_back(v);
  b.epochs.push_back(epoch_of(st.view, d, v));
  b.keys.push_back(std::move(key));
  b.payloads.push_back(std::move(payload));
  if (b.keys.size() >= outbox_max_events)
    return pump_outbox(self, owner, d.name);
  queue_flush(self);
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
    [self](forward_atom, const std::string& to, caf::message& msg) {
      forward(self, to, std::move(msg), 0);
    },
    [self](forward_atom, const std::string& to, caf::message& msg, uint32_t attempt) {
      forward(self, to, std::move(msg), attempt);
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

} // namespace

router_actor spawn_router(caf::actor_system& sys, router_config cfg,
                          std::shared_ptr<actor_stats> stats) {
  return spawn_counted_as<router_class>(
    sys, [cfg](router_ptr self) { return router(self, cfg); }, std::move(stats));
}

} // namespace troupe
