#include "nodes/troupe_client.hpp"

#include "actors/api/errors.hpp"
#include "actors/endpoint.hpp"
#include "actors/inspect/console_handler.hpp"
#include "nodes/error_text.hpp"
#include "nodes/remote_node.hpp"

#include <caf/scoped_actor.hpp>

namespace troupe {

struct client::impl {
  std::string endpoint;
  std::string token;
  client_config cfg;
  std::unique_ptr<troupe_system> sys;
  caf::actor door;
};

client::client(std::string endpoint, std::function<void(caf::actor_system_config&)> add_types,
               std::string token)
  : impl_(std::make_unique<impl>()) {
  impl_->endpoint = std::move(endpoint);
  impl_->token = std::move(token);
  if (add_types)
    add_types(impl_->cfg);
  impl_->sys = std::make_unique<troupe_system>(impl_->cfg);
}

client::~client() = default;

caf::actor_system& client::system() {
  return *impl_->sys;
}

caf::expected<caf::actor> client::node(std::chrono::milliseconds timeout) {
  if (impl_->door)
    return impl_->door;
  auto ep = parse_endpoint(impl_->endpoint);
  if (!ep)
    return caf::make_error(routing_errc::malformed,
                           "'" + impl_->endpoint + "' is not HOST:PORT");
  caf::scoped_actor self{system()};
  std::string problem;
  impl_->door = connect_node(system(), self, *ep, timeout, problem);
  if (!impl_->door)
    return caf::make_error(routing_errc::unreachable,
                           "cannot reach " + impl_->endpoint + ": " + problem);
  return impl_->door;
}

caf::expected<void> client::check(const caf::message& msg) {
  if (auto why = unregistered_types(system(), msg); !why.empty())
    return caf::make_error(routing_errc::unregistered_type, why);
  return {};
}

caf::message client::routed(const std::string& deployment, const std::string& key,
                            caf::message msg) {
  return write_message(impl_->token, route_msg_atom::value, deployment, key, std::move(msg));
}

std::string client::render(const caf::error& err) {
  return error_text(system(), err);
}

} // namespace troupe
