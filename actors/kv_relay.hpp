// The KV, cluster-state and Raft-status requests that any node accepts and passes on (clients
// reach the cluster through any node): a coordinator's ingress to its Raft actor, a worker's
// ingress to its membership agent, and that agent to its coordinator. The handlers implement
// kv_service_actor (raft_actor.hpp): each answers with that interface's reply types.
#pragma once

#include "actors/link/link.hpp"
#include "actors/members_only.hpp"
#include "actors/supervision/service_errc.hpp"
#include "actors/bus/bus_actor.hpp"
#include "actors/inspect/console_handler.hpp"
#include "actors/raft/raft_actor.hpp"
#include "actors/relay.hpp"
#include "protocols/cluster_state/commands.hpp"

#include <caf/response_promise.hpp>
#include <caf/sec.hpp>

#include <functional>
#include <string>
#include <tuple>
#include <vector>

namespace troupe {

/// Hands the current request to `target`: delegated when it is in this process (the reply
/// goes straight to the requester, and none is lost when this actor restarts meanwhile),
/// relayed with a timeout when it is another node (a reply routed back through a third node
/// would die with it). A write carries `token` when not empty (see console_handler.hpp).
template <class... Rs, class Self, class... Ts>
caf::response_promise pass_on(Self* self, const caf::actor& target, bool local,
                              owed_promises* owed, std::chrono::milliseconds timeout,
                              const std::string& token, Ts&&... xs) {
  if (local) {
    auto rp = self->make_response_promise();
    if (!token.empty())
      rp.delegate(target, auth_atom::value, token, caf::make_message(std::forward<Ts>(xs)...));
    else
      rp.delegate(target, std::forward<Ts>(xs)...);
    return rp;
  }
  if (!token.empty())
    return relay<Rs...>(self, owed, target, timeout, auth_atom::value, token,
                        caf::make_message(std::forward<Ts>(xs)...));
  return relay<Rs...>(self, owed, target, timeout, std::forward<Ts>(xs)...);
}

/// Where kv_relay_handler's requests go, and how.
struct kv_relay_route {
  std::function<caf::actor()> target;
  std::chrono::milliseconds timeout;
  std::string unavailable;
  std::string token;
  bool local = false;
  owed_promises* owed = nullptr;
  service_errc why = service_errc::restarting;

