#include "protocols/membership/codec.hpp"

#include "membership.pb.h"

namespace troupe::membership {

namespace pb = troupe::membership::wire;

const char* to_string(codec_errc e) {
  switch (e) {
    case codec_errc::none:
      return "none";
    case codec_errc::frame_too_large:
      return "frame_too_large";
    case codec_errc::malformed:
      return "malformed";
    case codec_errc::missing_body:
      return "missing_body";
    case codec_errc::field_too_large:
      return "field_too_large";
    case codec_errc::invalid_value:
      return "invalid_value";
  }
  return "unknown";
}

namespace {

// -- encoding ---------------------------------------------------------------------------------

void to_pb(const member& m, pb::Member& out) {
  out.set_name(m.name);
  out.set_address(m.address);
  if (m.roles.coordinator)
    out.add_roles(pb::ROLE_COORDINATOR);
  if (m.roles.worker)
    out.add_roles(pb::ROLE_WORKER);
  out.set_pid(m.pid);
  out.set_state(static_cast<pb::MemberState>(static_cast<int>(m.state)));
  out.set_incarnation(m.incarnation);
  out.set_started_at_ms(m.started_at_ms);
  out.set_instance_id(m.instance_id);
  out.set_http_port(m.http_port);
  out.set_state_since_ms(m.state_since_ms);
  out.set_vnodes(m.vnodes);
  for (auto& t : m.actor_types)
    out.add_actor_types(t);
  if (m.raft) {
    auto* r = out.mutable_raft();
    r->set_role(m.raft->role);
    r->set_term(m.raft->term);
    r->set_commit_index(m.raft->commit_index);
    r->set_leader(m.raft->leader);
    r->set_id(m.raft->id);
  }
}

void to_pb(const view& v, pb::View& out) {
  out.set_version(v.version);
  out.set_cluster_id(v.cluster_id);
  for (auto& m : v.members)
    to_pb(m, *out.add_members());
}

struct encoder {
  pb::Envelope& env;
  void operator()(const join_request& x) {
    to_pb(x.self, *env.mutable_join_request()->mutable_self());
    env.mutable_join_request()->set_vnodes(x.vnodes);
  }
  void operator()(const join_accepted& x) {
    auto* p = env.mutable_join_accepted();
    p->set_cluster_id(x.cluster_id);
    p->set_incarnation(x.incarnation);
  }
  void operator()(const join_rejected& x) {
    env.mutable_join_rejected()->set_reason(x.reason);
    env.mutable_join_rejected()->set_permanent(x.permanent);
  }
  void operator()(const heartbeat& x) {
    auto* p = env.mutable_heartbeat();
    p->set_name(x.name);
    p->set_incarnation(x.incarnation);
  }
  void operator()(const heartbeat_ack& x) {
    auto* p = env.mutable_heartbeat_ack();
    p->set_rejoin(x.rejoin);
    p->set_view_version(x.view_version);
  }
  void operator()(const leave& x) {
    auto* p = env.mutable_leave();
    p->set_name(x.name);
    p->set_incarnation(x.incarnation);
    p->set_drain(x.drain);
  }
  void operator()(const view& x) { to_pb(x, *env.mutable_view()); }
  void operator()(const status_request&) { env.mutable_status_request(); }
  void operator()(const bus_head& x) { env.mutable_bus_head()->set_head(x.head); }
  void operator()(const link_fault& x) {
    auto* p = env.mutable_link_fault();
    p->set_peer(x.peer);
    p->set_reason(x.reason);
    p->set_reporter(x.reporter);
  }
  void operator()(const evicted& x) { env.mutable_evicted()->set_reason(x.reason); }
  void operator()(const workload& x) {
    env.mutable_workload()->set_version(x.version);
    env.mutable_workload()->set_state(x.state);
  }
  void operator()(const status_reply& x) {
    auto* p = env.mutable_status_reply();
    to_pb(x.members, *p->mutable_view());
    p->set_answered_by(x.answered_by);
    p->mutable_health()->set_level(x.node_health.level);
    for (auto& r : x.node_health.reasons)
      p->mutable_health()->add_reasons(r);
    p->set_bad_frames(x.bad_frames);
    p->set_main_worker(x.main_worker);
  }
};

// -- decoding ---------------------------------------------------------------------------------

codec_errc check_len(const std::string& s, size_t max) {
  return s.size() > max ? codec_errc::field_too_large : codec_errc::none;
}

#define TROUPE_TRY(expr)                                                                         \
  do {                                                                                           \
    if (auto err_ = (expr); err_ != codec_errc::none)                                            \
      return err_;                                                                               \
  } while (false)

codec_errc from_pb(const pb::Member& in, member& out, bool require_state) {
  TROUPE_TRY(check_len(in.name(), codec_limits::max_name));
  TROUPE_TRY(check_len(in.address(), codec_limits::max_address));
  TROUPE_TRY(check_len(in.instance_id(), codec_limits::max_name));
  if (in.name().empty())
    return codec_errc::invalid_value;
  if (in.roles_size() > 2)
    return codec_errc::field_too_large;
  out.name = in.name();
  out.address = in.address();
  out.roles = {};
  for (auto r : in.roles()) {
    if (r == pb::ROLE_COORDINATOR)
      out.roles.coordinator = true;
    else if (r == pb::ROLE_WORKER)
      out.roles.worker = true;
    else
      return codec_errc::invalid_value;
  }
  if (out.roles.empty())
    return codec_errc::invalid_value;
  if (in.http_port() > 65535)
    return codec_errc::invalid_value;
  auto st = static_cast<int>(in.state());
  if (st < static_cast<int>(member_state::joining) || st > static_cast<int>(member_state::leaving)) {
    if (require_state || st != 0)
      return codec_errc::invalid_value;
    st = static_cast<int>(member_state::joining);
  }
  out.state = static_cast<member_state>(st);
  out.pid = in.pid();
  out.incarnation = in.incarnation();
  out.started_at_ms = in.started_at_ms();
  out.instance_id = in.instance_id();
  out.http_port = static_cast<uint16_t>(in.http_port());
  out.state_since_ms = in.state_since_ms();
  out.vnodes = in.vnodes();
  if (static_cast<size_t>(in.actor_types_size()) > codec_limits::max_actor_types)
    return codec_errc::field_too_large;
  out.actor_types.clear();
  for (auto& t : in.actor_types()) {
    TROUPE_TRY(check_len(t, codec_limits::max_name));
    out.actor_types.push_back(t);
  }
  out.raft.reset();
  if (in.has_raft()) {
    TROUPE_TRY(check_len(in.raft().role(), 32));
    out.raft = raft_info{in.raft().role(), in.raft().term(), in.raft().commit_index(),
                         in.raft().leader(), in.raft().id()};
  }
  return codec_errc::none;
}

codec_errc from_pb(const pb::View& in, view& out) {
  TROUPE_TRY(check_len(in.cluster_id(), codec_limits::max_name));
  if (static_cast<size_t>(in.members_size()) > codec_limits::max_members)
    return codec_errc::field_too_large;
  out.version = in.version();
  out.cluster_id = in.cluster_id();
  out.members.clear();
  out.members.reserve(in.members_size());
  for (auto& m : in.members()) {
    member x;
    TROUPE_TRY(from_pb(m, x, true));
    out.members.push_back(std::move(x));
  }
  return codec_errc::none;
}

codec_errc named(const std::string& name) {
  if (name.empty())
    return codec_errc::invalid_value;
  return check_len(name, codec_limits::max_name);
}

} // namespace

std::string encode(const message& msg, uint64_t seq) {
  pb::Envelope env;
  env.set_seq(seq);
  std::visit(encoder{env}, msg);
  return env.SerializeAsString();
}

std::string encode_member(const member& m) {
  pb::Member out;
  to_pb(m, out);
  return out.SerializeAsString();
}

codec_errc decode_member(std::string_view bytes, member& out) {
  if (bytes.size() > codec_limits::max_frame_size)
    return codec_errc::frame_too_large;
  pb::Member in;
  if (!in.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return codec_errc::malformed;
  return from_pb(in, out, true);
}

codec_errc decode(std::string_view bytes, decoded& out) {
  if (bytes.size() > codec_limits::max_frame_size)
    return codec_errc::frame_too_large;
  pb::Envelope env;
  if (!env.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return codec_errc::malformed;
  out.seq = env.seq();
  switch (env.body_case()) {
    case pb::Envelope::kJoinRequest: {
      join_request x;
      TROUPE_TRY(from_pb(env.join_request().self(), x.self, false));
      x.vnodes = env.join_request().vnodes();
      out.body = std::move(x);
      break;
    }
    case pb::Envelope::kJoinAccepted: {
      auto& in = env.join_accepted();
      TROUPE_TRY(check_len(in.cluster_id(), codec_limits::max_name));
      if (in.incarnation() == 0)
        return codec_errc::invalid_value;
      out.body = join_accepted{in.cluster_id(), in.incarnation()};
      break;
    }
    case pb::Envelope::kJoinRejected:
      TROUPE_TRY(check_len(env.join_rejected().reason(), codec_limits::max_reason));
      out.body = join_rejected{env.join_rejected().reason(), env.join_rejected().permanent()};
      break;
    case pb::Envelope::kHeartbeat:
      TROUPE_TRY(named(env.heartbeat().name()));
      out.body = heartbeat{env.heartbeat().name(), env.heartbeat().incarnation()};
      break;
    case pb::Envelope::kHeartbeatAck:
      out.body = heartbeat_ack{env.heartbeat_ack().rejoin(), env.heartbeat_ack().view_version()};
      break;
    case pb::Envelope::kLeave:
      TROUPE_TRY(named(env.leave().name()));
      out.body = leave{env.leave().name(), env.leave().incarnation(), env.leave().drain()};
      break;
    case pb::Envelope::kView: {
      view v;
      TROUPE_TRY(from_pb(env.view(), v));
      out.body = std::move(v);
      break;
    }
    case pb::Envelope::kStatusRequest:
      out.body = status_request{};
      break;
    case pb::Envelope::kStatusReply: {
      auto& in = env.status_reply();
      status_reply x;
      TROUPE_TRY(from_pb(in.view(), x.members));
      TROUPE_TRY(named(in.answered_by()));
      auto& lvl = in.health().level();
      if (lvl != "green" && lvl != "yellow" && lvl != "red")
        return codec_errc::invalid_value;
      if (static_cast<size_t>(in.health().reasons_size()) > codec_limits::max_reasons)
        return codec_errc::field_too_large;
      x.answered_by = in.answered_by();
      x.node_health.level = lvl;
      for (auto& r : in.health().reasons()) {
        TROUPE_TRY(check_len(r, codec_limits::max_reason));
        x.node_health.reasons.push_back(r);
      }
      x.bad_frames = in.bad_frames();
      if (!in.main_worker().empty())
        TROUPE_TRY(named(in.main_worker()));
      x.main_worker = in.main_worker();
      out.body = std::move(x);
      break;
    }
    case pb::Envelope::kWorkload:
      out.body = workload{env.workload().version(), env.workload().state()};
      break;
    case pb::Envelope::kBusHead:
      out.body = bus_head{env.bus_head().head()};
      break;
    case pb::Envelope::kLinkFault: {
      auto& in = env.link_fault();
      TROUPE_TRY(check_len(in.peer(), codec_limits::max_name));
      TROUPE_TRY(check_len(in.reporter(), codec_limits::max_name));
      TROUPE_TRY(check_len(in.reason(), codec_limits::max_reason));
      if (in.peer().empty())
        return codec_errc::invalid_value;
      out.body = link_fault{in.peer(), in.reason(), in.reporter()};
      break;
    }
    case pb::Envelope::kEvicted:
      TROUPE_TRY(check_len(env.evicted().reason(), codec_limits::max_reason));
      out.body = evicted{env.evicted().reason()};
      break;
    case pb::Envelope::BODY_NOT_SET:
      return codec_errc::missing_body;
  }
  return codec_errc::none;
}

} // namespace troupe::membership
