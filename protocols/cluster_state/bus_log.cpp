#include "protocols/cluster_state/bus_log.hpp"

#include "cluster_state.pb.h"

#include <algorithm>

namespace troupe::state {

std::string check_publish(const bus_publish_cmd& c) {
  if (c.topic.empty() || c.topic.size() > 512)
    return "a topic has 1 to 512 characters";
  if (c.topic.find('/') == std::string::npos)
    return "a persisted topic is namespaced (\"<namespace>/<topic>\")";
  if (c.payload.size() > bus_max_payload)
    return "a persisted payload has at most " + std::to_string(bus_max_payload) + " bytes";
  if (c.keep == 0 || c.keep > bus_max_keep)
    return "keep is 1 to " + std::to_string(bus_max_keep);
  return {};
}

bus_log::result bus_log::apply(const bus_publish_cmd& c, uint64_t index) {
  if (auto why = check_publish(c); !why.empty())
    return {false, why};
  auto it = topics_.find(c.topic);
  if (it == topics_.end()) {
    if (topics_.size() >= bus_max_topics)
      return {false, "too many persisted topics (" + std::to_string(bus_max_topics) + ")"};
    it = topics_.emplace(c.topic, std::deque<bus_entry>{}).first;
  }
  auto& q = it->second;
  q.push_back(bus_entry{index, c.origin, c.payload, c.send_to_self});
  while (q.size() > c.keep)
    q.pop_front();
  head_ = index;
  return {true, {}};
}

std::vector<bus_entry> bus_log::since(const std::string& topic, uint64_t after) const {
  std::vector<bus_entry> out;
  auto it = topics_.find(topic);
  if (it == topics_.end())
    return out;
  auto& q = it->second;
  auto first = std::upper_bound(q.begin(), q.end(), after,
                                [](uint64_t a, const bus_entry& e) { return a < e.index; });
  out.assign(first, q.end());
  return out;
}

std::string encode_bus_fetch(const bus_log& log, const std::vector<std::string>& topics,
                             const std::vector<uint64_t>& after) {
  cluster_state::wire::StateSnapshot s; // its bus fields: the entries and the head
  for (size_t k = 0; k < topics.size() && k < after.size(); ++k)
    for (auto& e : log.since(topics[k], after[k])) {
      auto* x = s.add_bus();
      x->set_topic(topics[k]);
      x->set_index(e.index);
      x->set_origin(e.origin);
      x->set_payload(e.payload);
      x->set_send_to_self(e.send_to_self);
    }
  s.set_bus_head(log.head());
  return s.SerializeAsString();
}

bool decode_bus_fetch(const std::string& bytes,
                      std::vector<std::pair<std::string, bus_entry>>& out, uint64_t& head) {
  cluster_state::wire::StateSnapshot s;
  if (!s.ParseFromString(bytes))
    return false;
  out.clear();
  for (auto& x : s.bus())
    out.emplace_back(x.topic(), bus_entry{x.index(), x.origin(), x.payload(), x.send_to_self()});
  head = s.bus_head();
  return true;
}

} // namespace troupe::state
