// The transport between nodes, and between a client and a node: Troupe's own frames
// (protocols/wire) on CAF brokers, in place of CAF's BASP.
//
// Why not BASP behind a guard: BASP trusts the payload length of its header (a 40-byte header
// claiming 2 GiB made a node allocate 1.2 GB and stop answering), has no versioned envelope, no
// per-link numbering of our own, and hands out actor handles to whoever connects. Here every
// connection is one broker actor that:
//   - reads frames whose length is checked against --max-frame-bytes before any body byte;
//   - starts with a hello each way (who, which incarnation, which wire versions) and is closed
//     if the peer says nothing valid within the hello timeout;
//   - numbers each envelope it sends and checks the numbers it receives (link_check);
//   - stands, inside this process, for the node at the other end: a local actor sends it any
//     message (a request or a one-way message) and it travels to that node's door; a request
//     gets its answer back through it. Messages from the other end go to this node's door with
//     the connection as their sender, so an answer sent to that sender travels back.
// No actor handle crosses the wire: a node reaches another only through its door.
#pragma once

#include "actors/endpoint.hpp"
#include "actors/link/tls_session.hpp"
#include "protocols/wire/envelope.hpp"
#include "protocols/wire/frame.hpp"

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>
#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace spdlog {
class logger;
}

namespace troupe {

/// Bounds of the transport (each a documented option of `troupe run`).
struct link_settings {
  uint32_t max_frame = wire::default_max_frame;  // --max-frame-bytes
  size_t max_pending = 256;         // connections that have not said hello (oldest evicted)
  size_t max_connections = 1024;    // established connections, in total
  size_t max_per_address = 512;     // established connections from one address
  std::chrono::milliseconds hello_timeout{5000};
  size_t max_in_flight = 10000;     // requests of a peer waiting for this node, per connection
};

/// Counters of the transport for GET /metrics.
struct link_stats {
  static constexpr size_t reasons = 32;  // more than wire::wire_errc has
  std::array<std::atomic<uint64_t>, reasons> refused{};  // by wire::wire_errc
  std::atomic<uint64_t> established{0};
  std::atomic<uint64_t> pending{0};
  std::atomic<uint64_t> frames_in{0};
  std::atomic<uint64_t> frames_out{0};
  std::atomic<uint64_t> unsupported_in{0};   // messages of a type this build does not know
  std::atomic<uint64_t> unsupported_out{0};  // answered "unsupported" by a peer
  std::atomic<uint64_t> late_answers{0};     // answers to requests no longer waited for
  std::atomic<uint64_t> too_large_out{0};    // messages refused here: over the wire's bound
};

/// What one process's listener, connector and connections share.
class link_context {
public:
  link_context(link_settings s, std::shared_ptr<spdlog::logger> log);

  const link_settings settings;
  link_stats stats;
  const std::shared_ptr<spdlog::logger> log;

  /// Who this process is on the wire. A node sets it once it listens; until then (and in a
  /// client) it says hello as a client.
  void set_identity(std::string name, std::string address, bool coordinator);
  wire::hello make_hello() const;
  uint64_t incarnation() const { return incarnation_; }

  /// TLS on every connection of this process, both ways (null: plain frames). Set before
  /// anything connects or listens.
  void set_tls(tls_context t);
  tls_context tls() const;

  /// Without TLS, the cluster's cookie (actors/link/cookie.hpp): a node refuses peers that
  /// cannot prove it, and only clients that prove it may change anything. "": none (a client
  /// without one is anonymous). Ignored when TLS is set.
  void set_cookie(std::string cookie);
  std::string cookie() const;

  /// Where messages from peers go (a node's door; a client's receiving actor, or none).
  void set_door(caf::actor door);
  caf::actor door() const;

  /// Counts a refusal and logs it, at most once per peer and reason per minute.
  void refused(wire::wire_errc why, const std::string& peer, const std::string& detail = {});

