#include "actors/api/errors.hpp"
#include "actors/bus/bus_actor.hpp"

#include "actors/api/counted_actor.hpp"
#include "actors/handlers.hpp"
#include "actors/logging.hpp"
#include "actors/members_only.hpp"
#include "actors/names.hpp"
#include "actors/raft/raft_actor.hpp"
#include "actors/vnodes/vnodes.hpp"
#include "actors/wire.hpp"
#include "actors/workload_pull.hpp"
#include "protocols/bus/delivery.hpp"
#include "protocols/cluster_state/commands.hpp"
#include "protocols/cluster_state/state_machine.hpp"

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <spdlog/spdlog.h>

#include <map>

namespace troupe {

std::string check_topic(const std::string& ns, const std::string& topic) {
  if (!valid_name(ns))
    return "a namespace is 1 to 64 letters, digits, '-', '_' or '.' (got '" + ns + "')";
  if (topic.empty() || topic.size() > 256)
    return "a topic has 1 to 256 characters";
  for (unsigned char c : topic)
    if (c < 0x21 || c == 0x7f)
      return "a topic has no spaces or control characters";
  return {};
}

namespace {

using bus_retry_atom = caf::atom_constant<caf::atom("bus_retry")>;

} // namespace

/// One subscription (a member of bus_table, which has linkage: not in the anonymous namespace).
struct bus_subscription {
  caf::actor who;
  std::string ns;
  std::string topic;
};

struct bus_table {
  explicit bus_table(const std::string& node) : ds(node) {}
  bus::delivery_state ds;
  std::map<uint64_t, bus_subscription> subs;
};

std::shared_ptr<bus_table> make_bus_table(const std::string& node_name) {
  return std::make_shared<bus_table>(node_name);
}

namespace {

struct bus_state {
  bus_config cfg;
  bus::delivery_state* ds = nullptr;        // in cfg.table
  std::map<uint64_t, bus_subscription>* subs = nullptr;
  bool retry_scheduled = false;
  bool fetch_failing = false;  // warned about failing fetches; quiet until one succeeds
  uint64_t published = 0;      // broadcasts published on this node
  uint64_t persisted = 0;      // of those, committed through Raft
  uint64_t delivered = 0;      // messages handed to subscribers on this node
  uint64_t dropped = 0;        // broadcasts that did not reach a member (best effort)
  uint64_t failed = 0;         // persisted broadcasts that were not committed
  std::shared_ptr<spdlog::logger> log = logging::get("bus");

