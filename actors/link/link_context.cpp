#include "actors/link/link.hpp"

#include <caf/actor_cast.hpp>
#include <caf/actor_control_block.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>

namespace troupe {

namespace {

uint64_t random_incarnation() {
  std::random_device rd;
  uint64_t x = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  return x == 0 ? 1 : x;
}

std::mutex peers_mtx;
std::unordered_map<caf::actor_addr, wire::hello>& peers() {
  static std::unordered_map<caf::actor_addr, wire::hello> m;
  return m;
}
/// The names in the certificate of each TLS peer (plain links have none here).
std::unordered_map<caf::actor_addr, std::vector<std::string>>& cert_names() {
  static std::unordered_map<caf::actor_addr, std::vector<std::string>> m;
  return m;
}

/// The TLS connections whose peer shows a coordinator's certificate.
std::unordered_map<caf::actor_addr, bool>& coordinator_certs() {
  static std::unordered_map<caf::actor_addr, bool> m;
  return m;
}

/// The plain connections whose peer proved it knows the cookie.
std::unordered_map<caf::actor_addr, bool>& proved() {
  static std::unordered_map<caf::actor_addr, bool> m;
  return m;
}

/// What `map` (one of the registries above) holds for the connection behind `sender`.
template <class Map>
std::optional<typename Map::mapped_type> lookup(Map& map, const caf::strong_actor_ptr& sender) {
  if (!sender)
    return std::nullopt;
  auto addr = caf::actor_cast<caf::actor_addr>(sender);
  std::lock_guard<std::mutex> g{peers_mtx};
  auto it = map.find(addr);
  if (it == map.end())
    return std::nullopt;
  return it->second;
}

} // namespace

link_context::link_context(link_settings s, std::shared_ptr<spdlog::logger> l)
  : settings(s), log(std::move(l)), incarnation_(random_incarnation()) {
}

void link_context::set_identity(std::string name, std::string address, bool coordinator) {
  std::lock_guard<std::mutex> g{mtx_};
  name_ = std::move(name);
  address_ = std::move(address);
  coordinator_ = coordinator;
}

wire::hello link_context::make_hello() const {
  std::lock_guard<std::mutex> g{mtx_};
  wire::hello h;
  h.version = wire::version;
  h.min_version = wire::min_version;
  h.incarnation = incarnation_;
  h.max_frame = settings.max_frame;
  if (name_.empty() || address_.empty()) {
    h.kind = wire::peer_kind::client;
  } else {
    h.kind = wire::peer_kind::node;
    h.name = name_;
    h.address = address_;
    h.coordinator = coordinator_;
  }
  return h;
}

void link_context::set_tls(tls_context t) {
  std::lock_guard<std::mutex> g{mtx_};
  tls_ = std::move(t);
}

tls_context link_context::tls() const {
  std::lock_guard<std::mutex> g{mtx_};
  return tls_;
}

void link_context::set_cookie(std::string cookie) {
  std::lock_guard<std::mutex> g{mtx_};
  cookie_ = std::move(cookie);
}

std::string link_context::cookie() const {
  std::lock_guard<std::mutex> g{mtx_};
  return tls_ ? std::string{} : cookie_;
}

void link_context::set_door(caf::actor door) {
  std::lock_guard<std::mutex> g{mtx_};
  door_ = std::move(door);
}

caf::actor link_context::door() const {
  std::lock_guard<std::mutex> g{mtx_};
  return door_;
}

void link_context::set_on_desync(
  std::function<void(const wire::hello& peer, const std::string& reason)> f) {
  std::lock_guard<std::mutex> g{mtx_};
  on_desync_ = std::move(f);
}

void link_context::desync(const wire::hello& peer, const std::string& reason) const {
  std::function<void(const wire::hello&, const std::string&)> f;
  {
    std::lock_guard<std::mutex> g{mtx_};
    f = on_desync_;
  }
  if (f && peer.kind == wire::peer_kind::node && !peer.name.empty())
    f(peer, reason);
}

void link_context::refused(wire::wire_errc why, const std::string& peer,
                           const std::string& detail) {
  auto i = static_cast<size_t>(why);
  if (i < link_stats::reasons)
    stats.refused[i].fetch_add(1, std::memory_order_relaxed);
  auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> g{mtx_};
    // One line a minute per peer and kind of refusal (the detail up to its first colon).
    auto key = std::make_pair(peer + "|" + detail.substr(0, detail.find(':')),
                              static_cast<int>(why));
    auto it = last_log_.find(key);
    if (it != last_log_.end() && now - it->second < std::chrono::minutes(1))
      return;
    if (last_log_.size() > 10000) // bounded even under a flood of addresses
      last_log_.clear();
    last_log_[key] = now;
  }
  if (log)
    log->warn("refused a connection from {}: {}{}{} (logged once a minute per peer and kind)", peer,
              wire::to_string(why), detail.empty() ? "" : ": ", detail);
}

void link_peer_up(const caf::actor_addr& conn, wire::hello h,
                  std::optional<std::vector<std::string>> names, bool coordinator_cert) {
  std::lock_guard<std::mutex> g{peers_mtx};
  peers()[conn] = std::move(h);
  if (names)
    cert_names()[conn] = std::move(*names);
  if (coordinator_cert)
    coordinator_certs()[conn] = true;
}

void link_peer_down(const caf::actor_addr& conn) {
  std::lock_guard<std::mutex> g{peers_mtx};
  peers().erase(conn);
  cert_names().erase(conn);
  coordinator_certs().erase(conn);
  proved().erase(conn);
}

void link_peer_proved(const caf::actor_addr& conn) {
  std::lock_guard<std::mutex> g{peers_mtx};
  proved()[conn] = true;
}

std::optional<std::vector<std::string>> link_peer_cert_names(const caf::strong_actor_ptr& sender) {
  return lookup(cert_names(), sender);
}

bool link_peer_coordinator_cert(const caf::strong_actor_ptr& sender) {
  return lookup(coordinator_certs(), sender).value_or(false);
}

bool may_change_things(const caf::strong_actor_ptr& sender) {
  if (from_member(sender))
    return true; // this process's own actors; members relay their actors' writes
  if (auto names = link_peer_cert_names(sender))
    return std::find(names->begin(), names->end(), "operator") != names->end();
  return lookup(proved(), sender).value_or(false);
}

std::string link_peer_identity(const caf::strong_actor_ptr& sender) {
  auto peer = link_peer_of(sender);
  if (!peer)
    return "an actor of this node";
  auto out = peer->kind == wire::peer_kind::client ? "a client at " + peer->address
                                                   : peer->name + " at " + peer->address;
  if (auto names = link_peer_cert_names(sender)) {
    std::string listed;
    for (auto& n : *names)
      listed += (listed.empty() ? "" : ", ") + n;
    out += " (certificate: " + (listed.empty() ? std::string{"no names"} : listed) + ")";
  } else if (peer->kind == wire::peer_kind::client && !lookup(proved(), sender).value_or(false)) {
    out += " (without the cookie)";
  }
  return out;
}

bool from_member(const caf::strong_actor_ptr& sender) {
  if (!sender)
    return true;
  // On the event path (every delivery): the peer's kind only, not a copy of its hello.
  auto addr = caf::actor_cast<caf::actor_addr>(sender);
  std::lock_guard<std::mutex> g{peers_mtx};
  auto it = peers().find(addr);
  return it == peers().end() || it->second.kind == wire::peer_kind::node;
}

std::optional<wire::hello> link_peer_of(const caf::strong_actor_ptr& sender) {
  return lookup(peers(), sender);
}

} // namespace troupe