  /// Called (on a connection's thread) when a node's link to this process is out of step:
  /// the node is told to report it so the coordinators evict the sender.
  void set_on_desync(std::function<void(const wire::hello& peer, const std::string& reason)> f);
  void desync(const wire::hello& peer, const std::string& reason) const;

  /// Fault injection at the transport seam (tests): the next frame sent is dropped,
  /// duplicated or corrupted, once.
  enum class fault : uint8_t { none, drop, duplicate, corrupt };
  void inject(fault f) { fault_.store(static_cast<uint8_t>(f)); }
  fault take_fault() {
    if (fault_.load(std::memory_order_relaxed) == 0)
      return fault::none;
    return static_cast<fault>(fault_.exchange(0));
  }

private:
  const uint64_t incarnation_;
  mutable std::mutex mtx_;
  std::string name_;
  std::string address_;
  bool coordinator_ = false;
  tls_context tls_;
  std::string cookie_;
  caf::actor door_;
  std::function<void(const wire::hello&, const std::string&)> on_desync_;
  std::map<std::pair<std::string, int>, std::chrono::steady_clock::time_point> last_log_;
  std::atomic<uint8_t> fault_{0};
};

using link_context_ptr = std::shared_ptr<link_context>;

/// Listens on bind:port (0: any free port). Returns the port, or an error when it cannot.
/// `*listener` is the actor to stop (an exit message) when the node stops: it closes every
/// connection it accepted.
caf::expected<uint16_t> link_listen(caf::actor_system& sys, link_context_ptr ctx,
                                    const std::string& bind, uint16_t port,
                                    caf::actor* listener);

/// The connector: answers (connect_atom, host, port) like CAF's middleman actor, with
/// (node_id, strong_actor_ptr, set<string>), the pointer being the connection to that node
/// once both hellos were exchanged. One connection per address is kept and shared.
caf::actor spawn_link_connector(caf::actor_system& sys, link_context_ptr ctx);

/// Returns the peer's hello if `sender` is one of this process's connections (nullopt for
/// local actors). Process-wide: every link_context registers its connections here.
std::optional<wire::hello> link_peer_of(const caf::strong_actor_ptr& sender);

/// The names in the certificate of the peer behind `sender`, when it is one of this process's
/// TLS connections (nullopt otherwise).
std::optional<std::vector<std::string>> link_peer_cert_names(const caf::strong_actor_ptr& sender);

/// Whether the peer behind `sender` showed a coordinator's certificate (TLS links only).
bool link_peer_coordinator_cert(const caf::strong_actor_ptr& sender);

/// Whether `sender` may send commands that change anything: this process's own actors and
/// members may; a client over TLS only with the operator's certificate (common name or
/// alternative name `operator`: scripts/certs.sh makes it); a client over a plain link only
/// when it proved it knows the cluster's cookie. The console token, when set, guards writes
/// on top of that.
bool may_change_things(const caf::strong_actor_ptr& sender);

/// Who `sender` is, for the log line of a refusal: "a client at 127.0.0.1:40312 (without the
/// cookie)", "w1 at 127.0.0.1:8141 (certificate: w1)", "an actor of this node".
std::string link_peer_identity(const caf::strong_actor_ptr& sender);

/// Whether `sender` is this process's own actor or a member of the cluster (a node peer:
/// authenticated by its certificate or the cookie, or its link would have been closed).
bool from_member(const caf::strong_actor_ptr& sender);

/// Registers and forgets a connection's peer (the connections call these); `names`: the
/// names of its certificate, on a TLS link, and whether it is a coordinator's.
void link_peer_up(const caf::actor_addr& conn, wire::hello h,
                  std::optional<std::vector<std::string>> names = std::nullopt,
                  bool coordinator_cert = false);
void link_peer_down(const caf::actor_addr& conn);

/// Records that the peer of a plain connection proved it knows the cookie.
void link_peer_proved(const caf::actor_addr& conn);

} // namespace troupe
