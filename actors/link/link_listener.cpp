#include "actors/link/link_connection.hpp"

#include <caf/actor_system.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/network/multiplexer.hpp>
#include <caf/io/system_messages.hpp>

#include <deque>
#include <unordered_map>
#include <unordered_set>

namespace troupe {

namespace {

using wire::wire_errc;

struct listener_state {
  link_context_ptr ctx;
  std::deque<caf::actor> pending;                        // no hello yet, oldest first
  std::unordered_map<caf::actor_addr, caf::actor> all;   // every live connection
  std::unordered_map<caf::actor_addr, std::string> host_of;
  std::unordered_set<caf::actor_addr> established;
  std::unordered_map<std::string, size_t> per_host;      // established, by remote host
};

void drop_pending(listener_state& st, const caf::actor_addr& a) {
  for (auto it = st.pending.begin(); it != st.pending.end(); ++it)
    if (it->address() == a) {
      st.pending.erase(it);
      return;
    }
}

void on_accept(caf::io::broker* self, listener_state& st, caf::io::connection_handle hdl) {
  auto& s = st.ctx->settings;
  auto host = self->remote_addr(hdl);
  if (st.all.size() >= s.max_connections + s.max_pending) {
    st.ctx->refused(wire_errc::too_many_connections, host, "the node is at its bound");
    self->close(hdl);
    return;
  }
  if (st.pending.size() >= s.max_pending) {
    // Connections that never say hello cannot crowd out those that do: the oldest goes.
    auto oldest = st.pending.front();
    st.pending.pop_front();
    st.ctx->refused(wire_errc::no_hello, st.host_of[oldest.address()],
                    "closed without a hello to admit a newer connection");
    self->send_exit(oldest, caf::exit_reason::user_shutdown);
  }
  auto conn = self->fork(link_connection, hdl, st.ctx, false,
                         caf::actor_cast<caf::actor>(self));
  self->monitor(conn);
  st.pending.push_back(conn);
  st.host_of[conn.address()] = host;
  st.all.emplace(conn.address(), conn);
}

void on_up(caf::io::broker* self, listener_state& st) {
  auto conn = caf::actor_cast<caf::actor>(self->current_sender());
  if (!conn || st.all.count(conn.address()) == 0)
    return;
  drop_pending(st, conn.address());
  st.established.insert(conn.address());
  auto& host = st.host_of[conn.address()];
  auto n = ++st.per_host[host];
  auto& s = st.ctx->settings;
  if (n > s.max_per_address || st.established.size() > s.max_connections) {
    st.ctx->refused(wire_errc::too_many_connections, host,
                    n > s.max_per_address ? "too many from this address" : "too many in all");
    self->send_exit(conn, caf::exit_reason::user_shutdown);
  }
}

void on_down(listener_state& st, const caf::actor_addr& a) {
  drop_pending(st, a);
  if (st.established.erase(a) > 0) {
    auto it = st.per_host.find(st.host_of[a]);
    if (it != st.per_host.end() && --it->second == 0)
      st.per_host.erase(it);
  }
  st.host_of.erase(a);
  st.all.erase(a);
}

caf::behavior link_listener(caf::io::broker* self, caf::io::doorman_ptr dm,
                            link_context_ptr ctx) {
  auto st = std::make_shared<listener_state>();
  st->ctx = std::move(ctx);
  self->add_doorman(std::move(dm));
  self->set_down_handler([st](caf::down_msg& d) { on_down(*st, d.source); });
  // Told to stop (the node stops): every connection it accepted closes with it.
  self->set_exit_handler([self, st](caf::exit_msg& m) {
    for (auto& [a, conn] : st->all)
      self->send_exit(conn, m.reason);
    st->all.clear();
    self->quit(std::move(m.reason));
  });
  return {
    [self, st](const caf::io::new_connection_msg& m) { on_accept(self, *st, m.handle); },
    [self, st](link_up_atom) { on_up(self, *st); },
    [](const caf::io::acceptor_closed_msg&) {},
  };
}

} // namespace

caf::expected<uint16_t> link_listen(caf::actor_system& sys, link_context_ptr ctx,
                                    const std::string& bind, uint16_t port,
                                    caf::actor* listener) {
  auto& mm = sys.middleman();
  auto dm = mm.backend().new_tcp_doorman(port, bind.c_str(), true);
  if (!dm)
    return std::move(dm.error());
  auto bound = (*dm)->port();
  *listener = mm.spawn_broker<caf::hidden>(link_listener, std::move(*dm), std::move(ctx));
  return bound;
}

} // namespace troupe
