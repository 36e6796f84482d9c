#include "protocols/membership/membership_table.hpp"

#include <algorithm>
#include <cctype>

namespace troupe::membership {

membership_table::membership_table(std::string cluster_id, table_settings cfg)
  : cluster_id_(std::move(cluster_id)), cfg_(cfg) {
}

transition membership_table::set_state(entry& e, member_state to, std::string cause,
                                       time_point now, int64_t wall_ms) {
  transition t{e.info.name, e.info.incarnation, e.info.state, to, std::move(cause)};
  e.info.state = to;
  e.info.state_since_ms = wall_ms;
  if (is_gone(to)) {
    e.gone_since = now;
    e.detector.reset();
  }
  ++version_;
  return t;
}

std::vector<transition> membership_table::add_local(member self, time_point now,
                                                    int64_t wall_ms) {
  self.incarnation = next_incarnation_++;
  self.state = member_state::up;
  self.state_since_ms = wall_ms;
  auto name = self.name;
  auto& e = members_[name];
  e = entry{std::move(self), true, std::nullopt, {}};
  ++version_;
  return {transition{name, e.info.incarnation, std::nullopt, member_state::up, "local node"}};
}

membership_table::join_outcome membership_table::join(member candidate, time_point now,
                                                      int64_t wall_ms) {
  join_outcome out;
  auto i = members_.find(candidate.name);
  if (i == members_.end() && members_.size() >= cfg_.max_members) {
    out.reject_reason = "the cluster has reached its limit of "
                        + std::to_string(cfg_.max_members) + " members";
    return out;
  }
  if (i != members_.end()) {
    auto& cur = i->second;
    bool same_process = cur.info.pid == candidate.pid
                        && cur.info.started_at_ms == candidate.started_at_ms
                        && cur.info.address == candidate.address;
    if (cur.local) {
      out.reject_reason = "name '" + candidate.name + "' is the coordinator's own name";
      return out;
    }
    if (same_process && !is_gone(cur.info.state)) {
      // A retried join (the accept was lost or slow): same answer, nothing changes.
      out.accepted = true;
      out.incarnation = cur.info.incarnation;
      return out;
    }
    bool holder_alive = cur.info.state == member_state::joining
                        || cur.info.state == member_state::up;
    if (!same_process && holder_alive) {
      out.reject_reason = "name '" + candidate.name + "' is in use by a live member at "
                          + cur.info.address + " (pid " + std::to_string(cur.info.pid) + ")";
      return out;
    }
  }
  candidate.incarnation = next_incarnation_++;
  out.accepted = true;
  out.incarnation = candidate.incarnation;
  out.changes = admit(std::move(candidate), now, wall_ms);
  return out;
}

std::vector<transition> membership_table::admit(member m, time_point now, int64_t wall_ms) {
  auto i = members_.find(m.name);
  if (i != members_.end() && !i->second.local && i->second.info.incarnation == m.incarnation
      && !is_gone(i->second.info.state))
    return {};
  std::optional<member_state> previous;
  if (i != members_.end())
    previous = i->second.info.state;
  m.state = member_state::joining;
  m.state_since_ms = wall_ms;
  auto& e = members_[m.name];
  e.info = std::move(m);
  e.local = false;
  e.detector.emplace(cfg_.detector, now);
  ++version_;
  return {transition{e.info.name, e.info.incarnation, previous, member_state::joining,
                     previous ? "joined again with a new incarnation" : "joined"}};
}

std::vector<transition> membership_table::supersede(const std::string& name,
                                                    uint64_t incarnation,
                                                    const std::string& cause, time_point now,
                                                    int64_t wall_ms) {
  auto i = members_.find(name);
  if (i == members_.end() || i->second.local || i->second.info.incarnation != incarnation
      || is_gone(i->second.info.state))
    return {};
  return {set_state(i->second, member_state::down, cause, now, wall_ms)};
}

membership_table::heartbeat_outcome
membership_table::heartbeat(const std::string& name, uint64_t incarnation, time_point now,
                            int64_t wall_ms) {
  heartbeat_outcome out;
  auto i = members_.find(name);
  if (i == members_.end() || i->second.local || i->second.info.incarnation != incarnation
      || is_gone(i->second.info.state)) {
    out.rejoin = true;
    return out;
  }
  auto& e = i->second;
  e.detector->heartbeat(now);
  if (e.info.state == member_state::joining)
    out.changes.push_back(set_state(e, member_state::up, "first heartbeat", now, wall_ms));
  else if (e.info.state == member_state::suspect)
    out.changes.push_back(set_state(e, member_state::up, "heartbeats resumed", now, wall_ms));
  return out;
}

std::vector<transition> membership_table::leave(const std::string& name, uint64_t incarnation,
                                                time_point now, int64_t wall_ms) {
  auto i = members_.find(name);
  if (i == members_.end() || i->second.local || i->second.info.incarnation != incarnation
      || is_gone(i->second.info.state))
    return {};
  return {set_state(i->second, member_state::left, "left gracefully", now, wall_ms)};
}

std::vector<transition> membership_table::connection_lost(const std::string& name,
                                                          uint64_t incarnation, time_point now,
                                                          int64_t wall_ms) {
  auto i = members_.find(name);
  if (i == members_.end() || i->second.local || i->second.info.incarnation != incarnation
      || is_gone(i->second.info.state))
    return {};
  return {set_state(i->second, member_state::down, "connection closed", now, wall_ms)};
}

std::vector<transition> membership_table::tick(time_point now, int64_t wall_ms) {
  std::vector<transition> out;
  for (auto i = members_.begin(); i != members_.end();) {
    auto& e = i->second;
    if (e.local) {
      ++i;
      continue;
    }
    if (is_gone(e.info.state)) {
      if (now - e.gone_since >= cfg_.forget_after) {
        i = members_.erase(i);
        ++version_;
      } else {
        ++i;
      }
      continue;
    }
    auto v = e.detector->check(now);
    auto silent_ms = std::chrono::duration_cast<milliseconds>(now - e.detector->last_heartbeat());
    if (v == verdict::dead)
      out.push_back(set_state(e, member_state::down,
                              "no heartbeat for " + std::to_string(silent_ms.count()) + " ms",
                              now, wall_ms));
    else if (v == verdict::suspect && e.info.state == member_state::up)
      out.push_back(set_state(e, member_state::suspect,
                              "no heartbeat for " + std::to_string(silent_ms.count()) + " ms",
                              now, wall_ms));
    ++i;
  }
  return out;
}

time_point membership_table::next_change(time_point now) const {
  auto next = time_point::max();
  for (auto& [name, e] : members_) {
    if (e.local)
      continue;
    if (is_gone(e.info.state)) {
      next = std::min(next, e.gone_since + cfg_.forget_after);
      continue;
    }
    auto v = e.detector->check(now);
    if (v == verdict::dead || (v == verdict::suspect && e.info.state == member_state::up))
      return now; // due already
    // A member already suspect changes again only when it is dead.
    next = std::min(next, v == verdict::suspect ? e.detector->last_heartbeat() + cfg_.detector.timeout
                                                : e.detector->next_change(now));
  }
  return next;
}

const member* membership_table::find(const std::string& name) const {
  auto i = members_.find(name);
  return i == members_.end() ? nullptr : &i->second.info;
}

view membership_table::snapshot() const {
  view v;
  v.version = version_;
  v.cluster_id = cluster_id_;
  v.members.reserve(members_.size());
  for (auto& kv : members_)
    v.members.push_back(kv.second.info);
  std::sort(v.members.begin(), v.members.end(), [](const member& a, const member& b) {
    if (a.roles.coordinator != b.roles.coordinator)
      return a.roles.coordinator;
    return natural_less(a.name, b.name);
  });
  return v;
}

bool natural_less(const std::string& a, const std::string& b) {
  size_t i = 0;
  size_t j = 0;
  auto digit = [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; };
  while (i < a.size() && j < b.size()) {
    if (digit(a[i]) && digit(b[j])) {
      auto i0 = i;
      auto j0 = j;
      while (i < a.size() && a[i] == '0')
        ++i;
      while (j < b.size() && b[j] == '0')
        ++j;
      auto i1 = i;
      auto j1 = j;
      while (i1 < a.size() && digit(a[i1]))
        ++i1;
      while (j1 < b.size() && digit(b[j1]))
        ++j1;
      if (i1 - i != j1 - j)
        return i1 - i < j1 - j;
      auto c = a.compare(i, i1 - i, b, j, j1 - j);
      if (c != 0)
        return c < 0;
      if (i1 - i0 != j1 - j0) // same value, fewer leading zeros first
        return i1 - i0 < j1 - j0;
      i = i1;
      j = j1;
    } else {
      if (a[i] != b[j])
        return a[i] < b[j];
      ++i;
      ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

} // namespace troupe::membership
