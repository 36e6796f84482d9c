#include "protocols/cluster_state/kv_store.hpp"

#include "cluster_state.pb.h"

#include <algorithm>

namespace troupe::state {

namespace pb = troupe::cluster_state::wire;

namespace {

constexpr size_t max_clients = 10000;

void to_pb(const kv_record& r, pb::KvRecord& out) {
  out.set_key(r.key);
  out.set_value(r.value);
  out.set_create_revision(r.create_revision);
  out.set_mod_revision(r.mod_revision);
  out.set_version(r.version);
}

kv_record from_pb(const pb::KvRecord& in) {
  return {in.key(), in.value(), in.create_revision(), in.mod_revision(), in.version()};
}

} // namespace

void kv_store::record(kv_event ev) {
  history_.push_back(std::move(ev));
  while (history_.size() > history_limit_) {
    compacted_revision_ = history_.front().record.mod_revision;
    history_.pop_front();
  }
}

apply_result kv_store::apply(const command& c) {
  if (c.client != 0) {
    auto it = clients_.find(c.client);
    if (it != clients_.end() && c.sequence <= it->second.sequence) {
      auto r = it->second.result;
      r.duplicate = true;
      return r;
    }
  }
  apply_result out;
  if (!std::holds_alternative<put_cmd>(c.body) && !std::holds_alternative<del_cmd>(c.body)) {
    out.ok = false;
    out.revision = revision_;
    return out;
  }
  if (auto* p = std::get_if<put_cmd>(&c.body)) {
    auto it = data_.find(p->key);
    auto current = it == data_.end() ? 0 : it->second.mod_revision;
    if (p->expected_revision && *p->expected_revision != current) {
      out.ok = false;
    } else {
      ++revision_;
      auto& r = data_[p->key];
      if (it == data_.end()) {
        r.key = p->key;
        r.create_revision = revision_;
        r.version = 0;
      }
      r.value = p->value;
      r.mod_revision = revision_;
      ++r.version;
      record(kv_event{kv_event::put, r});
    }
  } else {
    auto& d = std::get<del_cmd>(c.body);
    auto it = data_.find(d.key);
    auto current = it == data_.end() ? 0 : it->second.mod_revision;
    if ((d.expected_revision && *d.expected_revision != current) || it == data_.end()) {
      out.ok = false;
    } else {
      ++revision_;
      kv_record gone;
      gone.key = d.key;
      gone.mod_revision = revision_;
      data_.erase(it);
      record(kv_event{kv_event::del, gone});
    }
  }
  out.revision = revision_;
  if (c.client != 0) {
    clients_[c.client] = seen{c.sequence, out};
    if (clients_.size() > max_clients) {
      // Forget the client that wrote longest ago (deterministic on every replica).
      auto oldest = std::min_element(clients_.begin(), clients_.end(), [](auto& a, auto& b) {
        return a.second.result.revision < b.second.result.revision
               || (a.second.result.revision == b.second.result.revision && a.first < b.first);
      });
      clients_.erase(oldest);
    }
  }
  return out;
}

std::optional<kv_record> kv_store::get(const std::string& key) const {
  auto it = data_.find(key);
  if (it == data_.end())
    return std::nullopt;
  return it->second;
}

std::vector<kv_record> kv_store::list(const std::string& prefix, size_t limit,
                                      const std::string& after) const {
  std::vector<kv_record> out;
  auto it = after.empty() ? data_.lower_bound(prefix) : data_.upper_bound(after);
  for (; it != data_.end() && out.size() < limit; ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) {
      if (it->first > prefix)
        break;
      continue;
    }
    out.push_back(it->second);
  }
  return out;
}

std::variant<std::vector<kv_event>, kv_store::compacted>
kv_store::events_after(const std::string& prefix, uint64_t after) const {
  if (after < compacted_revision_)
    return compacted{compacted_revision_ + 1};
  std::vector<kv_event> out;
  // History is in revision order: skip to the first event after `after`.
  auto it = std::upper_bound(history_.begin(), history_.end(), after,
                             [](uint64_t rev, const kv_event& e) { return rev < e.record.mod_revision; });
  for (; it != history_.end(); ++it)
    if (it->record.key.compare(0, prefix.size(), prefix) == 0)
      out.push_back(*it);
  return out;
}

std::string kv_store::snapshot() const {
  pb::Snapshot s;
  s.set_revision(revision_);
  s.set_compacted_revision(compacted_revision_);
  for (auto& [k, r] : data_)
    to_pb(r, *s.add_records());
  for (auto& e : history_) {
    auto* pe = s.add_history();
    pe->set_type(e.type);
    to_pb(e.record, *pe->mutable_record());
  }
  std::vector<std::pair<uint64_t, seen>> clients(clients_.begin(), clients_.end());
  std::sort(clients.begin(), clients.end(),
            [](auto& a, auto& b) { return a.first < b.first; }); // deterministic bytes
  for (auto& [id, sn] : clients) {
    auto* pc = s.add_clients();
    pc->set_client(id);
    pc->set_sequence(sn.sequence);
    pc->set_revision(sn.result.revision);
    pc->set_ok(sn.result.ok);
  }
  return s.SerializeAsString();
}

bool kv_store::restore(const std::string& bytes) {
  pb::Snapshot s;
  if (!s.ParseFromString(bytes))
    return false;
  data_.clear();
  history_.clear();
  clients_.clear();
  revision_ = s.revision();
  compacted_revision_ = s.compacted_revision();
  for (auto& r : s.records())
    data_[r.key()] = from_pb(r);
  for (auto& e : s.history())
    history_.push_back(kv_event{e.type() == 0 ? kv_event::put : kv_event::del, from_pb(e.record())});
  for (auto& c : s.clients())
    clients_[c.client()] = seen{c.sequence(), apply_result{c.ok(), c.revision(), false, 0, {}, {}}};
  return true;
}

} // namespace troupe::state
