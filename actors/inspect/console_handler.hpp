// What the ingress (the published actor of every node) handles for the console and `troupe ctl`:
//
// console_handler: the inspection commands (actors, inspect, tree, spawn, tell, ask, kill,
// logs), handed to the node's inspector (its current incarnation, from the service directory).
//
// guard_writes: the console token. With a token configured on the node (--console-token), a
// command that changes anything (spawn, tell, ask, kill, send, request, deploy, undeploy, KV
// writes) is accepted only as (auth_atom, token, command) with the right token, or from this
// node's own actors; reading needs nothing. Without a token every command is accepted.
// Forwarding nodes (a worker relaying a KV write to its coordinator) wrap the command with
// their own token.
#pragma once

#include "actors/inspect/console_errc.hpp"
#include "actors/supervision/service_errc.hpp"
#include "actors/bus/bus_actor.hpp"
#include "actors/inspect/inspector.hpp"
#include "actors/link/link.hpp"
#include "actors/members_only.hpp"
#include "actors/log_roller.hpp"
#include "actors/raft/raft_actor.hpp"
#include "actors/router.hpp"
#include "actors/supervision/services.hpp"

#include <caf/behavior.hpp>
#include <caf/detail/default_invoke_result_visitor.hpp>
#include <caf/mailbox_element.hpp>

#include <optional>
#include <caf/message_handler.hpp>
#include <caf/sec.hpp>

#include <string>
#include <vector>

