#include "protocols/cluster_state/member_registry.hpp"

#include "protocols/membership/membership_table.hpp"

#include <algorithm>

namespace troupe::state {

namespace ms = troupe::membership;

namespace {

bool same_process(const ms::member& a, const ms::member& b) {
  return a.pid == b.pid && a.started_at_ms == b.started_at_ms && a.address == b.address;
}

/// A name whose holder may still be alive: another process must not take it.
bool holds_name(ms::member_state s) {
  return s == ms::member_state::joining || s == ms::member_state::up;
}

} // namespace

void member_registry::change(member_record& r, ms::member_state to, const std::string& cause,
                             int64_t wall_ms, std::vector<member_change>& out) {
  out.push_back(member_change{r.info.name, r.info.incarnation, r.info.state, to, cause});
  r.info.state = to;
  r.info.state_since_ms = wall_ms;
  ++version_;
}

std::string vnodes_mismatch(uint32_t cluster, uint32_t given) {
  return "this cluster was created with --vnodes " + std::to_string(cluster)
         + "; this node was started with --vnodes " + std::to_string(given)
         + " (the vnode count is fixed when a cluster is created)";
}

join_result member_registry::join(const member_join_cmd& c, uint64_t index,
                                  std::vector<member_change>& out) {
  join_result res;
  auto& cand = c.candidate;
  auto it = members_.find(cand.name);
  if (it == members_.end() && members_.size() >= max_members_) {
    res.reason = "the cluster has reached its limit of " + std::to_string(max_members_)
                 + " members";
    return res;
  }
  bool self_registration = cand.roles.coordinator && c.holder == cand.name;
  if (self_registration && cluster_id_.empty() && !c.cluster_id.empty()) {
    cluster_id_ = c.cluster_id;
    vnode_count_ = c.vnodes;
    ++version_;
  }
  if (c.vnodes != 0 && vnode_count_ != 0 && c.vnodes != vnode_count_) {
    res.reason = vnodes_mismatch(vnode_count_, c.vnodes);
    return res;
  }
  if (it != members_.end()) {
    auto& cur = it->second;
    bool same = same_process(cur.info, cand);
    if (same && !ms::is_gone(cur.info.state) && cur.holder == c.holder) {
      // A retried join (the answer was lost or slow): the same answer.
      res.accepted = true;
      res.incarnation = cur.info.incarnation;
      return res;
    }
    if (cur.info.roles.coordinator && !self_registration) {
      res.reason = "name '" + cand.name + "' belongs to a coordinator";
      return res;
    }
    // A coordinator's name is fixed by its configuration, and only its own process
    // registers it: a new process under that name replaces the old one, which is gone.
    // The same process joining through another coordinator (its first one was lost) gets a
    // new incarnation: whatever the old coordinator still proposes about the old one is void.
    if (!same && holds_name(cur.info.state) && !self_registration) {
      res.reason = "name '" + cand.name + "' is in use by a live member at " + cur.info.address
                   + " (pid " + std::to_string(cur.info.pid) + ")";
      return res;
    }
  }
  std::optional<ms::member_state> previous;
  if (it != members_.end())
    previous = it->second.info.state;
  if (self_registration && it != members_.end()) {
    // The coordinator restarted: it no longer knows the members its last process held. They
    // are suspect until they join it again or it marks them down.
    for (auto& [name, r] : members_)
      if (name != cand.name && r.holder == cand.name && holds_name(r.info.state))
        change(r, ms::member_state::suspect, "its coordinator " + cand.name + " restarted",
               c.wall_ms, out);
  }
  auto& r = members_[cand.name];
  r.info = cand;
  r.info.incarnation = index;
  r.info.state = self_registration ? ms::member_state::up : ms::member_state::joining;
  r.info.state_since_ms = c.wall_ms;
  r.info.raft.reset();
  r.holder = c.holder;
  r.raft_id = c.raft_id;
  ++version_;
  out.push_back(member_change{cand.name, index, previous, r.info.state,
                              previous ? "joined again with a new incarnation via " + c.holder
                                       : "joined via " + c.holder});
  res.accepted = true;
  res.incarnation = index;
  return res;
}

bool member_registry::set_state(const member_state_cmd& c, std::vector<member_change>& out) {
  auto it = members_.find(c.name);
  if (it == members_.end())
    return false;
  auto& r = it->second;
  if (r.info.incarnation != c.incarnation || ms::is_gone(r.info.state))
    return false;
  if (r.info.state == c.to)
    return true;
  change(r, c.to, c.cause, c.wall_ms, out);
  return true;
}

size_t member_registry::holder_lost(const holder_lost_cmd& c, std::vector<member_change>& out) {
  // The coordinator's own name, to find the members it holds.
  std::string holder;
  for (auto& [name, r] : members_)
    if (r.raft_id == c.raft_id && r.info.roles.coordinator && r.holder == name)
      holder = name;
  if (holder.empty())
    return 0;
  size_t n = 0;
  for (auto& [name, r] : members_) {
    if (r.holder != holder || ms::is_gone(r.info.state))
      continue;
    change(r, ms::member_state::down,
           name == holder ? c.cause : "its coordinator " + holder + " was lost: " + c.cause,
           c.wall_ms, out);
    ++n;
  }
  return n;
}

size_t member_registry::prune(const member_prune_cmd& c, std::vector<member_change>& out) {
  size_t n = 0;
  for (auto it = members_.begin(); it != members_.end();) {
    auto& r = it->second;
    if (ms::is_gone(r.info.state) && r.info.state_since_ms < c.before_ms) {
      out.push_back(member_change{r.info.name, r.info.incarnation, r.info.state, std::nullopt,
                                  "gone for too long"});
      it = members_.erase(it);
      ++version_;
      ++n;
    } else {
      ++it;
    }
  }
  return n;
}

bool member_registry::has_gone_before(int64_t before_ms) const {
  return std::any_of(members_.begin(), members_.end(), [&](auto& kv) {
    return ms::is_gone(kv.second.info.state) && kv.second.info.state_since_ms < before_ms;
  });
}

ms::view member_registry::view() const {
  ms::view v;
  v.version = version_;
  v.cluster_id = cluster_id_;
  v.members.reserve(members_.size());
  for (auto& [name, r] : members_) {
    v.members.push_back(r.info);
    if (r.raft_id != 0)
      v.members.back().raft = ms::raft_info{"", 0, 0, 0, r.raft_id};
  }
  std::sort(v.members.begin(), v.members.end(), [](const ms::member& a, const ms::member& b) {
    if (a.roles.coordinator != b.roles.coordinator)
      return a.roles.coordinator;
    return ms::natural_less(a.name, b.name);
  });
  return v;
}

const member_record* member_registry::find(const std::string& name) const {
  auto it = members_.find(name);
  return it == members_.end() ? nullptr : &it->second;
}

std::vector<member_record> member_registry::dump() const {
  std::vector<member_record> out;
  out.reserve(members_.size());
  for (auto& [name, r] : members_)
    out.push_back(r);
  return out;
}

void member_registry::restore(std::vector<member_record> records, uint64_t version,
                              std::string cluster_id, uint32_t vnode_count) {
  cluster_id_ = std::move(cluster_id);
  vnode_count_ = vnode_count;
  members_.clear();
  for (auto& r : records) {
    auto name = r.info.name;
    members_[name] = std::move(r);
  }
  version_ = version;
}

} // namespace troupe::state
