// Which broadcast goes to which subscriber on one node, and when: the pure part of the node's
// bus actor. Topics are full names ("<namespace>/<topic>").
//
// Persisted broadcasts are not pushed: the cluster view carries the index of the last one (the
// head), and a node with subscribers fetches what it has not seen from its coordinator's
// replica. Each subscription keeps a cursor (the replica's head when it last fetched), so a
// subscription gets every kept broadcast of its topic exactly once, in publish order, however
// late it subscribed and whichever fetches overlap. Broadcasts that are not persisted arrive
// from their publishers and go straight to the topic's current subscribers (best effort).
#pragma once

#include "protocols/cluster_state/bus_log.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace troupe::bus {

struct message {
  std::string topic;    // "<namespace>/<topic>"
  std::string payload;
  std::string origin;   // the node it was published on
  uint64_t index = 0;   // the log index of a persisted broadcast (0: not persisted)
};

struct delivery {
  uint64_t subscription = 0;
  message msg;
};

/// A request for persisted broadcasts: per topic, those after a log index.
struct fetch_request {
  std::vector<std::string> topics;
  std::vector<uint64_t> after;
};

/// One fetched broadcast: the topic's position in the request, and the entry.
struct fetched_entry {
  uint32_t topic = 0;
  state::bus_entry entry;
};

class delivery_state {
public:
  explicit delivery_state(std::string self_node) : self_(std::move(self_node)) {
  }

  /// Adds a subscription to `topic` (it starts with every kept persisted broadcast).
  uint64_t subscribe(const std::string& topic);

  /// Removes a subscription; false when unknown.
  bool unsubscribe(uint64_t id);

  /// The cluster's head, from the cluster view.
  void set_head(uint64_t head) {
    if (head > head_)
      head_ = head;
  }

  uint64_t head() const { return head_; }

  /// What to fetch now; nothing while a fetch is in flight or when every subscription has
  /// seen the head. The caller must answer with fetched() or fetch_failed().
  std::optional<fetch_request> next_fetch();

  /// The answer to the fetch in flight: the entries (in index order per topic) and the
  /// replica's head when it answered. Returns what to deliver, in order.
  std::vector<delivery> fetched(const std::vector<fetched_entry>& entries,
                                uint64_t replica_head);

  void fetch_failed() { in_flight_.reset(); }

  bool fetching() const { return in_flight_.has_value(); }

  /// A broadcast that was not persisted, from `origin`: to every current subscriber of the
  /// topic (the caller already decided whether a local publish reaches local subscribers).
  std::vector<delivery> live(const std::string& topic, const std::string& payload,
                             const std::string& origin) const;

  size_t subscriptions() const { return subs_.size(); }

  /// The subscriptions of `topic`.
  std::vector<uint64_t> subscribers(const std::string& topic) const;

private:
  struct subscription {
    std::string topic;
    uint64_t cursor = 0;  // every persisted broadcast of the topic up to here was delivered
    bool started = false; // has had its first fetch (cursor 0 alone cannot say: empty log)
  };

  std::string self_;
  uint64_t next_id_ = 1;
  uint64_t head_ = 0;
  std::map<uint64_t, subscription> subs_;
  std::map<std::string, std::set<uint64_t>> by_topic_;
  std::optional<fetch_request> in_flight_;
};

} // namespace troupe::bus
