#include "nodes/remote_node.hpp"

#include "actors/wire.hpp"
#include "nodes/error_text.hpp"
#include "protocols/membership/codec.hpp"

#include <caf/actor_system.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>

namespace troupe {

client_config::client_config() {
  register_types(*this);
  load<caf::io::middleman>();
  set("scheduler.max-threads", 2);
}

caf::actor connect_node(caf::actor_system& sys, caf::scoped_actor& self, const endpoint& target,
                        duration timeout, std::string& problem) {
  auto mm = link_connector_of(sys);
  caf::actor out;
  problem = "no answer";
  self->request(mm, timeout, caf::connect_atom::value, target.host, target.port)
    .receive(
      [&](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>&) {
        out = caf::actor_cast<caf::actor>(ptr);
        if (!out)
          problem = "no Troupe node listens there";
      },
      [&](const caf::error& err) { problem = error_text(sys, err); });
  return out;
}

caf::actor connect_any(caf::actor_system& sys, caf::scoped_actor& self,
                       const std::vector<endpoint>& targets, duration timeout, size_t* next,
                       std::string& problem) {
  problem.clear();
  for (size_t k = 0; k < targets.size(); ++k) {
    auto i = (*next + k) % targets.size();
    std::string why;
    auto a = connect_node(sys, self, targets[i], timeout, why);
    if (a) {
      *next = i + 1;
      return a;
    }
    problem += (problem.empty() ? "" : "; ") + targets[i].to_string() + ": " + why;
  }
  return nullptr;
}

std::optional<membership::status_reply> request_status(caf::actor_system& sys,
                                                       caf::scoped_actor& self,
                                                       const caf::actor& node, duration timeout,
                                                       std::string* problem) {
  namespace ms = membership;
  std::optional<ms::status_reply> out;
  std::string why = "no answer";
  self->request(node, timeout, frame{ms::encode(ms::status_request{})})
    .receive(
      [&](const frame& f) {
        ms::decoded msg;
        auto err = ms::decode(f.bytes, msg);
        if (err != ms::codec_errc::none)
          why = std::string{"bad reply: "} + ms::to_string(err);
        else if (auto* r = std::get_if<ms::status_reply>(&msg.body))
          out = std::move(*r);
        else
          why = "unexpected reply";
      },
      [&](const caf::error& err) { why = error_text(sys, err); });
  if (!out && problem)
    *problem = why;
  return out;
}

} // namespace troupe