namespace troupe {

using auth_atom = caf::atom_constant<caf::atom("t_auth")>;

template <class Self>
caf::message_handler console_handler(Self* self, std::shared_ptr<service_directory> services) {
  auto missing = [] {
    return caf::make_error(service_errc::restarting,
                           std::string{"this node's inspector is restarting: try again"});
  };
  return {
    [=](actors_atom a, uint64_t offset, uint64_t limit) -> caf::result<caf::message> {
      auto inspector = services->get(service::inspector);
      if (!inspector)
        return missing();
      return self->delegate(inspector, a, offset, limit);
    },
    [=](inspect_atom a, std::string& who) -> caf::result<caf::message> {
      auto inspector = services->get(service::inspector);
      if (!inspector)
        return missing();
      return self->delegate(inspector, a, std::move(who));
    },
    [=](health_atom a) -> caf::result<caf::message> {
      auto inspector = services->get(service::inspector);
      if (!inspector)
        return missing();
      return self->delegate(inspector, a);
    },
    [=](tree_atom a) -> caf::result<caf::message> {
      auto inspector = services->get(service::inspector);
      if (!inspector)
        return missing();
      return self->delegate(inspector, a);
    },
    [=](spawn_atom a, std::string& type, std::string& name, std::vector<std::string>& args,
        uint32_t count) -> caf::result<caf::message> {
      auto inspector = services->get(service::inspector);
      if (!inspector)
        return missing();
      return self->delegate(inspector, a, std::move(type), std::move(name), std::move(args),
                            count);
    },
    [=](tell_atom a, std::string& who, std::string& key,
        std::string& payload) -> caf::result<caf::message> {
      auto inspector = services->get(service::inspector);
      if (!inspector)
        return missing();
      return self->delegate(inspector, a, std::move(who), std::move(key), std::move(payload));
    },
    [=](ask_atom a, std::string& who, std::string& key, std::string& payload,
        uint64_t timeout_ms) -> caf::result<caf::message> {
      auto inspector = services->get(service::inspector);
      if (!inspector)
        return missing();
      return self->delegate(inspector, a, std::move(who), std::move(key), std::move(payload),
                            timeout_ms);
    },
    [=](kill_atom a, std::string& who, std::string& reason,
        bool for_good) -> caf::result<caf::message> {
      auto inspector = services->get(service::inspector);
      if (!inspector)
        return missing();
      return self->delegate(inspector, a, std::move(who), std::move(reason), for_good);
    },
    [=](logs_atom a, uint64_t after, int32_t level, uint64_t limit) -> caf::result<caf::message> {
      auto inspector = services->get(service::inspector);
      if (!inspector)
        return missing();
      return self->delegate(inspector, a, after, level, limit);
    },
  };
}

/// Returns the published actor's behavior: `open` (its handlers), with writes guarded by
/// `token` (see above) and, when `credential` is not empty (what a client needs: with TLS the
/// operator's certificate, without it the cluster's cookie), by may_change_things.
template <class Self>
caf::behavior guard_writes(Self* self, std::string token, caf::message_handler open,
                           std::string credential = {}) {
  // Runs `inner` through the open handlers as if it were the current message: its reply (or
  // the reply of whoever it is delegated to) goes to the current sender.
  auto run = [self, open](caf::message inner) mutable -> caf::result<caf::message> {
    caf::detail::default_invoke_result_visitor<Self> v{self};
    if (open(v, inner) == caf::match_case::no_match)
      return caf::make_error(console_errc::unknown_command,
                             std::string{"not a command this node knows"});
    return caf::delegated<caf::message>{};
  };
  // A client's write needs the credential (certificate or cookie), token or not.
  auto not_operator = [self, credential]() -> std::optional<caf::error> {
    auto* e = self->current_mailbox_element();
    if (credential.empty() || !e || may_change_things(e->sender))
      return std::nullopt;
    count_refused_write(self->system(), e->sender, credential);
    return caf::make_error(console_errc::refused,
                           "refused: commands that change anything need " + credential);
  };
  caf::message_handler auth{
    [=](auth_atom, const std::string& given, caf::message& inner) mutable
    -> caf::result<caf::message> {
      if (auto refused = not_operator())
        return std::move(*refused);
      if (!token.empty() && given != token)
        return caf::make_error(console_errc::refused,
                               std::string{"refused: wrong console token"});
      return run(std::move(inner));
    },
  };
  if (token.empty() && credential.empty())
    return caf::behavior{auth.or_else(open)};
  // A write without the token: from this node's own actors it is fine (a vnode host writing
  // snapshots), from anywhere else it is refused (with TLS and no token: from an operator).
  auto check = [self, run, token, not_operator]() mutable -> caf::result<caf::message> {
    auto* e = self->current_mailbox_element();
    if (e && e->sender && e->sender->node() == self->node() && !link_peer_of(e->sender))
      return run(e->copy_content_to_message());
    if (auto refused = not_operator())
      return std::move(*refused);
    if (token.empty())
      return run(e->copy_content_to_message());
    return caf::make_error(console_errc::refused,
                           std::string{"refused: this cluster needs the console token for "
                                       "commands that change anything (give --token)"});
  };
  caf::message_handler guards{
    [=](kv_put_atom, const std::string&, const std::string&, int64_t, uint64_t,
        uint64_t) mutable { return check(); },
    [=](kv_del_atom, const std::string&, int64_t, uint64_t, uint64_t) mutable {
      return check();
    },
    [=](state_cmd_atom, const std::string&) mutable { return check(); },
    [=](jobs_cmd_atom, const std::string&) mutable { return check(); },
    [=](route_atom, const std::string&, const std::string&, const std::string&) mutable {
      return check();
    },
    [=](route_msg_atom, const std::string&, const std::string&, const caf::message&) mutable {
      return check();
    },
    [=](route_batch_atom, const std::string&, const std::vector<std::string>&,
        const std::vector<std::string>&) mutable { return check(); },
    [=](spawn_atom, const std::string&, const std::string&, const std::vector<std::string>&,
        uint32_t) mutable { return check(); },
    [=](tell_atom, const std::string&, const std::string&, const std::string&) mutable {
      return check();
    },
    [=](ask_atom, const std::string&, const std::string&, const std::string&,
        uint64_t) mutable { return check(); },
    [=](kill_atom, const std::string&, const std::string&, bool) mutable { return check(); },
    [=](log_rotate_atom) mutable { return check(); },
    [=](bus_publish_atom, const std::string&, const std::string&, const std::string&, bool,
        bool) mutable { return check(); },
  };
  return caf::behavior{auth.or_else(guards).or_else(open)};
}

} // namespace troupe

namespace troupe {

/// The message a client sends for a command that may need the console token: the command
/// itself, or (auth_atom, token, command) when the client has a token.
template <class... Ts>
caf::message write_message(const std::string& token, Ts&&... xs) {
  auto inner = caf::make_message(std::forward<Ts>(xs)...);
  if (token.empty())
    return inner;
  return caf::make_message(auth_atom::value, token, std::move(inner));
}

} // namespace troupe
