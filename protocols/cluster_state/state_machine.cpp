#include "protocols/cluster_state/state_machine.hpp"

#include "cluster_state.pb.h"
#include "protocols/cluster_state/jobs_codec.hpp"
#include "protocols/membership/codec.hpp"

#include <deque>
#include <map>
#include <set>

namespace troupe::state {

namespace pb = troupe::cluster_state::wire;
namespace ms = troupe::membership;

namespace {

void put_members(const member_registry& r, pb::StateSnapshot& s) {
  for (auto& rec : r.dump()) {
    auto* x = s.add_members();
    x->set_member(ms::encode_member(rec.info));
    x->set_holder(rec.holder);
    x->set_raft_id(rec.raft_id);
  }
  s.set_members_version(r.version());
  s.set_cluster_id(r.cluster_id());
  s.set_vnode_count(r.vnode_count());
}

bool get_members(const pb::StateSnapshot& s, std::vector<member_record>& out) {
  out.clear();
  for (auto& x : s.members()) {
    member_record r;
    if (ms::decode_member(x.member(), r.info) != ms::codec_errc::none)
      return false;
    r.holder = x.holder();
    r.raft_id = x.raft_id();
    out.push_back(std::move(r));
  }
  return true;
}

void put_vnodes(const vnode_map& v, pb::StateSnapshot& s) {
  auto* x = s.mutable_vnodes();
  std::map<std::string, uint32_t> index;
  auto key = [&](const std::string& o) -> uint32_t {
    if (o.empty())
      return 0;
    auto [it, fresh] = index.emplace(o, static_cast<uint32_t>(index.size() + 1));
    if (fresh)
      x->add_workers(o);
    return it->second;
  };
  for (auto& o : v.owners())
    x->add_owner(key(o));
  for (auto e : v.epochs())
    x->add_epoch(e);
  for (auto& p : v.previous())
    x->add_previous(key(p));
  for (bool h : v.handoffs())
    x->add_handoff(h);
  x->set_version(v.version());
}

bool get_vnodes(const pb::StateSnapshot& s, vnode_map& v) {
  auto& x = s.vnodes();
  auto names = [&](const google::protobuf::RepeatedField<uint32_t>& keys,
                   std::vector<std::string>& out) {
    out.reserve(static_cast<size_t>(keys.size()));
    for (auto k : keys) {
      if (k > static_cast<uint32_t>(x.workers_size()))
        return false;
      out.push_back(k == 0 ? std::string{} : x.workers(static_cast<int>(k - 1)));
    }
    return true;
  };
  std::vector<std::string> owners, previous;
  if (!names(x.owner(), owners) || !names(x.previous(), previous))
    return false;
  v.restore(std::move(owners), {x.epoch().begin(), x.epoch().end()}, x.version(),
            std::move(previous), {x.handoff().begin(), x.handoff().end()});
  return true;
}

void put_deployments(const deployment_table& t, pb::StateSnapshot& s) {
  for (auto& [name, d] : t.all())
    s.add_deployments()->ParseFromString(encode_deployment(d));
  s.set_deployments_version(t.version());
}

bool get_deployments(const pb::StateSnapshot& s, deployment_table& t) {
  std::vector<deployment_spec> specs;
  for (auto& x : s.deployments()) {
    deployment_spec d;
    if (!decode_deployment(x.SerializeAsString(), d))
      return false;
    specs.push_back(std::move(d));
  }
  t.restore(std::move(specs), s.deployments_version());
  return true;
}

void put_migrations(const migration_table& t, pb::StateSnapshot& s) {
  for (auto& [id, r] : t.all()) {
    auto* x = s.add_migrations();
    x->set_id(r.id);
    x->set_state(static_cast<uint32_t>(r.state));
    x->set_epoch(r.epoch);
    x->set_node(r.node);
    x->set_checkpoint(r.checkpoint);
    x->set_error(r.error);
    x->set_attempts(r.attempts);
    x->set_started_ms(r.started_ms);
    x->set_finished_ms(r.finished_ms);
    x->set_runner(r.runner);
  }
  s.set_migrations_version(t.version());
}

bool get_migrations(const pb::StateSnapshot& s, migration_table& t) {
  std::map<std::string, migration_record> out;
  for (auto& x : s.migrations()) {
    if (x.id().empty() || x.state() > static_cast<uint32_t>(migration_state::failed))
      return false;
    out[x.id()] = migration_record{x.id(), static_cast<migration_state>(x.state()), x.epoch(),
                                   x.node(),   x.runner(),     x.checkpoint(),
                                   x.error(),  x.attempts(),   x.started_ms(),
                                   x.finished_ms()};
  }
  t.restore(std::move(out), s.migrations_version());
  return true;
}

void put_bus(const bus_log& b, pb::StateSnapshot& s) {
  for (auto& [topic, q] : b.topics())
    for (auto& e : q) {
      auto* x = s.add_bus();
      x->set_topic(topic);
      x->set_index(e.index);
      x->set_origin(e.origin);
      x->set_payload(e.payload);
      x->set_send_to_self(e.send_to_self);
    }
  s.set_bus_head(b.head());
}

bool get_bus(const pb::StateSnapshot& s, bus_log& b) {
  std::map<std::string, std::deque<bus_entry>> topics;
  for (auto& x : s.bus()) {
    auto& q = topics[x.topic()];
    if (x.topic().empty() || (!q.empty() && q.back().index >= x.index()))
      return false; // each topic's entries are stored oldest first
    q.push_back(bus_entry{x.index(), x.origin(), x.payload(), x.send_to_self()});
  }
  b.restore(std::move(topics), s.bus_head());
  return true;
}

} // namespace

bool state_machine::live(const std::string& name) const {
  auto* r = members_.find(name);
  return r
         && (r->info.state == ms::member_state::up || r->info.state == ms::member_state::suspect
             || r->info.state == ms::member_state::leaving);
}

std::string state_machine::deploy_refusal(const std::string& type) const {
  std::set<std::string> known;
  size_t workers = 0;
  for (auto& [name, r] : members_.records()) {
    if (!r.info.roles.worker || !live(name))
      continue;
    ++workers;
    if (r.info.actor_types.empty())
      return {}; // it does not say what it has
    for (auto& t : r.info.actor_types) {
      if (t == type)
        return {};
      known.insert(t);
    }
  }
  if (workers == 0)
    return {};
  std::string list;
  for (auto& t : known)
    list += (list.empty() ? "" : ", ") + t;
  return "no worker has actor type '" + type + "' (the " + std::to_string(workers)
         + " live workers have: " + list
         + "); register it with add_actor_type on the workers, or deploy one of those";
}

void state_machine::jobs_follow_members(const std::vector<member_change>& changes, size_t from,
                                        int64_t at_ms) {
  for (size_t i = from; i < changes.size(); ++i) {
    auto& ch = changes[i];
    auto* r = members_.find(ch.name);
    bool worker = r && r->info.roles.worker;
    bool now_up = worker && live(ch.name);
    bool was_up = jobs_.workers_up().count(ch.name) > 0;
    if (now_up != was_up)
      jobs_.apply(jobs::worker_cmd{ch.name, now_up, at_ms});
  }
}

apply_result state_machine::apply(const command& c, uint64_t index,
                                  std::vector<member_change>& changes) {
  apply_result out;
  if (std::holds_alternative<put_cmd>(c.body) || std::holds_alternative<del_cmd>(c.body))
    return kv_.apply(c);
  out.revision = kv_.revision();
  auto changes_before = changes.size();
  if (auto* j = std::get_if<member_join_cmd>(&c.body)) {
    auto res = members_.join(*j, index, changes);
    vnodes_.init(members_.vnode_count());
    out.ok = res.accepted;
    out.incarnation = res.incarnation;
    out.reason = std::move(res.reason);
    jobs_follow_members(changes, changes_before, j->wall_ms);
  } else if (auto* s = std::get_if<member_state_cmd>(&c.body)) {
    out.ok = members_.set_state(*s, changes);
    jobs_follow_members(changes, changes_before, s->wall_ms);
  } else if (auto* h = std::get_if<holder_lost_cmd>(&c.body)) {
    out.ok = members_.holder_lost(*h, changes) > 0;
    jobs_follow_members(changes, changes_before, h->wall_ms);
  } else if (auto* p = std::get_if<member_prune_cmd>(&c.body)) {
    members_.prune(*p, changes);
    jobs_follow_members(changes, changes_before, p->before_ms);
  } else if (auto* jc = std::get_if<jobs_cmd>(&c.body)) {
    for (auto& op : jc->ops)
      out.jobs.push_back(std::holds_alternative<jobs::worker_cmd>(op)
                           ? jobs::apply_result{jobs::outcome::invalid} // the membership's call
                           : jobs_.apply(op));
  } else if (auto* v = std::get_if<vnode_moves_cmd>(&c.body)) {
    out.ok = vnodes_.apply(*v, index, [this](const std::string& name) { return live(name); });
  } else if (auto* d = std::get_if<deploy_cmd>(&c.body)) {
    auto res = deployments_.deploy(*d, index);
    out.ok = res.ok;
    out.reason = std::move(res.reason);
  } else if (auto* m = std::get_if<main_worker_cmd>(&c.body)) {
    out.ok = main_.apply(*m, index, live(main_.name()));
  } else if (auto* b = std::get_if<bus_publish_cmd>(&c.body)) {
    auto res = bus_.apply(*b, index);
    out.ok = res.ok;
    out.reason = std::move(res.reason);
    out.incarnation = index;
  } else if (auto* g = std::get_if<migration_cmd>(&c.body)) {
    auto res = migrations_.apply(*g, index, main_.name(), main_.epoch());
    out.ok = res.ok;
    out.reason = std::move(res.reason);
    if (auto* r = migrations_.find(g->id); r && res.ok)
      out.incarnation = r->attempts; // a start: the attempt it begins
  } else if (auto* u = std::get_if<undeploy_cmd>(&c.body)) {
    auto res = deployments_.undeploy(*u, index);
    out.ok = res.ok;
    out.reason = std::move(res.reason);
    if (res.ok)
      instances_.drop(u->name); // its snapshots and logged events go with it
  } else if (auto* ic = std::get_if<instances_cmd>(&c.body)) {
    for (auto& op : ic->ops)
      out.instances.push_back(apply_instance(op, index));
  }
  return out;
}

instance_store::result state_machine::apply_instance(const instance_cmd& c, uint64_t index) {
  // Only for a deployment that exists, as created: a late write of one undeployed would
  // otherwise leave a record nothing ever drops.
  auto& id = std::visit([](auto& op) -> const instance_id& { return op.id; }, c.op);
  auto* d = deployments_.find(id.deployment);
  if (!d || d->created != id.created)
    return {instance_refusal::no_deployment};
  if (std::holds_alternative<instance_append>(c.op) && !d->durable)
    return {instance_refusal::malformed}; // only a durable deployment logs its events
  return instances_.apply(c, index);
}

std::string state_machine::snapshot() const {
  pb::StateSnapshot s;
  s.set_kv(kv_.snapshot());
  put_members(members_, s);
  put_vnodes(vnodes_, s);
  put_deployments(deployments_, s);
  s.set_main_worker(main_.name());
  s.set_main_worker_epoch(main_.epoch());
  s.set_main_worker_previous(main_.previous());
  s.set_main_worker_handoff(main_.handoff());
  put_bus(bus_, s);
  put_migrations(migrations_, s);
  put_jobs(jobs_, s);
  put_instances(instances_, s);
  return s.SerializeAsString();
}

bool state_machine::restore(const std::string& bytes) {
  pb::StateSnapshot s;
  if (!s.ParseFromString(bytes))
    return false;
  std::vector<member_record> records;
  if (!get_members(s, records) || !get_vnodes(s, vnodes_) || !get_deployments(s, deployments_)
      || !kv_.restore(s.kv()) || !get_bus(s, bus_) || !get_migrations(s, migrations_)
      || !get_jobs(s, jobs_) || !get_instances(s, instances_))
    return false;
  members_.restore(std::move(records), s.members_version(), s.cluster_id(), s.vnode_count());
  main_.restore(s.main_worker(), s.main_worker_epoch(), s.main_worker_previous(),
                s.main_worker_handoff());
  return true;
}

std::string encode_view(const state_machine& sm, uint64_t index) {
  pb::StateSnapshot s;
  s.set_view_index(index);
  put_members(sm.members(), s);
  put_vnodes(sm.vnodes(), s);
  put_deployments(sm.deployments(), s);
  s.set_main_worker(sm.main().name());
  s.set_main_worker_epoch(sm.main().epoch());
  s.set_main_worker_previous(sm.main().previous());
  s.set_main_worker_handoff(sm.main().handoff());
  put_migrations(sm.migrations(), s);
  s.set_bus_head(sm.bus().head());
  return s.SerializeAsString();
}

bool decode_view(const std::string& bytes, cluster_view& out) {
  pb::StateSnapshot s;
  std::vector<member_record> records;
  if (!s.ParseFromString(bytes) || !get_members(s, records) || !get_vnodes(s, out.vnodes)
      || !get_deployments(s, out.deployments) || !get_migrations(s, out.migrations))
    return false;
  out.bus_head = s.bus_head();
  out.index = s.view_index();
  out.members.restore(std::move(records), s.members_version(), s.cluster_id(), s.vnode_count());
  out.main.restore(s.main_worker(), s.main_worker_epoch(), s.main_worker_previous(),
                   s.main_worker_handoff());
  return true;
}

} // namespace troupe::state
