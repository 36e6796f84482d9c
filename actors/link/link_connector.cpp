#include "actors/link/link_connection.hpp"

#include "actors/link/link_errc.hpp"

#include <caf/actor_system.hpp>
#include <caf/blocking_actor.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/node_id.hpp>

#include <map>
#include <set>
#include <unordered_map>

namespace troupe {

namespace {

struct pending_link {
  caf::actor conn;
  bool up = false;
  std::vector<caf::response_promise> waiting;
};

struct connector_state {
  link_context_ptr ctx;
  std::map<std::string, pending_link> by_key;             // "host:port"
  std::unordered_map<caf::actor_addr, std::string> key_of;
  std::set<caf::actor_addr> early_up;  // said link_up before the helper reported them
};

using connect_result = caf::result<caf::node_id, caf::strong_actor_ptr, std::set<std::string>>;

void answer(pending_link& l) {
  for (auto& rp : l.waiting)
    rp.deliver(caf::node_id{}, caf::actor_cast<caf::strong_actor_ptr>(l.conn),
               std::set<std::string>{});
  l.waiting.clear();
}

using link_connected_atom = caf::atom_constant<caf::atom("t_lnkconn")>;

connect_result on_connect(caf::event_based_actor* self, connector_state& st,
                          const std::string& host, uint16_t port) {
  auto key = host + ":" + std::to_string(port);
  // This node itself (a node's web view asks its own node like any other): its door, not a
  // connection through its own listener, which would only carry what a local message does.
  auto own = st.ctx->make_hello();
  if (own.kind == wire::peer_kind::node && own.address == key)
    if (auto door = st.ctx->door())
      return {caf::node_id{}, caf::actor_cast<caf::strong_actor_ptr>(door), std::set<std::string>{}};
  auto it = st.by_key.find(key);
  if (it != st.by_key.end() && it->second.up)
    return {caf::node_id{}, caf::actor_cast<caf::strong_actor_ptr>(it->second.conn),
            std::set<std::string>{}};
  auto rp = self->make_response_promise();
  if (it != st.by_key.end()) {
    it->second.waiting.push_back(rp);
    return caf::delegated<caf::node_id, caf::strong_actor_ptr, std::set<std::string>>{};
  }
  st.by_key[key] = pending_link{nullptr, false, {rp}};
  // Connecting blocks: a short-lived helper does it, so this actor keeps answering.
  auto ctx = st.ctx;
  auto me = caf::actor_cast<caf::actor>(self);
  self->spawn<caf::detached + caf::hidden>([=](caf::blocking_actor* b) {
    auto conn = b->system().middleman().spawn_client<caf::hidden>(link_connection, host, port,
                                                                 ctx, true, me);
    if (conn)
      b->send(me, link_connected_atom::value, key, *conn);
    else
      b->send(me, link_connected_atom::value, key, conn.error());
  });
  return caf::delegated<caf::node_id, caf::strong_actor_ptr, std::set<std::string>>{};
}

void fail_waiting(connector_state& st, const std::string& key, caf::error err) {
  auto it = st.by_key.find(key);
  if (it == st.by_key.end())
    return;
  for (auto& rp : it->second.waiting)
    rp.deliver(err);
  st.by_key.erase(it);
}

void mark_up(connector_state& st, const std::string& key) {
  auto it = st.by_key.find(key);
  if (it == st.by_key.end())
    return;
  it->second.up = true;
  answer(it->second);
}

caf::behavior link_connector(caf::event_based_actor* self, link_context_ptr ctx) {
  auto st = std::make_shared<connector_state>();
  st->ctx = std::move(ctx);
  self->set_down_handler([self, st](caf::down_msg& d) {
    st->early_up.erase(d.source);
    auto k = st->key_of.find(d.source);
    if (k == st->key_of.end())
      return;
    auto key = k->second;
    st->key_of.erase(k);
    auto it = st->by_key.find(key);
    if (it == st->by_key.end() || it->second.conn.address() != d.source)
      return;
    // A connection that knows why it failed says so; else it is no Troupe node we can read.
    auto& ctx = d.reason.context();
    if (d.reason.category() == caf::detail::error_factory<link_errc>::category
        && ctx.match_elements<std::string>())
      return fail_waiting(*st, key,
                          caf::make_error(link_errc::refused, "cannot connect to " + key + ": "
                                                                + ctx.get_as<std::string>(0)));
    fail_waiting(*st, key,
                 caf::make_error(link_errc::refused,
                                 "no Troupe node of a wire version this one reads answered at "
                                   + key + " (" + self->system().render(d.reason) + ")"));
  });
  // Told to stop: the connections it made close with it.
  self->set_exit_handler([self, st](caf::exit_msg& m) {
    for (auto& [k, l] : st->by_key)
      if (l.conn)
        self->send_exit(l.conn, m.reason);
    st->by_key.clear();
    self->quit(std::move(m.reason));
  });
  return {
    [self, st](caf::connect_atom, const std::string& host, uint16_t port) {
      return on_connect(self, *st, host, port);
    },
    [self, st](link_up_atom) {
      auto from = caf::actor_cast<caf::actor_addr>(self->current_sender());
      auto k = st->key_of.find(from);
      if (k == st->key_of.end())
        st->early_up.insert(from);
      else
        mark_up(*st, k->second);
    },
    [self, st](link_connected_atom, const std::string& key, const caf::actor& conn) {
      auto it = st->by_key.find(key);
      if (it == st->by_key.end()) { // nobody waits any more
        self->send_exit(conn, caf::exit_reason::user_shutdown);
        return;
      }
      it->second.conn = conn;
      st->key_of[conn.address()] = key;
      self->monitor(conn);
      if (st->early_up.erase(conn.address()) > 0)
        mark_up(*st, key);
    },
    [self, st](link_connected_atom, const std::string& key, const caf::error& err) {
      fail_waiting(*st, key, err);
    },
  };
}

} // namespace

caf::actor spawn_link_connector(caf::actor_system& sys, link_context_ptr ctx) {
  return sys.spawn<caf::detached + caf::hidden>(link_connector, std::move(ctx));
}

} // namespace troupe
