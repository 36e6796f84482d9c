#include "protocols/cluster_state/commands.hpp"

#include "cluster_state.pb.h"
#include "protocols/cluster_state/jobs_codec.hpp"
#include "protocols/membership/codec.hpp"

namespace troupe::state {

namespace pb = troupe::cluster_state::wire;
namespace ms = troupe::membership;

namespace {

void to_pb(const deployment_spec& d, pb::Deployment& x) {
  x.set_name(d.name);
  x.set_type(d.type);
  x.set_routing(static_cast<uint32_t>(d.route));
  x.set_delivery(static_cast<uint32_t>(d.guarantee));
  for (auto& [k, v] : d.config)
    (*x.mutable_config())[k] = v;
  x.set_created(d.created);
  x.set_durable(d.durable);
}

bool from_pb(const pb::Deployment& x, deployment_spec& d) {
  if (x.routing() > 2 || x.delivery() > 1)
    return false;
  d.name = x.name();
  d.type = x.type();
  d.route = static_cast<routing>(x.routing());
  d.guarantee = static_cast<delivery>(x.delivery());
  d.config = {x.config().begin(), x.config().end()};
  d.created = x.created();
  d.durable = x.durable();
  return true;
}

void instance_to_pb(const instance_cmd& c, pb::InstanceOp& out) {
  auto* x = &out;
  auto id = [x](const instance_id& i, uint64_t epoch) {
    x->mutable_id()->set_deployment(i.deployment);
    x->mutable_id()->set_created(i.created);
    x->mutable_id()->set_vnode(i.vnode);
    x->set_epoch(epoch);
  };
  if (auto* cl = std::get_if<instance_claim>(&c.op)) {
    id(cl->id, cl->epoch);
    x->set_claim(true);
  } else if (auto* a = std::get_if<instance_append>(&c.op)) {
    id(a->id, a->claim);
    auto* y = x->mutable_append();
    y->set_sender(a->sender);
    for (auto s : a->seqs)
      y->add_seqs(s);
    for (auto& k : a->keys)
      y->add_keys(k);
    for (auto& p : a->payloads)
      y->add_payloads(p);
  } else {
    auto& s = std::get<instance_save>(c.op);
    id(s.id, s.claim);
    auto* y = x->mutable_save();
    y->set_covers(s.covers);
    y->set_snapshot(s.snapshot);
    y->set_seen(s.seen);
  }
}

bool instance_from_pb(const pb::InstanceOp& x, instance_cmd& out) {
  instance_id id{x.id().deployment(), x.id().created(), x.id().vnode()};
  switch (x.op_case()) {
    case pb::InstanceOp::kClaim:
      out.op = instance_claim{std::move(id), x.epoch()};
      return true;
    case pb::InstanceOp::kAppend: {
      auto& y = x.append();
      out.op = instance_append{std::move(id),
                               x.epoch(),
                               y.sender(),
                               {y.seqs().begin(), y.seqs().end()},
                               {y.keys().begin(), y.keys().end()},
                               {y.payloads().begin(), y.payloads().end()}};
      return true;
    }
    case pb::InstanceOp::kSave:
      out.op = instance_save{std::move(id), x.epoch(), x.save().covers(), x.save().snapshot(),
                             x.save().seen()};
      return true;
    default:
      return false;
  }
}

struct encoder {
  pb::Command& out;

