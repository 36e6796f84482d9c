// The services of one node by name, as their supervisors last started them: OTP's registered
// names. A service its supervisor restarts gets a new handle, so nothing inside the node keeps
// one: whoever talks to a service looks it up here when it sends. The directory never leaves
// the node (design rule 8: internal handles stay inside).
//
// It also holds the node's lease (node_lease.hpp), which the actors serving vnodes check, and
// the problems its health reports (node_problems.hpp).
//
// A lookup takes a mutex for a few nanoseconds; it is on the path of each message or batch a
// node relays, never in a loop over events.
#pragma once

#include "actors/node_lease.hpp"
#include "actors/node_problems.hpp"

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>
#include <caf/actor_cast.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace troupe {

/// The node's services. Their names are what operators see (`troupe ctl tree`, `kill`).
enum class service : uint8_t {
  ingress,           // the published actor: the one door of the node
  router,            // routes events by key to their vnode's owner
  bus,               // the broadcast bus
  migrator,          // runs migrations on the main worker
  inspector,         // answers the console
  log_roller,        // writes the host's log file (--log-file)
  raft,              // a coordinator's Raft replica and the cluster state
  membership,        // membership-server (coordinator) or membership-agent (worker)
  vnodes,            // a worker's vnode supervisor: one actor per owned vnode
  user_supervisor,   // actors spawned by operators and user code
  jobs,              // a worker's job runner: runs the jobs the leader hands it
};

constexpr size_t service_count = 11;

/// The name operators see ("membership" is shown by role: see node_runner).
const char* to_string(service s);

/// The service called `name`, if any.
std::optional<service> service_from_string(const std::string& name);

class service_directory {
public:
  /// The current incarnation of `s` (invalid while it restarts, or on nodes without it).
  caf::actor get(service s) const {
    std::lock_guard<std::mutex> guard{mtx_};
    return actors_[static_cast<size_t>(s)];
  }

  /// The same, as the typed handle of the service's interface (e.g. router_actor): sends
  /// through it are checked against that interface at compile time.
  template <class Handle>
  Handle get_as(service s) const {
    return caf::actor_cast<Handle>(get(s));
  }

  void put(service s, caf::actor a) {
    std::lock_guard<std::mutex> guard{mtx_};
    actors_[static_cast<size_t>(s)] = std::move(a);
  }

  /// The node's lease (a worker's, renewed by its membership agent).
  node_lease& lease() const {
    return lease_;
  }

  /// What the node's health should report as wrong (see node_problems.hpp).
  node_problems& problems() const {
    return problems_;
  }

  /// Forgets `s` if its current incarnation is `a` (a later one stays).
  void erase(service s, const caf::actor_addr& a) {
    std::lock_guard<std::mutex> guard{mtx_};
    auto& slot = actors_[static_cast<size_t>(s)];
    if (slot && slot.address() == a)
      slot = nullptr;
  }

private:
  mutable std::mutex mtx_;
  std::array<caf::actor, service_count> actors_;
  mutable node_lease lease_;
  mutable node_problems problems_;
};

/// The current incarnation of `s` in `dir` (none without a directory: tests, tools).
inline caf::actor lookup(const std::shared_ptr<service_directory>& dir, service s) {
  return dir ? dir->get(s) : caf::actor{};
}

/// The same, as the typed handle `Handle` (see service_directory::get_as).
template <class Handle>
Handle lookup_as(const std::shared_ptr<service_directory>& dir, service s) {
  return dir ? dir->get_as<Handle>(s) : Handle{};
}

} // namespace troupe
