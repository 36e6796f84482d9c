// A program's connection to a Troupe cluster from outside it, as `troupe ctl` has one:
// requests to deployments with messages of your own types, and their typed replies.
//
//   troupe::client bank{"127.0.0.1:8139", [](caf::actor_system_config& cfg) {
//     cfg.add_message_type<deposit>("bank.deposit");  // the same names as on the nodes
//     cfg.add_message_type<balance>("bank.balance");
//   }};
//   caf::expected<balance> b = bank.request<balance>("accounts", "alice", deposit{100});
//   if (!b) std::cerr << bank.render(b.error()) << "\n";
//
// Without TLS it proves the cluster's cookie ($TROUPE_CLUSTER_SECRET_FILE, else the one under
// ./troupe-data/*/cookie), as `troupe ctl` does.
#pragma once

#include "actors/api/message_types.hpp"
#include "actors/api/messages.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/expected.hpp>
#include <caf/make_message.hpp>
#include <caf/scoped_actor.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace troupe {

/// A connection to a cluster from a program outside it: requests to deployments with
/// messages of the program's own types, and their typed replies.
class client {
public:
  /// `endpoint`: any node of the cluster, "host:port". `add_types` registers the message
  /// types the requests carry and the replies hold. `token`: the cluster's console token
  /// ("" : none; a cluster with one refuses requests without it).
  explicit client(std::string endpoint,
                  std::function<void(caf::actor_system_config&)> add_types = {},
                  std::string token = {});
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  /// The actor system the requests are made from.
  caf::actor_system& system();

  /// The node's door, connected on first use; an error saying why when it cannot be reached.
  caf::expected<caf::actor> node(std::chrono::milliseconds timeout = std::chrono::seconds(5));

  /// Sends `msg` to the instance of `deployment` that `key` routes to and waits up to
  /// `timeout` for its reply, of type R. A type not registered fails at once, naming it.
  template <class R, class T>
  caf::expected<R> request(const std::string& deployment, const std::string& key, T msg,
                           std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    auto m = caf::make_message(std::move(msg));
    auto checked = check(m);
    if (!checked)
      return checked.error();
    auto door = node(timeout);
    if (!door)
      return door.error();
    caf::scoped_actor self{system()};
    caf::expected<R> out{caf::sec::request_timeout};
    self->request(*door, timeout, routed(deployment, key, std::move(m)))
      .receive([&](R& reply) { out = std::move(reply); },
               [&](caf::error& err) { out = std::move(err); });
    return out;
  }

  /// An error as one line of text, as `troupe ctl` prints it.
  std::string render(const caf::error& err);

private:
  /// An error when `msg` holds a type this client cannot send.
  caf::expected<void> check(const caf::message& msg);

  /// The request for `msg` to `deployment` by `key` (with the token, when there is one).
  caf::message routed(const std::string& deployment, const std::string& key, caf::message msg);

  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace troupe
