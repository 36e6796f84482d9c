// Persisted broadcasts, as part of the replicated cluster state: the last `keep` messages of
// each topic, in log order, so that a subscriber that arrives later (even after every node
// restarted) still gets them, in publish order. A topic here is already namespaced
// ("<namespace>/<topic>"): the bus keys everything by the full name, which is what isolates
// one module's handlers from another's.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

namespace troupe::state {

struct bus_publish_cmd {
  std::string topic;          // "<namespace>/<topic>"
  std::string payload;
  std::string origin;         // the node it was published on
  bool send_to_self = false;  // also for the subscribers on `origin`
  uint32_t keep = 100;        // the publisher's --bus-keep: how many of the topic to keep
};

struct bus_entry {
  uint64_t index = 0;  // the log index: the publish order across all topics
  std::string origin;
  std::string payload;
  bool send_to_self = false;
};

/// Limits that keep the state bounded whatever publishers do.
constexpr size_t bus_max_topics = 10000;
constexpr size_t bus_max_payload = 1 << 20;
constexpr uint32_t bus_max_keep = 100000;

/// Returns why `c` is not acceptable, or "".
std::string check_publish(const bus_publish_cmd& c);

class bus_log {
public:
  struct result {
    bool ok = false;
    std::string reason;
  };

  result apply(const bus_publish_cmd& c, uint64_t index);

  /// The entries of `topic` after log index `after`, oldest first.
  std::vector<bus_entry> since(const std::string& topic, uint64_t after) const;

  /// The log index of the last persisted message (0: none yet).
  uint64_t head() const { return head_; }

  const std::map<std::string, std::deque<bus_entry>>& topics() const { return topics_; }

  void restore(std::map<std::string, std::deque<bus_entry>> topics, uint64_t head) {
    topics_ = std::move(topics);
    head_ = head;
  }

private:
  std::map<std::string, std::deque<bus_entry>> topics_;
  uint64_t head_ = 0;
};

/// A replica's answer to a fetch: for each topic of `topics`, what it keeps after the index
/// at the same position of `after`; with the log's head.
std::string encode_bus_fetch(const bus_log& log, const std::vector<std::string>& topics,
                             const std::vector<uint64_t>& after);

/// Decodes what encode_bus_fetch returns into (topic, entry) pairs; false when malformed.
bool decode_bus_fetch(const std::string& bytes,
                      std::vector<std::pair<std::string, bus_entry>>& out, uint64_t& head);

} // namespace troupe::state
