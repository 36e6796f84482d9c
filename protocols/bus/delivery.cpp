#include "protocols/bus/delivery.hpp"

#include <algorithm>

namespace troupe::bus {

uint64_t delivery_state::subscribe(const std::string& topic) {
  auto id = next_id_++;
  subs_[id] = subscription{topic, 0, false};
  by_topic_[topic].insert(id);
  return id;
}

bool delivery_state::unsubscribe(uint64_t id) {
  auto it = subs_.find(id);
  if (it == subs_.end())
    return false;
  auto t = by_topic_.find(it->second.topic);
  if (t != by_topic_.end()) {
    t->second.erase(id);
    if (t->second.empty())
      by_topic_.erase(t);
  }
  subs_.erase(it);
  return true;
}

std::optional<fetch_request> delivery_state::next_fetch() {
  if (in_flight_)
    return std::nullopt;
  fetch_request req;
  for (auto& [topic, ids] : by_topic_) {
    std::optional<uint64_t> after;
    for (auto id : ids) {
      auto& s = subs_.at(id);
      if (!s.started || s.cursor < head_)
        after = std::min(after.value_or(s.cursor), s.cursor);
    }
    if (after) {
      req.topics.push_back(topic);
      req.after.push_back(*after);
    }
  }
  if (req.topics.empty())
    return std::nullopt;
  in_flight_ = req;
  return req;
}

std::vector<delivery> delivery_state::fetched(const std::vector<fetched_entry>& entries,
                                              uint64_t replica_head) {
  std::vector<delivery> out;
  if (!in_flight_)
    return out;
  auto req = std::move(*in_flight_);
  in_flight_.reset();
  set_head(replica_head);
  for (uint32_t k = 0; k < req.topics.size(); ++k) {
    auto t = by_topic_.find(req.topics[k]);
    if (t == by_topic_.end())
      continue; // every subscriber left meanwhile
    for (auto id : t->second) {
      auto& s = subs_.at(id);
      // A subscription that arrived after the request went out may have missed entries at
      // or before `after`: it waits for a fetch of its own.
      if (s.cursor < req.after[k] || (!s.started && req.after[k] > 0))
        continue;
      for (auto& e : entries) {
        if (e.topic != k || e.entry.index <= s.cursor)
          continue;
        if (e.entry.origin == self_ && !e.entry.send_to_self)
          continue;
        out.push_back(delivery{id, message{req.topics[k], e.entry.payload, e.entry.origin,
                                           e.entry.index}});
      }
      s.cursor = std::max(s.cursor, replica_head);
      s.started = true;
    }
  }
  return out;
}

std::vector<delivery> delivery_state::live(const std::string& topic, const std::string& payload,
                                           const std::string& origin) const {
  std::vector<delivery> out;
  auto t = by_topic_.find(topic);
  if (t == by_topic_.end())
    return out;
  for (auto id : t->second)
    out.push_back(delivery{id, message{topic, payload, origin, 0}});
  return out;
}

std::vector<uint64_t> delivery_state::subscribers(const std::string& topic) const {
  auto t = by_topic_.find(topic);
  if (t == by_topic_.end())
    return {};
  return {t->second.begin(), t->second.end()};
}

} // namespace troupe::bus