  void operator()(const put_cmd& p) {
    auto* x = out.mutable_put();
    x->set_key(p.key);
    x->set_value(p.value);
    x->set_has_expected(p.expected_revision.has_value());
    x->set_expected_revision(p.expected_revision.value_or(0));
  }
  void operator()(const del_cmd& d) {
    auto* x = out.mutable_del();
    x->set_key(d.key);
    x->set_has_expected(d.expected_revision.has_value());
    x->set_expected_revision(d.expected_revision.value_or(0));
  }
  void operator()(const member_join_cmd& j) {
    auto* x = out.mutable_member_join();
    x->set_member(ms::encode_member(j.candidate));
    x->set_holder(j.holder);
    x->set_raft_id(j.raft_id);
    x->set_wall_ms(j.wall_ms);
    x->set_cluster_id(j.cluster_id);
    x->set_vnodes(j.vnodes);
  }
  void operator()(const member_state_cmd& c) {
    auto* x = out.mutable_member_state();
    x->set_name(c.name);
    x->set_incarnation(c.incarnation);
    x->set_state(static_cast<uint32_t>(c.to));
    x->set_cause(c.cause);
    x->set_wall_ms(c.wall_ms);
  }
  void operator()(const holder_lost_cmd& c) {
    auto* x = out.mutable_holder_lost();
    x->set_raft_id(c.raft_id);
    x->set_cause(c.cause);
    x->set_wall_ms(c.wall_ms);
  }
  void operator()(const member_prune_cmd& c) {
    out.mutable_member_prune()->set_before_ms(c.before_ms);
  }
  void operator()(const deploy_cmd& c) { to_pb(c.spec, *out.mutable_deploy()->mutable_spec()); }
  void operator()(const undeploy_cmd& c) { out.mutable_undeploy()->set_name(c.name); }
  void operator()(const main_worker_cmd& c) {
    auto* x = out.mutable_main_worker();
    x->set_based_on(c.based_on);
    x->set_name(c.name);
  }
  void operator()(const bus_publish_cmd& c) {
    auto* x = out.mutable_bus_publish();
    x->set_topic(c.topic);
    x->set_payload(c.payload);
    x->set_origin(c.origin);
    x->set_send_to_self(c.send_to_self);
    x->set_keep(c.keep);
  }
  void operator()(const jobs_cmd& c) { jobs_to_pb(c, *out.mutable_jobs()); }
  void operator()(const instances_cmd& c) {
    auto* batch = out.mutable_instances();
    for (auto& op : c.ops)
      instance_to_pb(op, *batch->add_ops());
  }
  void operator()(const migration_cmd& c) {
    auto* x = out.mutable_migration();
    x->set_op(static_cast<uint32_t>(c.kind));
    x->set_id(c.id);
    x->set_epoch(c.epoch);
    x->set_node(c.node);
    x->set_data(c.data);
    x->set_wall_ms(c.wall_ms);
  }
  void operator()(const vnode_moves_cmd& c) {
    auto* x = out.mutable_vnode_moves();
    x->set_based_on(c.based_on);
    for (auto& m : c.moves) {
      x->add_vnode(m.vnode);
      x->add_from(m.from);
      x->add_to(m.to);
    }
  }
};

} // namespace

std::string encode(const command& c) {
  pb::Command out;
  out.set_client(c.client);
  out.set_sequence(c.sequence);
  std::visit(encoder{out}, c.body);
  return out.SerializeAsString();
}

bool decode(const std::string& bytes, command& out) {
  pb::Command in;
  if (!in.ParseFromString(bytes))
    return false;
  out.client = in.client();
  out.sequence = in.sequence();
  switch (in.body_case()) {
    case pb::Command::kPut: {
      put_cmd p{in.put().key(), in.put().value(), std::nullopt};
      if (in.put().has_expected())
        p.expected_revision = in.put().expected_revision();
      out.body = std::move(p);
      return !in.put().key().empty();
    }
    case pb::Command::kDel: {
      del_cmd d{in.del().key(), std::nullopt};
      if (in.del().has_expected())
        d.expected_revision = in.del().expected_revision();
      out.body = std::move(d);
      return !in.del().key().empty();
    }
    case pb::Command::kMemberJoin: {
      auto& x = in.member_join();
      member_join_cmd j;
      if (ms::decode_member(x.member(), j.candidate) != ms::codec_errc::none
          || x.holder().empty())
        return false;
      j.holder = x.holder();
      j.raft_id = x.raft_id();
      j.wall_ms = x.wall_ms();
      j.cluster_id = x.cluster_id();
      j.vnodes = x.vnodes();
      out.body = std::move(j);
      return true;
    }
    case pb::Command::kMemberState: {
      auto& x = in.member_state();
      if (x.name().empty() || x.state() < static_cast<uint32_t>(ms::member_state::joining)
          || x.state() > static_cast<uint32_t>(ms::member_state::leaving))
        return false;
      out.body = member_state_cmd{x.name(), x.incarnation(),
                                  static_cast<ms::member_state>(x.state()), x.cause(),
                                  x.wall_ms()};
      return true;
    }
    case pb::Command::kHolderLost: {
      auto& x = in.holder_lost();
      out.body = holder_lost_cmd{x.raft_id(), x.cause(), x.wall_ms()};
      return x.raft_id() != 0;
    }
    case pb::Command::kVnodeMoves: {
      auto& x = in.vnode_moves();
      if (x.vnode_size() != x.from_size() || x.vnode_size() != x.to_size())
        return false;
      vnode_moves_cmd c{x.based_on(), {}};
      for (int i = 0; i < x.vnode_size(); ++i)
        c.moves.push_back(placement::move{x.vnode(i), x.from(i), x.to(i)});
      out.body = std::move(c);
      return true;
    }
    case pb::Command::kDeploy: {
      deploy_cmd c;
      if (!from_pb(in.deploy().spec(), c.spec))
        return false;
      out.body = std::move(c);
      return true;
    }
    case pb::Command::kUndeploy:
      out.body = undeploy_cmd{in.undeploy().name()};
      return !in.undeploy().name().empty();
    case pb::Command::kMainWorker:
      out.body = main_worker_cmd{in.main_worker().based_on(), in.main_worker().name()};
      return true;
    case pb::Command::kBusPublish: {
      auto& x = in.bus_publish();
      out.body = bus_publish_cmd{x.topic(), x.payload(), x.origin(), x.send_to_self(), x.keep()};
      return !x.topic().empty();
    }
    case pb::Command::kMigration: {
      auto& x = in.migration();
      if (x.op() > static_cast<uint32_t>(migration_cmd::op::retry))
        return false;
      out.body = migration_cmd{static_cast<migration_cmd::op>(x.op()), x.id(), x.epoch(),
                               x.node(), x.data(), x.wall_ms()};
      return true;
    }
    case pb::Command::kMemberPrune:
      out.body = member_prune_cmd{in.member_prune().before_ms()};
      return true;
    case pb::Command::kInstances: {
      instances_cmd c;
      for (auto& x : in.instances().ops()) {
        c.ops.emplace_back();
        if (!instance_from_pb(x, c.ops.back()))
          return false;
      }
      out.body = std::move(c);
      return true;
    }
    case pb::Command::kJobs: {
      jobs_cmd c;
      if (!jobs_from_pb(in.jobs(), c))
        return false;
      out.body = std::move(c);
      return true;
    }
    default:
      return false;
  }
}

std::string encode_deployment(const deployment_spec& d) {
  pb::Deployment x;
  to_pb(d, x);
  return x.SerializeAsString();
}

bool decode_deployment(const std::string& bytes, deployment_spec& out) {
  pb::Deployment x;
  return x.ParseFromString(bytes) && from_pb(x, out);
}

bool client_may_propose(const jobs_cmd& c) {
  for (auto& op : c.ops)
    if (std::holds_alternative<jobs::assign_cmd>(op) || std::holds_alternative<jobs::expire_cmd>(op)
        || std::holds_alternative<jobs::worker_cmd>(op)
        || std::holds_alternative<jobs::place_task_cmd>(op)
        || std::holds_alternative<jobs::prune_cmd>(op))
      return false;
  return true;
}

void stamp(jobs_cmd& c, int64_t now_ms) {
  for (auto& op : c.ops)
    std::visit(
      [now_ms](auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (!std::is_same_v<T, jobs::create_queue_cmd>
                      && !std::is_same_v<T, jobs::delete_queue_cmd>)
          x.at_ms = now_ms;
      },
      op);
}

} // namespace troupe::state
