#include "protocols/cluster_state/instance_store.hpp"

#include "cluster_state.pb.h"

namespace troupe::state {

namespace pb = troupe::cluster_state::wire;

const char* to_string(instance_refusal r) {
  switch (r) {
    case instance_refusal::none:
      return "none";
    case instance_refusal::no_deployment:
      return "no such deployment";
    case instance_refusal::fenced:
      return "claimed by a later owner";
    case instance_refusal::log_full:
      return "the events since the last snapshot reached the bound";
    case instance_refusal::malformed:
      return "malformed";
  }
  return "unknown";
}

instance_store::result instance_store::apply(const instance_cmd& c, uint64_t index) {
  if (auto* cl = std::get_if<instance_claim>(&c.op)) {
    auto& r = records_[cl->id];
    if (cl->epoch < r.epoch)
      return {instance_refusal::fenced};
    r.epoch = cl->epoch;
    ++r.claim;
    return {instance_refusal::none, 0, &records_.find(cl->id)->first};
  }
  if (auto* a = std::get_if<instance_append>(&c.op))
    return append(*a);
  return save(std::get<instance_save>(c.op), index);
}

instance_store::result instance_store::append(const instance_append& a) {
  auto n = a.seqs.size();
  if (a.keys.size() != n || a.payloads.size() != n)
    return {instance_refusal::malformed};
  auto it = records_.find(a.id);
  if (it == records_.end() || it->second.claim != a.claim)
    return {instance_refusal::fenced};
  auto& r = it->second;
  size_t bytes = 0;
  for (size_t i = 0; i < n; ++i)
    bytes += a.keys[i].size() + a.payloads[i].size();
  if (r.log_bytes + bytes > max_log_bytes_)
    return {instance_refusal::log_full};
  result out{instance_refusal::none, r.next_pos};
  for (size_t i = 0; i < n; ++i)
    r.log.push_back(logged_event{r.next_pos++, a.sender, a.seqs[i], a.keys[i], a.payloads[i]});
  r.log_bytes += bytes;
  return out;
}

instance_store::result instance_store::save(const instance_save& s, uint64_t index) {
  auto it = records_.find(s.id);
  if (it == records_.end() || it->second.claim != s.claim)
    return {instance_refusal::fenced};
  auto& r = it->second;
  if (s.covers < r.snapshot_pos || s.covers >= r.next_pos)
    return {instance_refusal::malformed}; // older than the snapshot kept, or past the log
  r.snapshot = s.snapshot;
  r.seen = s.seen;
  r.snapshot_pos = s.covers;
  r.saved_index = index;
  while (!r.log.empty() && r.log.front().pos <= s.covers) {
    r.log_bytes -= r.log.front().key.size() + r.log.front().payload.size();
    r.log.pop_front();
  }
  return {};
}

void instance_store::drop(const std::string& name) {
  for (auto it = records_.lower_bound(instance_id{name, 0, 0});
       it != records_.end() && it->first.deployment == name;)
    it = records_.erase(it);
}

const instance_record* instance_store::find(const instance_id& id) const {
  auto it = records_.find(id);
  return it == records_.end() ? nullptr : &it->second;
}

namespace {

void put(const instance_id& id, const instance_record& r, pb::InstanceRecord& x) {
  x.mutable_id()->set_deployment(id.deployment);
  x.mutable_id()->set_created(id.created);
  x.mutable_id()->set_vnode(id.vnode);
  x.set_epoch(r.epoch);
  x.set_claim(r.claim);
  x.set_snapshot(r.snapshot);
  x.set_seen(r.seen);
  x.set_snapshot_pos(r.snapshot_pos);
  x.set_next_pos(r.next_pos);
  x.set_saved_index(r.saved_index);
  for (auto& e : r.log) {
    auto* y = x.add_log();
    y->set_pos(e.pos);
    y->set_sender(e.sender);
    y->set_seq(e.seq);
    y->set_key(e.key);
    y->set_payload(e.payload);
  }
}

bool get(const pb::InstanceRecord& x, instance_id& id, instance_record& r) {
  id = instance_id{x.id().deployment(), x.id().created(), x.id().vnode()};
  r = instance_record{};
  r.epoch = x.epoch();
  r.claim = x.claim();
  r.snapshot = x.snapshot();
  r.seen = x.seen();
  r.snapshot_pos = x.snapshot_pos();
  r.next_pos = x.next_pos();
  r.saved_index = x.saved_index();
  auto expect = r.snapshot_pos + 1;
  for (auto& y : x.log()) {
    if (y.pos() != expect++)
      return false; // the log follows the snapshot without a gap
    r.log.push_back(logged_event{y.pos(), y.sender(), y.seq(), y.key(), y.payload()});
    r.log_bytes += y.key().size() + y.payload().size();
  }
  return r.next_pos == expect;
}

} // namespace

std::string encode_record(const instance_id& id, const instance_record* r) {
  pb::InstanceRecord x;
  put(id, r ? *r : instance_record{}, x);
  return x.SerializeAsString();
}

bool decode_record(const std::string& bytes, instance_id& id, instance_record& out) {
  pb::InstanceRecord x;
  return x.ParseFromString(bytes) && get(x, id, out);
}

void put_instances(const instance_store& s, pb::StateSnapshot& out) {
  for (auto& [id, r] : s.all())
    put(id, r, *out.add_instances());
}

bool get_instances(const pb::StateSnapshot& in, instance_store& s) {
  std::map<instance_id, instance_record> records;
  for (auto& x : in.instances()) {
    instance_id id;
    instance_record r;
    if (!get(x, id, r))
      return false;
    records[id] = std::move(r);
  }
  s.restore(std::move(records));
  return true;
}

} // namespace troupe::state