  /// The error when target() returns no actor.
  caf::error fail() const {
    return caf::make_error(why, unavailable);
  }
};

/// pass_on along `r` to `t`; a `write` carries the route's token.
template <class... Rs, class Self, class... Ts>
caf::response_promise pass_on(Self* self, const kv_relay_route& r, const caf::actor& t,
                              bool write, Ts&&... xs) {
  return pass_on<Rs...>(self, t, r.local, r.owed, r.timeout, write ? r.token : std::string{},
                        std::forward<Ts>(xs)...);
}

/// The KV store's requests: writes, reads and watches.
template <class Self>
auto kv_relay_store(Self* self, const kv_relay_route& r) {
  using strings = std::vector<std::string>;
  return std::make_tuple(
    [=](kv_put_atom a, std::string& key, std::string& value, int64_t expected, uint64_t client,
        uint64_t seq) -> caf::result<bool, uint64_t> {
      auto t = r.target();
      if (!t)
        return r.fail();
      return pass_on<bool, uint64_t>(self, r, t, true, a, std::move(key), std::move(value),
                                     expected, client, seq);
    },
    [=](kv_del_atom a, std::string& key, int64_t expected, uint64_t client,
        uint64_t seq) -> caf::result<bool, uint64_t> {
      auto t = r.target();
      if (!t)
        return r.fail();
      return pass_on<bool, uint64_t>(self, r, t, true, a, std::move(key), expected, client,
                                     seq);
    },
    [=](kv_get_atom a,
        std::string& key) -> caf::result<bool, std::string, uint64_t, uint64_t> {
      auto t = r.target();
      if (!t)
        return r.fail();
      return pass_on<bool, std::string, uint64_t, uint64_t>(self, r, t, false, a, std::move(key));
    },
    [=](kv_list_atom a, std::string& prefix,
        uint64_t limit) -> caf::result<strings, strings, uint64_t> {
      auto t = r.target();
      if (!t)
        return r.fail();
      return pass_on<strings, strings, uint64_t>(self, r, t, false, a, std::move(prefix), limit);
    },
    [=](kv_watch_atom a, std::string& prefix, uint64_t after)
      -> caf::result<strings, strings, strings, std::vector<uint64_t>, uint64_t> {
      auto t = r.target();
      if (!t)
        return r.fail();
      return pass_on<strings, strings, strings, std::vector<uint64_t>, uint64_t>(
        self, r, t, false, a, std::move(prefix), after);
    }
  );
}

/// The cluster state's requests and the Raft status.
template <class Self>
auto kv_relay_cluster(Self* self, const kv_relay_route& r) {
  using strings = std::vector<std::string>;
  return std::make_tuple(
    [=](state_cmd_atom a, std::string& bytes) -> caf::result<bool, uint64_t, std::string> {
      // Clients may deploy and undeploy, publish persisted broadcasts and record migration
      // steps (fenced by the main worker epoch); membership is the coordinators' own business
      // (a follower's replica forwards its commands to the leader's door).
      state::command cmd;
      auto peer = link_peer_of(self->current_sender());
      bool from_coordinator = peer && peer->coordinator;
      if (!state::decode(bytes, cmd)
          || !(from_coordinator || std::holds_alternative<state::deploy_cmd>(cmd.body)
               || std::holds_alternative<state::undeploy_cmd>(cmd.body)
               || std::holds_alternative<state::bus_publish_cmd>(cmd.body)
               || std::holds_alternative<state::migration_cmd>(cmd.body)))
        return caf::make_error(raft_errc::malformed,
                               "only deploy, undeploy, broadcasts and migration steps are "
                               "accepted from clients");
      auto t = r.target();
      if (!t)
        return r.fail();
      return pass_on<bool, uint64_t, std::string>(self, r, t, true, a, std::move(bytes));
    },
    [=](bus_fetch_atom a, std::vector<std::string>& topics,
        std::vector<uint64_t>& after) -> caf::result<std::string> {
      auto t = r.target();
      if (!t)
        return r.fail();
      return pass_on<std::string>(self, r, t, false, a, std::move(topics), std::move(after));
    },
    [=](member_changes_atom a) -> caf::result<std::string> {
      auto t = r.target();
      if (!t)
        return r.fail();
      return pass_on<std::string>(self, r, t, false, a);
    },
    [=](bus_topics_atom a) -> caf::result<strings, std::vector<uint64_t>, std::vector<uint64_t>> {
      auto t = r.target();
      if (!t)
        return r.fail();
      return pass_on<strings, std::vector<uint64_t>, std::vector<uint64_t>>(self, r, t, false, a);
    },
    [=](vnodes_atom a) -> caf::result<strings, std::vector<uint64_t>, uint64_t> {
      auto t = r.target();
      if (!t)
        return r.fail();
      return pass_on<strings, std::vector<uint64_t>, uint64_t>(self, r, t, false, a);
    },
    [=](deployments_atom a) -> caf::result<strings, uint64_t> {
      auto t = r.target();
      if (!t)
        return r.fail();
      return pass_on<strings, uint64_t>(self, r, t, false, a);
    },
    [=](jobs_cmd_atom a, std::string& bytes)
      -> caf::result<std::vector<uint64_t>, std::vector<uint64_t>> {
      // Hand-outs and expiries are the leader's own decisions: no client proposes them.
      state::command cmd;
      auto* jc = state::decode(bytes, cmd) ? std::get_if<state::jobs_cmd>(&cmd.body) : nullptr;
      if (!jc || !state::client_may_propose(*jc))
        return caf::make_error(raft_errc::malformed,
                               "only queue and task changes, submits, retries, results and set "
                               "changes are accepted from clients");
      auto t = r.target();
      if (!t)
        return r.fail();
      return pass_on<std::vector<uint64_t>, std::vector<uint64_t>>(self, r, t, true, a,
                                                                   std::move(bytes));
    },
    [=](instance_cmd_atom a, std::string& bytes)
      -> caf::result<std::vector<uint64_t>, std::vector<uint64_t>, strings> {
      if (refused_non_member(self, "instance state commands"))
        return caf::make_error(raft_errc::malformed, "only members of the cluster write instance state");
      auto t = r.target();
      if (!t)
        return r.fail();
      return pass_on<std::vector<uint64_t>, std::vector<uint64_t>, strings>(self, r, t, false, a,
                                                                            std::move(bytes));
    },
    [=](instances_view_atom a, std::string& deployment) -> caf::result<std::string> {
      auto t = r.target();
      if (!t)
        return r.fail();
      return pass_on<std::string>(self, r, t, false, a, std::move(deployment));
    },
    [=](jobs_view_atom a, std::string& queue, std::string& what) -> caf::result<std::string> {
      auto t = r.target();
      if (!t)
        return r.fail();
      return pass_on<std::string>(self, r, t, false, a, std::move(queue), std::move(what));
    },
    [=](raft_status_atom a) -> caf::result<raft_status> {
      auto t = r.target();
      if (!t)
        return r.fail();
      return pass_on<raft_status>(self, r, t, false, a);
    });
}

/// Returns handlers passing KV requests on to `target()` (in this process when `local`), as a
/// tuple: a typed actor joins them into its behavior (handlers.hpp), a dynamically typed one
/// into a message_handler.
/// When it returns no actor, requests fail at once with `unavailable`. Writes to another node
/// carry `token` (when not empty): see console_handler.hpp. Requests relayed to another node
/// keep their promises in `owed` when given (the caller fails them as it exits).
template <class Self>
auto kv_relay_handler(Self* self, std::function<caf::actor()> target,
                      std::chrono::milliseconds timeout, std::string unavailable,
                      std::string token = {}, bool local = false, owed_promises* owed = nullptr,
                      service_errc why = service_errc::restarting) {
  kv_relay_route r{std::move(target), timeout, std::move(unavailable), std::move(token), local,
                   owed, why};
  return std::tuple_cat(kv_relay_store(self, r), kv_relay_cluster(self, r));
}

} // namespace troupe
