// The router's state and the helpers its two files share (private to actors/): router.cpp
// (routing, at-least-once delivery, broadcasts) and router_outbox.cpp (the batches of events
// sent without a reply).
#pragma once

#include "actors/router.hpp"

#include "actors/api/errors.hpp"
#include "actors/api/event.hpp"
#include "actors/endpoint.hpp"
#include "actors/logging.hpp"
#include "actors/vnodes/vnodes.hpp"
#include "actors/wire.hpp"
#include "protocols/cluster_state/state_machine.hpp"

#include <caf/io/middleman_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace troupe::router_internal {

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



inline caf::error failure(routing_errc x, std::string text) {
  return caf::make_error(x, std::move(text));
}

/// The ownership epoch of vnode `v` of `d` in the view: deliveries carry it, and the owner's
/// vnode actor handles nothing routed under an older one.
inline uint64_t epoch_of(const state::cluster_view& view, const state::deployment_spec& d, uint32_t v) {
  if (d.route == state::routing::singleton)
    return view.main.epoch();
  auto& e = view.vnodes.epochs();
  return v < e.size() ? e[v] : 0;
}

inline uint64_t epoch_of(const router_state& st, const std::string& deployment, uint32_t v) {
  auto* d = st.view.deployments.find(deployment);
  return d ? epoch_of(st.view, *d, v) : 0;
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

/// Starts delivering at-least-once events (keys[i] to vnodes[i]); `rp` gets the outcome (when
/// the sender waits for it: not for troupe::send's events, which come `from_outbox`).
void start_reliable(router_ptr self, const std::string& deployment,
                    std::vector<uint32_t> vnodes, std::vector<std::string> keys,
                    std::vector<std::string> payloads, bool single, caf::response_promise rp,
                    bool from_outbox = false);

// -- the outboxes (router_outbox.cpp) -------------------------------------------------------

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

/// An event whose sender asked for no reply (troupe::send): into its outbox.
void hold(router_ptr self, const state::deployment_spec& d, uint32_t v, std::string key,
          std::string payload);

/// Sends what the outboxes hold, as far as their windows allow (on the flush message).
void flush_all(router_ptr self);

/// A batch of the at-least-once outbox of its deployment was acknowledged or given up on.
void reliable_done(router_ptr self, const reliable_batch& b);

} // namespace troupe::router_internal
