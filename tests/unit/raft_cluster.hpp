// A tiny deterministic harness for transcript-style Raft tests: real state machines, a
// perfect network that the test partitions by hand, and storage that keeps what each Ready
// asked to persist. Every step is explicit, so a test reads like the scenario it checks.
#pragma once

#include "protocols/raft/raft.hpp"

#include <deque>
#include <map>
#include <memory>
#include <set>

namespace troupe::raft::testing {

struct stored {
  hard_state hard;
  std::optional<snapshot> snap;
  std::vector<entry> entries;
};

class cluster {
public:
  explicit cluster(size_t n, int election_ticks = 10, int heartbeat_ticks = 1)
    : election_ticks_(election_ticks), heartbeat_ticks_(heartbeat_ticks) {
    for (node_id id = 1; id <= n; ++id)
      ids_.push_back(id);
    for (auto id : ids_)
      start(id);
  }

  raft& node(node_id id) { return *nodes_.at(id); }
  const std::vector<entry>& applied(node_id id) { return applied_[id]; }
  const std::vector<read_state>& reads(node_id id) { return reads_[id]; }

  /// Delivers messages and processes Readies until nothing is left (bounded).
  void stabilize() {
    for (int round = 0; round < 1000; ++round) {
      bool busy = false;
      for (auto id : ids_)
        busy |= process(id);
      if (!network_.empty()) {
        busy = true;
        auto batch = std::move(network_);
        network_.clear();
        for (auto& m : batch)
          if (nodes_.count(m.to) && !cut_.count({m.from, m.to}))
            nodes_[m.to]->step(m);
      }
      if (!busy)
        return;
    }
  }

  void tick(node_id id, int n = 1) {
    for (int i = 0; i < n; ++i) {
      node(id).tick();
      stabilize();
    }
  }

  void tick_all(int n = 1) {
    for (int i = 0; i < n; ++i) {
      for (auto id : ids_)
        if (nodes_.count(id))
          node(id).tick();
      stabilize();
    }
  }

  /// Cuts every link between `a` and the others.
  void isolate(node_id a) {
    for (auto b : ids_)
      if (b != a) {
        cut_.insert({a, b});
        cut_.insert({b, a});
      }
  }

  void heal() { cut_.clear(); }

  /// Stops a node (its unsent messages are lost) and starts it again from its storage.
  void restart(node_id id) {
    nodes_.erase(id);
    start(id);
  }

  void stop(node_id id) { nodes_.erase(id); }

  void start(node_id id) {
    config cfg;
    cfg.id = id;
    cfg.voters = ids_;
    cfg.election_ticks = election_ticks_;
    cfg.heartbeat_ticks = heartbeat_ticks_;
    cfg.seed = id;
    auto& s = storage_[id];
    nodes_[id] = std::make_unique<raft>(cfg, restored_state{s.hard, s.snap, s.entries});
  }

  /// Snapshots node `id` at what it applied and compacts its log.
  void compact(node_id id) {
    auto idx = applied_[id].empty() ? 0 : applied_[id].back().index;
    auto t = node(id).log().term_at(idx);
    node(id).compact(idx, "snapshot-at-" + std::to_string(idx));
    auto& s = storage_[id];
    s.snap = snapshot{{idx, t.value_or(0)}, "snapshot-at-" + std::to_string(idx)};
    std::vector<entry> rest;
    for (auto& e : s.entries)
      if (e.index > idx)
        rest.push_back(e);
    s.entries = rest;
  }

  node_id leader() {
    for (auto& [id, n] : nodes_)
      if (n->current_role() == role::leader && !isolated(id))
        return id;
    return no_node;
  }

  std::optional<snapshot> installed_snapshot(node_id id) { return installed_[id]; }

private:
  bool isolated(node_id id) {
    for (auto b : ids_)
      if (b != id && !cut_.count({id, b}))
        return false;
    return ids_.size() > 1;
  }

  bool process(node_id id) {
    if (!nodes_.count(id) || !nodes_[id]->has_ready())
      return false;
    auto rd = nodes_[id]->take_ready();
    auto& s = storage_[id];
    if (rd.snap) {
      s.snap = rd.snap;
      s.entries.clear();
      installed_[id] = rd.snap;
    }
    if (!rd.entries.empty()) {
      auto first = rd.entries.front().index;
      while (!s.entries.empty() && s.entries.back().index >= first)
        s.entries.pop_back();
      s.entries.insert(s.entries.end(), rd.entries.begin(), rd.entries.end());
    }
    if (rd.hard)
      s.hard = *rd.hard;
    for (auto& m : rd.messages)
      network_.push_back(m);
    for (auto& e : rd.committed)
      applied_[id].push_back(e);
    for (auto& r : rd.reads)
      reads_[id].push_back(r);
    return true;
  }

  int election_ticks_;
  int heartbeat_ticks_;
  std::vector<node_id> ids_;
  std::map<node_id, std::unique_ptr<raft>> nodes_;
  std::map<node_id, stored> storage_;
  std::map<node_id, std::vector<entry>> applied_;
  std::map<node_id, std::vector<read_state>> reads_;
  std::map<node_id, std::optional<snapshot>> installed_;
  std::deque<message> network_;
  std::set<std::pair<node_id, node_id>> cut_;
};

/// Returns the data of the normal entries in `es`, in order.
inline std::vector<std::string> commands(const std::vector<entry>& es) {
  std::vector<std::string> out;
  for (auto& e : es)
    if (e.type == entry_type::normal)
      out.push_back(e.data);
  return out;
}

} // namespace troupe::raft::testing
