// The KV, cluster-state and Raft-status requests that any node accepts and passes on (clients
// reach the cluster through any node): a coordinator's ingress to its Raft actor, a worker's
// ingress to its membership agent, and that agent to its coordinator.
#pragma once

#include "actors/supervision/service_errc.hpp"
#include "actors/bus/bus_actor.hpp"
#include "actors/inspect/console_handler.hpp"
#include "actors/raft/raft_actor.hpp"
#include "actors/relay.hpp"
#include "protocols/cluster_state/commands.hpp"

#include <caf/message_handler.hpp>
#include <caf/sec.hpp>

#include <functional>
#include <string>
#include <vector>

namespace troupe {

/// Hands the current request to `target`: delegated when it is in this process (the reply
/// goes straight to the requester, and none is lost when this actor restarts meanwhile),
/// relayed with a timeout when it is another node (a reply routed back through a third node
/// would die with it). A write carries `token` when not empty (see console_handler.hpp).
template <class... Rs, class Self, class... Ts>
caf::result<caf::message> pass_on(Self* self, const caf::actor& target, bool local,
                                  owed_promises* owed, std::chrono::milliseconds timeout,
                                  const std::string& token, Ts&&... xs) {
  if (local) {
    if (!token.empty())
      return self->delegate(target, auth_atom::value, token,
                            caf::make_message(std::forward<Ts>(xs)...));
    return self->delegate(target, std::forward<Ts>(xs)...);
  }
  if (!token.empty())
    return relay<Rs...>(self, owed, target, timeout, auth_atom::value, token,
                        caf::make_message(std::forward<Ts>(xs)...));
  return relay<Rs...>(self, owed, target, timeout, std::forward<Ts>(xs)...);
}

/// Returns handlers passing KV requests on to `target()` (in this process when `local`).
/// When it returns no actor, requests fail at once with `unavailable`. Writes to another node
/// carry `token` (when not empty): see console_handler.hpp. Requests relayed to another node
/// keep their promises in `owed` when given (the caller fails them as it exits).
template <class Self>
caf::message_handler kv_relay_handler(Self* self, std::function<caf::actor()> target,
                                      std::chrono::milliseconds timeout,
                                      std::string unavailable, std::string token = {},
                                      bool local = false, owed_promises* owed = nullptr,
                                      service_errc why = service_errc::restarting) {
  auto fail = [unavailable, why] {
    return caf::result<caf::message>{caf::make_error(why, unavailable)};
  };
  return {
    [=](kv_put_atom a, std::string& key, std::string& value, int64_t expected, uint64_t client,
        uint64_t seq) -> caf::result<caf::message> {
      auto t = target();
      if (!t)
        return fail();
      return pass_on<bool, uint64_t>(self, t, local, owed, timeout, token, a, std::move(key),
                                     std::move(value), expected, client, seq);
    },
    [=](kv_del_atom a, std::string& key, int64_t expected, uint64_t client,
        uint64_t seq) -> caf::result<caf::message> {
      auto t = target();
      if (!t)
        return fail();
      return pass_on<bool, uint64_t>(self, t, local, owed, timeout, token, a, std::move(key), expected,
                                     client, seq);
    },
    [=](kv_get_atom a, std::string& key) -> caf::result<caf::message> {
      auto t = target();
      if (!t)
        return fail();
      return pass_on<bool, std::string, uint64_t, uint64_t>(self, t, local, owed, timeout, {}, a,
                                                            std::move(key));
    },
    [=](kv_list_atom a, std::string& prefix, uint64_t limit) -> caf::result<caf::message> {
      auto t = target();
      if (!t)
        return fail();
      return pass_on<std::vector<std::string>, std::vector<std::string>, uint64_t>(
        self, t, local, owed, timeout, {}, a, std::move(prefix), limit);
    },
    [=](kv_watch_atom a, std::string& prefix, uint64_t after) -> caf::result<caf::message> {
      auto t = target();
      if (!t)
        return fail();
      return pass_on<std::vector<std::string>, std::vector<std::string>, std::vector<std::string>,
                     std::vector<uint64_t>, uint64_t>(self, t, local, owed, timeout, {}, a,
                                                      std::move(prefix), after);
    },
    [=](state_cmd_atom a, std::string& bytes) -> caf::result<caf::message> {
      // Clients may deploy and undeploy, publish persisted broadcasts and record migration
      // steps (fenced by the main worker epoch); membership is the coordinators' own business.
      state::command cmd;
      if (!state::decode(bytes, cmd)
          || !(std::holds_alternative<state::deploy_cmd>(cmd.body)
               || std::holds_alternative<state::undeploy_cmd>(cmd.body)
               || std::holds_alternative<state::bus_publish_cmd>(cmd.body)
               || std::holds_alternative<state::migration_cmd>(cmd.body)))
        return caf::make_error(raft_errc::malformed,
                               "only deploy, undeploy, broadcasts and migration steps are "
                               "accepted from clients");
      auto t = target();
      if (!t)
        return fail();
      return pass_on<bool, uint64_t, std::string>(self, t, local, owed, timeout, token, a,
                                                  std::move(bytes));
    },
    [=](bus_fetch_atom a, std::vector<std::string>& topics,
        std::vector<uint64_t>& after) -> caf::result<caf::message> {
      auto t = target();
      if (!t)
        return fail();
      return pass_on<std::string>(self, t, local, owed, timeout, {}, a, std::move(topics),
                                  std::move(after));
    },
    [=](vnodes_atom a) -> caf::result<caf::message> {
      auto t = target();
      if (!t)
        return fail();
      return pass_on<std::vector<std::string>, std::vector<uint64_t>, uint64_t>(
        self, t, local, owed, timeout, {}, a);
    },
    [=](deployments_atom a) -> caf::result<caf::message> {
      auto t = target();
      if (!t)
        return fail();
      return pass_on<std::vector<std::string>, uint64_t>(self, t, local, owed, timeout, {}, a);
    },
    [=](raft_status_atom a) -> caf::result<caf::message> {
      auto t = target();
      if (!t)
        return fail();
      return pass_on<raft_status>(self, t, local, owed, timeout, {}, a);
    },
  };
}

} // namespace troupe
