// The membership actor of a coordinator: the source of truth for who is in the cluster (until
// the Raft issue moves it into the replicated state machine).
//
// It starts serving on (start_atom, cluster_port, http_port), sent once the ports are bound.
// Messages (all `frame`s carrying a membership Envelope, see protocols/membership):
//   JoinRequest   -> JoinAccepted | JoinRejected   a worker joins; its sender is monitored
//   Heartbeat     -> HeartbeatAck                  rejoin=true when the incarnation is unknown
//   Leave         -> HeartbeatAck                  graceful departure: state `left`
//   StatusRequest -> StatusReply                   the view, for `troupe status` and HTTP
// and, outside frames: peer_hello_atom -> the Raft actor (for other coordinators), and the KV
// requests of kv_relay.hpp, relayed to the Raft actor.
// It pushes a View to every joined member whenever the view changes. A closed connection
// (down_msg) marks the member down at once; silence marks it suspect, then down, through the
// failure detector on a periodic tick.
#pragma once

#include "protocols/clock.hpp"
#include "protocols/membership/membership_table.hpp"
#include "protocols/membership/types.hpp"

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include <string>

namespace troupe {

struct membership_server_config {
  membership::member self;          // this node's own entry; address holds the bind host
  std::string cluster_id;
  membership::table_settings table;
  duration tick_interval = milliseconds(50);
  caf::actor raft;  // this coordinator's Raft replica: introduced to peers, target of KV requests
};

/// Spawns the membership server.
caf::actor spawn_membership_server(caf::actor_system& sys, membership_server_config cfg);

} // namespace troupe
