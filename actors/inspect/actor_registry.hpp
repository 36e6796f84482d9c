// The actors of one node that an operator can see: the node's own services (kind "system"),
// deployment instances (supervised by the vnode host) and actors spawned from the console
// (supervised by the node's user supervisor). Every entry has an id unique on its node, shown
// as "<node>/<n>", which stays the same when its supervisor restarts it.
//
// Entries change when actors start, stop and restart: rarely, under a mutex. The message path
// never takes it: it only bumps the entry's actor_stats.
#pragma once

#include "actors/api/actor_stats.hpp"

#include <caf/actor.hpp>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace troupe {

/// One actor as an operator sees it, copied out of the registry.
struct actor_row {
  uint64_t seq = 0;            // the id within its node
  std::string name;            // unique on the node ("" for none)
  std::string type;            // registered actor type, or the service's name
  std::string kind;            // "supervisor", "service", "vnode", "instance" or "user"
  std::string supervisor;      // the name of the entry that restarts it ("" for none)
  std::string strategy;        // a supervisor's: "one-for-all, 3 in 5s"
  std::string state;           // running, restarting, failed
  std::string last_exit;       // why its last incarnation ended ("" when it never did)
  uint32_t restarts = 0;
  uint64_t handled = 0;        // messages handled, over every incarnation
  uint64_t mailbox = 0;        // messages waiting in the current incarnation's mailbox
  bool counted = false;        // system services keep no counters
  int64_t started_ms = 0;      // wall clock of the current incarnation's start
  caf::actor handle;           // the current incarnation (invalid while restarting)
};

class actor_registry {
public:
  explicit actor_registry(std::string node) : node_(std::move(node)) {}

  const std::string& node() const { return node_; }

  /// Adds an entry and returns its id within the node; 0 when `row.name` is taken.
  uint64_t add(actor_row row, std::shared_ptr<actor_stats> stats);

  /// A new incarnation of entry `seq`: its restart count goes up, its counters carry on.
  void restarted(uint64_t seq, caf::actor handle, std::shared_ptr<actor_stats> stats,
                 int64_t started_ms);

  /// Records how the current incarnation ended and the entry's new state.
  void exited(uint64_t seq, const std::string& why, const std::string& state);

  void remove(uint64_t seq);

  /// Looks up an id ("<node>/<n>" or "<n>") or a name.
  std::optional<actor_row> find(const std::string& id_or_name) const;

  /// Entries [offset, offset + limit) in id order; `total` gets the count of all.
  std::vector<actor_row> page(uint64_t offset, uint64_t limit, uint64_t& total) const;

  /// Every entry (for the tree, and the per-type metrics).
  std::vector<actor_row> all() const;

  /// Restarts (of any entry) at or after wall-clock time `since_ms`.
  size_t restarts_since(int64_t since_ms) const;

  /// "<node>/<seq>".
  std::string id_of(uint64_t seq) const { return node_ + "/" + std::to_string(seq); }

private:
  // An entry as stored: a node may host hundreds of thousands of actors, whose type, kind,
  // supervisor and state are a handful of distinct strings (kept once, in interned_), and
  // whose strategy and last exit are mostly empty. 192 bytes an entry instead of 384.
  struct entry {
    std::string name;
    const std::string* type = nullptr;
    const std::string* kind = nullptr;
    const std::string* supervisor = nullptr;
    const std::string* state = nullptr;
    std::unique_ptr<std::string> strategy;   // null: none
    std::unique_ptr<std::string> last_exit;  // null: it never exited
    uint32_t restarts = 0;
    int64_t started_ms = 0;
    caf::actor handle;
    std::shared_ptr<actor_stats> stats;
    uint64_t handled_before = 0;  // by earlier incarnations
  };

  const std::string* intern(const std::string& s);
  static std::unique_ptr<std::string> rare(const std::string& s);
  actor_row snapshot(uint64_t seq, const entry& e) const;
  std::optional<uint64_t> parse_id(const std::string& text) const;

  std::string node_;
  mutable std::mutex mtx_;
  std::set<std::string> interned_;
  std::map<uint64_t, entry> entries_;
  std::unordered_map<std::string, uint64_t> names_;
  std::deque<int64_t> restart_times_;  // the last 1,000 restarts, for the node's health
  uint64_t next_ = 1;
};

} // namespace troupe
