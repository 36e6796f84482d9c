// The KV, cluster-state and Raft-status requests that any node's published actor accepts and
// relays (clients reach the cluster through any node): a
// coordinator to its Raft actor, a worker to its coordinator. Append the handler to the
// actor's behavior.
#pragma once

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

/// Returns handlers relaying KV requests to `target()`. When it returns no actor, requests
/// fail at once with `unavailable`.
/// Writes to another node carry `token` (when not empty): see console_handler.hpp.
template <class Self>
caf::message_handler kv_relay_handler(Self* self, std::function<caf::actor()> target,
                                      std::chrono::milliseconds timeout,
                                      std::string unavailable, std::string token = {}) {
  auto fail = [self, unavailable] {
    auto rp = self->make_response_promise();
    rp.deliver(caf::make_error(caf::sec::runtime_error, unavailable));
    return rp;
  };
  return {
    [=](kv_put_atom a, std::string& key, std::string& value, int64_t expected, uint64_t client,
        uint64_t seq) -> caf::response_promise {
      auto t = target();
      if (!t)
        return fail();
      if (!token.empty())
        return relay<bool, uint64_t>(self, t, timeout, auth_atom::value, token,
                                     caf::make_message(a, std::move(key), std::move(value),
                                                       expected, client, seq));
      return relay<bool, uint64_t>(self, t, timeout, a, std::move(key), std::move(value),
                                   expected, client, seq);
    },
    [=](kv_del_atom a, std::string& key, int64_t expected, uint64_t client,
        uint64_t seq) -> caf::response_promise {
      auto t = target();
      if (!t)
        return fail();
      if (!token.empty())
        return relay<bool, uint64_t>(self, t, timeout, auth_atom::value, token,
                                     caf::make_message(a, std::move(key), expected, client, seq));
      return relay<bool, uint64_t>(self, t, timeout, a, std::move(key), expected, client, seq);
    },
    [=](kv_get_atom a, std::string& key) -> caf::response_promise {
      auto t = target();
      if (!t)
        return fail();
      return relay<bool, std::string, uint64_t, uint64_t>(self, t, timeout, a, std::move(key));
    },
    [=](kv_list_atom a, std::string& prefix, uint64_t limit) -> caf::response_promise {
      auto t = target();
      if (!t)
        return fail();
      return relay<std::vector<std::string>, std::vector<std::string>, uint64_t>(
        self, t, timeout, a, std::move(prefix), limit);
    },
    [=](kv_watch_atom a, std::string& prefix, uint64_t after) -> caf::response_promise {
      auto t = target();
      if (!t)
        return fail();
      return relay<std::vector<std::string>, std::vector<std::string>, std::vector<std::string>,
                   std::vector<uint64_t>, uint64_t>(self, t, timeout, a, std::move(prefix),
                                                    after);
    },
    [=](state_cmd_atom a, std::string& bytes) -> caf::response_promise {
      // Clients may deploy and undeploy, publish persisted broadcasts and record migration
      // steps (fenced by the main worker epoch); membership is the coordinators' own business.
      state::command cmd;
      if (!state::decode(bytes, cmd)
          || !(std::holds_alternative<state::deploy_cmd>(cmd.body)
               || std::holds_alternative<state::undeploy_cmd>(cmd.body)
               || std::holds_alternative<state::bus_publish_cmd>(cmd.body)
               || std::holds_alternative<state::migration_cmd>(cmd.body))) {
        auto rp = self->make_response_promise();
        rp.deliver(caf::make_error(caf::sec::invalid_argument,
                                   "only deploy, undeploy, broadcasts and migration steps are "
                                   "accepted from clients"));
        return rp;
      }
      auto t = target();
      if (!t)
        return fail();
      if (!token.empty())
        return relay<bool, uint64_t, std::string>(self, t, timeout, auth_atom::value, token,
                                                  caf::make_message(a, std::move(bytes)));
      return relay<bool, uint64_t, std::string>(self, t, timeout, a, std::move(bytes));
    },
    [=](bus_fetch_atom a, std::vector<std::string>& topics,
        std::vector<uint64_t>& after) -> caf::response_promise {
      auto t = target();
      if (!t)
        return fail();
      return relay<std::string>(self, t, timeout, a, std::move(topics), std::move(after));
    },
    [=](vnodes_atom a) -> caf::response_promise {
      auto t = target();
      if (!t)
        return fail();
      return relay<std::vector<std::string>, std::vector<uint64_t>, uint64_t>(self, t, timeout,
                                                                             a);
    },
    [=](deployments_atom a) -> caf::response_promise {
      auto t = target();
      if (!t)
        return fail();
      return relay<std::vector<std::string>, uint64_t>(self, t, timeout, a);
    },
    [=](raft_status_atom a) -> caf::response_promise {
      auto t = target();
      if (!t)
        return fail();
      return relay<raft_status>(self, t, timeout, a);
    },
  };
}

} // namespace troupe