  static inline const char* name = "troupe.bus";
};

// Besides its interface, the bus tells itself to retry a fetch.
using bus_impl = bus_actor::extend<caf::reacts_to<bus_retry_atom>>;
using bus_class = bus_impl::stateful_base<bus_state>;
using bus_ptr = bus_class*;

caf::error failure(bus_errc x, std::string text) {
  return caf::make_error(x, std::move(text));
}

void deliver(bus_ptr self, const std::vector<bus::delivery>& ds) {
  auto& st = self->state;
  for (auto& d : ds) {
    auto it = st.subs->find(d.subscription);
    if (it == st.subs->end())
      continue;
    self->send(caf::actor_cast<bus_subscriber>(it->second.who), bus_message_atom::value, it->second.ns, it->second.topic,
               d.msg.payload, d.msg.index, d.msg.origin);
    ++st.delivered;
  }
}

void retry_later(bus_ptr self) {
  auto& st = self->state;
  if (st.retry_scheduled)
    return;
  st.retry_scheduled = true;
  // Sooner while things work (a replica a little behind), later while fetches fail.
  self->delayed_send(self, std::chrono::milliseconds(st.fetch_failing ? 1000 : 200),
                     bus_retry_atom::value);
}

/// Fetches what the subscribers have not seen of the persisted broadcasts, if anything.
caf::actor node_of(bus_ptr self) {
  return self->state.cfg.services ? self->state.cfg.services->get(service::ingress)
                                  : caf::actor{};
}

void maybe_fetch(bus_ptr self) {
  auto& st = self->state;
  auto node = node_of(self);
  if (!node)
    return; // not yet: the next view or subscription tries again
  auto req = st.ds->next_fetch();
  if (!req)
    return;
  self->request(node, st.cfg.timeout, bus_fetch_atom::value, req->topics, req->after)
    .then(
      [self, topics = req->topics](const std::string& bytes) {
        auto& st = self->state;
        std::vector<std::pair<std::string, state::bus_entry>> entries;
        uint64_t head = 0;
        if (!state::decode_bus_fetch(bytes, entries, head)) {
          st.log->error("a coordinator answered a bus fetch with bytes that do not decode");
          st.ds->fetch_failed();
          return retry_later(self);
        }
        std::map<std::string, uint32_t> index;
        for (uint32_t k = 0; k < topics.size(); ++k)
          index.emplace(topics[k], k);
        std::vector<bus::fetched_entry> got;
        for (auto& [topic, e] : entries)
          if (auto it = index.find(topic); it != index.end())
            got.push_back(bus::fetched_entry{it->second, std::move(e)});
        if (st.fetch_failing)
          st.log->info("fetching persisted broadcasts again");
        st.fetch_failing = false;
        deliver(self, st.ds->fetched(got, head));
        if (head < st.ds->head())
          return retry_later(self); // a replica behind the view: ask again shortly
        maybe_fetch(self);
      },
      [self](const caf::error& err) {
        auto& st = self->state;
        if (!st.fetch_failing)
          st.log->warn("cannot fetch persisted broadcasts (retrying every second): {}",
                       self->system().render(err));
        st.fetch_failing = true;
        st.ds->fetch_failed();
        retry_later(self);
      });
}

void unsubscribe_all(bus_ptr self, const caf::actor_addr& who) {
  auto& st = self->state;
  for (auto it = st.subs->begin(); it != st.subs->end();) {
    if (it->second.who.address() == who) {
      st.ds->unsubscribe(it->first);
      it = st.subs->erase(it);
    } else {
      ++it;
    }
  }
}

auto subscription_handlers(bus_ptr self) {
  return std::make_tuple(
    [self](bus_subscribe_atom, const std::string& ns, const std::string& topic,
           caf::actor who) -> caf::result<uint64_t> {
      auto& st = self->state;
      if (auto why = check_topic(ns, topic); !why.empty())
        return failure(bus_errc::invalid, why);
      if (!who)
        who = caf::actor_cast<caf::actor>(self->current_sender());
      if (!who)
        return failure(bus_errc::no_subscriber, "a subscription needs an actor to deliver to");
      auto id = st.ds->subscribe(ns + "/" + topic);
      (*st.subs)[id] = bus_subscription{who, ns, topic};
      self->monitor(who);
      st.log->debug("subscription {} to {}/{}", id, ns, topic);
      maybe_fetch(self);
      return id;
    },
    [self](bus_unsubscribe_atom, uint64_t id) {
      auto& st = self->state;
      auto it = st.subs->find(id);
      if (it == st.subs->end())
        return;
      // Only the subscriber ends its subscription: ids are small numbers, and another client
      // must not silence someone else's.
      auto& sender = self->current_sender();
      if (!sender || sender->address() != it->second.who.address()) {
        count_refused(self->system(), sender,
                      "an unsubscribe from subscription " + std::to_string(id)
                        + " that is not its own");
        return;
      }
      st.ds->unsubscribe(id);
      st.subs->erase(it);
    }
  );
}

auto publish_handlers(bus_ptr self) {
  return std::make_tuple(
    [self](bus_publish_atom, const std::string& ns, const std::string& topic,
           std::string& payload, bool persist, bool send_to_self) -> caf::result<uint64_t> {
      auto& st = self->state;
      if (auto why = check_topic(ns, topic); !why.empty())
        return failure(bus_errc::invalid, why);
      auto full = ns + "/" + topic;
      ++st.published;
      if (persist) {
        state::bus_publish_cmd p{full, std::move(payload), st.cfg.node_name, send_to_self,
                                 st.cfg.keep};
        if (auto why = state::check_publish(p); !why.empty())
          return failure(bus_errc::invalid, why);
        auto node = node_of(self);
        if (!node)
          return failure(bus_errc::unavailable,
                         "this node's ingress is restarting: nothing can be persisted now");
        state::command c;
        c.body = std::move(p);
        auto rp = self->make_response_promise<uint64_t>();
        self->request(node, st.cfg.timeout, state_cmd_atom::value, state::encode(c))
          .then(
            [self, rp](bool ok, uint64_t index, const std::string& reason) mutable {
              auto& st = self->state;
              if (!ok) {
                ++st.failed;
                rp.deliver(failure(bus_errc::not_persisted, "not persisted: " + reason));
                return;
              }
              ++st.persisted;
              rp.deliver(index);
            },
            [self, rp](const caf::error& err) mutable {
              ++self->state.failed;
              rp.deliver(failure(bus_errc::not_persisted, "not persisted: " + self->system().render(err)));
            });
        return rp;
      }
      if (send_to_self)
        deliver(self, st.ds->live(full, payload, st.cfg.node_name));
      auto router = st.cfg.services ? st.cfg.services->get(service::router) : caf::actor{};
      if (!router) {
        ++st.dropped;
        return uint64_t{0};
      }
      auto rp = self->make_response_promise<uint64_t>();
      self->request(router, st.cfg.timeout, bus_fanout_atom::value, full,
                    std::move(payload), st.cfg.node_name)
        .then(
          [self, rp](uint64_t, uint64_t dropped) mutable {
            self->state.dropped += dropped;
            rp.deliver(uint64_t{0});
          },
          [self, rp](const caf::error& err) mutable {
            self->state.log->warn("a broadcast did not leave this node: {}",
                                  self->system().render(err));
            ++self->state.dropped;
            rp.deliver(uint64_t{0});
          });
      return rp;
    }
  );
}

auto delivery_handlers(bus_ptr self) {
  return std::make_tuple(
    [self](bus_deliver_atom, const std::string& full, const std::string& payload,
           const std::string& origin) {
      deliver(self, self->state.ds->live(full, payload, origin));
    },
    [self](workload_atom, uint64_t, const std::string& bytes) {
      auto& st = self->state;
      state::cluster_view view;
      if (!state::decode_view(bytes, view))
        return;
      st.ds->set_head(view.bus_head);
      maybe_fetch(self);
    },
    [self](bus_head_atom, uint64_t head) {
      self->state.ds->set_head(head);
      maybe_fetch(self);
    },
    [self](bus_retry_atom) {
      self->state.retry_scheduled = false;
      maybe_fetch(self);
    },
    [self](metrics_atom) -> metrics_result {
      auto& st = self->state;
      return {
        std::vector<std::string>{"troupe_bus_published_total", "troupe_bus_persisted_total",
                                 "troupe_bus_delivered_total", "troupe_bus_dropped_total",
                                 "troupe_bus_persist_failed_total", "troupe_bus_subscriptions"},
        std::vector<uint64_t>{st.published, st.persisted, st.delivered, st.dropped, st.failed,
                              st.subs->size()}};
    }
  );
}

bus_impl::behavior_type bus_behavior(bus_ptr self, bus_config cfg) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  if (!st.cfg.table)
    st.cfg.table = make_bus_table(st.cfg.node_name);
  st.ds = &st.cfg.table->ds;
  st.subs = &st.cfg.table->subs;
  st.log = logging::get("bus");
  self->set_down_handler([self](caf::down_msg& m) { unsubscribe_all(self, m.source); });
  // A bus that was restarted carries on with its predecessor's subscriptions: it watches
  // their actors again, forgets a fetch that died with the old bus, and catches up.
  if (!st.subs->empty())
    st.log->info("carrying on with {} subscriptions", st.subs->size());
  for (auto& [id, sub] : *st.subs)
    self->monitor(sub.who);
  st.ds->fetch_failed();
  pull_workload(self, st.cfg.services);
  return join_handlers<bus_impl::behavior_type>(subscription_handlers(self), publish_handlers(self),
                                                delivery_handlers(self));
}

} // namespace

bus_actor spawn_bus(caf::actor_system& sys, bus_config cfg,
                    std::shared_ptr<actor_stats> stats) {
  return spawn_counted_as<bus_class>(
    sys, [cfg](bus_ptr self) { return bus_behavior(self, cfg); }, std::move(stats));
}

} // namespace troupe
