// Plain C++ values of the membership protocol. The codec turns them into protobuf bytes and
// back; nothing else in Troupe sees the generated protobuf classes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace troupe::membership {

enum class role : uint8_t { coordinator = 1, worker = 2 };

/// The roles a node has; a node has one or both.
struct role_set {
  bool coordinator = false;
  bool worker = false;

  bool empty() const { return !coordinator && !worker; }
  bool operator==(const role_set& o) const {
    return coordinator == o.coordinator && worker == o.worker;
  }
};

/// Returns the roles as names, coordinator first.
std::vector<std::string> role_names(const role_set& roles);

enum class member_state : uint8_t { joining = 1, up, suspect, down, left, leaving };

/// Returns "joining", "up", "suspect", "down", "left" or "leaving".
const char* to_string(member_state s);

/// Parses what to_string returns.
std::optional<member_state> member_state_from_string(std::string_view s);

/// True for the states that count as gone: the member must join again to come back.
inline bool is_gone(member_state s) {
  return s == member_state::down || s == member_state::left;
}

struct raft_info {
  std::string role;
  uint64_t term = 0;
  uint64_t commit_index = 0;
  uint64_t leader = 0;
  uint64_t id = 0;
};

struct member {
  std::string name;
  std::string address;
  role_set roles;
  uint32_t pid = 0;
  member_state state = member_state::joining;
  uint64_t incarnation = 0;
  int64_t started_at_ms = 0;
  std::string instance_id;
  uint16_t http_port = 0;
  int64_t state_since_ms = 0;
  std::optional<raft_info> raft;
  uint32_t vnodes = 0;  // workers: vnodes owned
  std::vector<std::string> actor_types;  // workers: what they can run (empty: not advertised)
};

struct join_request {
  member self;
  uint32_t vnodes = 0;  // 0: not given
};

struct join_accepted {
  std::string cluster_id;
  uint64_t incarnation = 0;
};

struct join_rejected {
  std::string reason;
  bool permanent = false;  // a configuration mismatch: retrying cannot help
};

struct heartbeat {
  std::string name;
  uint64_t incarnation = 0;
};

struct heartbeat_ack {
  bool rejoin = false;
  uint64_t view_version = 0;
};

struct leave {
  std::string name;
  uint64_t incarnation = 0;
  bool drain = false;  // step one of a graceful stop: `leaving` while its vnodes move away
};

struct view {
  uint64_t version = 0;
  std::string cluster_id;
  std::vector<member> members;
};

struct status_request {};

struct health {
  std::string level = "green";
  std::vector<std::string> reasons;
};

struct status_reply {
  view members;
  std::string answered_by;
  health node_health;
  uint64_t bad_frames = 0;
  std::string main_worker;  // "" : none, or unknown to the answering node
};

struct workload {
  uint64_t version = 0;
  std::string state;  // an encoded cluster view (protocols/cluster_state/state_machine.hpp)
};

/// Only the index of the last persisted broadcast changed (see the bus).
struct bus_head {
  uint64_t head = 0;
};

/// `reporter` found its link from `peer` out of step (a worker passes it to its coordinator).
struct link_fault {
  std::string peer;
  std::string reason;
  std::string reporter;
};

/// A coordinator tells a node it marked down for a desynchronized link to stop and restart.
struct evicted {
  std::string reason;
};

using message = std::variant<join_request, join_accepted, join_rejected, heartbeat,
                             heartbeat_ack, leave, view, status_request, status_reply, workload,
                             bus_head, link_fault, evicted>;

} // namespace troupe::membership
