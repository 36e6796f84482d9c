#include "tests/sim/raft_sim.hpp"

#include "tests/sim/sim_util.hpp"

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <deque>
#include <sstream>

namespace troupe::sim {

namespace r = troupe::raft;

std::string format_options(const sim_options& o) {
  std::ostringstream s;
  s << "seed=" << o.seed << " nodes=" << o.nodes << " steps=" << o.steps
    << " clients=" << o.clients << " keys=" << o.keys << " drop=" << o.drop
    << " duplicate=" << o.duplicate << " max_delay=" << o.max_delay << " crash=" << o.crash
    << " lose_unsynced=" << o.lose_unsynced << " restart=" << o.restart
    << " partition=" << o.partition << " heal=" << o.heal << " flapping=" << o.flapping
    << " skew=" << o.skew << " snapshot_every=" << o.snapshot_every
    << " transfers=" << o.transfers;
  return s.str();
}

sim_options parse_options(const std::vector<std::string>& args, sim_options o) {
  for_each_option(args, [&o](const std::string& k, const std::string& v) {
    if (k == "seed") o.seed = std::stoull(v);
    else if (k == "nodes") o.nodes = std::stoi(v);
    else if (k == "steps") o.steps = std::stoi(v);
    else if (k == "clients") o.clients = std::stoi(v);
    else if (k == "keys") o.keys = std::stoi(v);
    else if (k == "drop") o.drop = std::stod(v);
    else if (k == "duplicate") o.duplicate = std::stod(v);
    else if (k == "max_delay") o.max_delay = std::stoi(v);
    else if (k == "crash") o.crash = std::stod(v);
    else if (k == "lose_unsynced") o.lose_unsynced = std::stod(v);
    else if (k == "restart") o.restart = std::stod(v);
    else if (k == "partition") o.partition = std::stod(v);
    else if (k == "heal") o.heal = std::stod(v);
    else if (k == "flapping") o.flapping = v == "1" || v == "true";
    else if (k == "skew") o.skew = std::stod(v);
    else if (k == "snapshot_every") o.snapshot_every = std::stoi(v);
    else if (k == "transfers") o.transfers = v == "1" || v == "true";
  });
  return o;
}

namespace {

constexpr char sep = '\x1f';

std::vector<std::string> split(const std::string& s, char c) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    auto p = s.find(c, start);
    out.push_back(s.substr(start, p == std::string::npos ? std::string::npos : p - start));
    if (p == std::string::npos)
      return out;
    start = p + 1;
  }
}

/// The replicated KV state machine the simulated clients use.
struct kv_machine {
  std::map<std::string, std::string> data;

  struct outcome {
    bool ok = true;
  };

  outcome apply(const std::string& cmd) {
    auto f = split(cmd, sep);
    if (f[0] == "W") {
      data[f[3]] = f[4];
      return {true};
    }
    auto i = data.find(f[3]);
    if (i != data.end() && i->second == f[4]) {
      i->second = f[5];
      return {true};
    }
    return {false};
  }

  std::string serialize() const {
    std::string out;
    for (auto& [k, v] : data)
      out += k + sep + v + '\x1e';
    return out;
  }

  static kv_machine parse(const std::string& s) {
    kv_machine m;
    for (auto& rec : split(s, '\x1e')) {
      if (rec.empty())
        continue;
      auto f = split(rec, sep);
      m.data[f[0]] = f[1];
    }
    return m;
  }
};

struct disk_t {
  r::hard_state hard;
  std::optional<r::snapshot> snap;
  std::vector<r::entry> entries;

  r::index_t boundary() const { return snap ? snap->meta.index : 0; }

  std::optional<r::term_t> term_at(r::index_t i) const {
    if (i == boundary())
      return snap ? snap->meta.term : 0;
    if (i < boundary() || i > boundary() + entries.size())
      return std::nullopt;
    return entries[i - boundary() - 1].term;
  }

  void append(const std::vector<r::entry>& es) {
    if (es.empty())
      return;
    auto first = es.front().index;
    if (first <= boundary())
      return; // cannot happen: entries always follow the snapshot
    entries.resize(std::min<size_t>(entries.size(), first - boundary() - 1));
    entries.insert(entries.end(), es.begin(), es.end());
  }

  void install(const r::snapshot& s) {
    // Keep entries after the snapshot only if they continue it (they never do for installs).
    snap = s;
    entries.clear();
  }

  void compact(const r::snapshot& s) {
    auto drop = std::min<size_t>(entries.size(), s.meta.index - boundary());
    entries.erase(entries.begin(), entries.begin() + static_cast<long>(drop));
    snap = s;
  }
};

struct sim_node {
  r::node_id id = 0;
  bool up = true;
  disk_t disk;
  std::unique_ptr<r::raft> raft;
  kv_machine sm;
  r::index_t applied = 0;
  r::index_t last_commit = 0;
  double tick_rate = 1.0;
  double tick_acc = 0;
  // Driven as actors/raft/raft_actor.cpp drives its replica: ticks are owed while
  // quiet_ticks() says they cannot act, and made before anything else reaches the replica.
  bool lazy = false;
  int owed = 0;
  std::map<r::index_t, std::pair<r::term_t, size_t>> proposals;  // index -> (term, op)
  std::map<uint64_t, size_t> reads_waiting;                      // read context -> op
  std::vector<r::read_state> reads_ready;
  std::string traced_role;
};

enum class op_status : uint8_t { pending, done, unknown, excluded };

struct tracked_op {
  kv_op op;
  op_status status = op_status::pending;
  int client = 0;
};

struct client_t {
  int id = 0;
  std::optional<size_t> current;
  r::node_id target = 0;
  uint64_t deadline = 0;
  int counter = 0;
};

struct in_flight {
  uint64_t at = 0;
  uint64_t seq = 0;
  r::message m;
};

class simulation {
public:
  explicit simulation(const sim_options& o) : o_(o), rng_(o.seed) {
    for (int i = 1; i <= o.nodes; ++i)
      voters_.push_back(static_cast<r::node_id>(i));
    for (auto id : voters_) {
      sim_node n;
      n.id = id;
      n.tick_rate = 1.0 + o.skew * (uniform() * 2 - 1);
      n.lazy = chance(0.5);
      nodes_[id] = std::move(n);
      boot(nodes_[id]);
    }
    for (int c = 0; c < o.clients; ++c)
      clients_.push_back(client_t{c, std::nullopt, voters_[0], 0, 0});
  }

  sim_report run() {
    for (now_ = 1; now_ <= static_cast<uint64_t>(o_.steps) && report_.ok; ++now_) {
      calm_ = now_ > static_cast<uint64_t>(o_.steps) * 3 / 4; // the last quarter: no faults
      if (!calm_)
        faults();
      else
        heal_all();
      deliver();
      ticks();
      clients();
      for (auto id : voters_)
        process(nodes_[id]);
      check_leaders();
    }
    if (report_.ok)
      check_progress();
    finish_history();
    if (report_.ok) {
      report_.linearizability = check_linearizable(history_);
      if (!report_.linearizability.ok) {
        report_.ok = false;
        report_.violation = "history of key " + report_.linearizability.key
                            + " is not linearizable";
      }
    }
    report_.committed = applied_log_.empty() ? 0 : applied_log_.rbegin()->first;
    report_.leaders = leaders_.size();
    return report_;
  }

private:
  double uniform() { return std::uniform_real_distribution<double>{0, 1}(rng_); }
  bool chance(double p) { return uniform() < p; }
  template <class T>
  T pick(const std::vector<T>& v) {
    return v[rng_() % v.size()];
  }

  void fail(const std::string& what) {
    if (!report_.ok)
      return;
    report_.ok = false;
    std::ostringstream s;
    s << "step " << now_ << ": " << what;
    report_.violation = s.str();
  }

  // -- nodes ------------------------------------------------------------------------------------

  void boot(sim_node& n) {
    r::config cfg;
    cfg.id = n.id;
    cfg.voters = voters_;
    cfg.election_ticks = 10;
    cfg.heartbeat_ticks = 2;
    cfg.max_msg_entries = 8;
    cfg.max_inflight = 4;
    cfg.seed = o_.seed * 1000 + boots_++;
    r::restored_state st;
    st.hard = n.disk.hard;
    st.snap = n.disk.snap;
    st.entries = n.disk.entries;
    n.raft = std::make_unique<r::raft>(cfg, st);
    n.sm = n.disk.snap ? kv_machine::parse(n.disk.snap->data) : kv_machine{};
    n.applied = n.disk.boundary();
    n.last_commit = n.raft->commit_index();
    n.owed = 0;
    n.up = true;
  }

  /// The replica of `n`, with the ticks it is owed made first.
  r::raft& live(sim_node& n) {
    if (n.owed > 0)
      catch_up(n);
    return *n.raft;
  }

  /// Makes the ticks `n` is owed; those that quiet_ticks() promised to be quiet must not act.
  void catch_up(sim_node& n) {
    auto& rf = *n.raft;
    int quiet = rf.quiet_ticks();
    bool had_ready = rf.has_ready();
    auto role = rf.current_role();
    auto term = rf.term();
    for (int i = 0; i < n.owed; ++i) {
      rf.tick();
      if (i < quiet && ((!had_ready && rf.has_ready()) || rf.current_role() != role
                        || rf.term() != term)) {
        fail("node " + std::to_string(n.id) + ": tick " + std::to_string(i + 1)
             + " acted though quiet_ticks() was " + std::to_string(quiet));
        break;
      }
    }
    n.owed = 0;
  }

  void crash(sim_node& n) {
    n.up = false;
    n.raft.reset();
    for (auto& [idx, p] : n.proposals)
      mark_unknown(p.second);
    n.proposals.clear();
    for (auto& [ctx, op] : n.reads_waiting)
      exclude(op);
    n.reads_waiting.clear();
    n.reads_ready.clear();
  }

  void process(sim_node& n) {
    for (int round = 0; round < 100 && n.up && n.raft->has_ready(); ++round) {
      auto rd = n.raft->take_ready();
      // 0. As the real driver (actors/raft/raft_actor.cpp, process_ready): a leader's appends,
      // heartbeats, snapshots and timeout_now leave before its own sync, the rest after it.
      std::vector<r::message> after_sync;
      for (auto& m : rd.messages)
        if (r::sent_before_sync(m.type))
          send(m);
        else
          after_sync.push_back(std::move(m));
      if (!calm_ && o_.crash > 0 && chance(o_.crash * o_.lose_unsynced)) {
        // Crash before the Ready was synced: a torn write keeps a prefix of the batch
        // [snapshot, entries..., hard state]; what a leader sends first has left (its
        // followers may hold entries it lost), nothing else was sent or applied.
        size_t records = (rd.snap ? 1 : 0) + rd.entries.size() + (rd.hard ? 1 : 0);
        size_t keep = records == 0 ? 0 : rng_() % (records + 1);
        size_t k = 0;
        if (rd.snap && k++ < keep)
          n.disk.install(*rd.snap);
        std::vector<r::entry> prefix;
        for (auto& e : rd.entries)
          if (k++ < keep)
            prefix.push_back(e);
        n.disk.append(prefix);
        if (rd.hard && k++ < keep)
          n.disk.hard = *rd.hard;
        crash(n);
        return;
      }
      // 1. persist
      if (rd.snap)
        n.disk.install(*rd.snap);
      n.disk.append(rd.entries);
      if (rd.hard)
        n.disk.hard = *rd.hard;
      check_log_matching(n, rd.entries);
      // 2. send what needed the sync: votes, acknowledgements
      for (auto& m : after_sync)
        send(m);
      // 3. apply
      if (rd.snap) {
        n.sm = kv_machine::parse(rd.snap->data);
        n.applied = rd.snap->meta.index;
        for (auto it = n.proposals.begin(); it != n.proposals.end() && it->first <= n.applied;) {
          mark_unknown(it->second.second);
          it = n.proposals.erase(it);
        }
      }
      for (auto& e : rd.committed)
        apply(n, e);
      for (auto& rs : rd.reads)
        n.reads_ready.push_back(rs);
      serve_reads(n);
      maybe_snapshot(n);
      auto c = n.raft->commit_index();
      if (c < n.last_commit)
        fail("node " + std::to_string(n.id) + " commit index went back from "
             + std::to_string(n.last_commit) + " to " + std::to_string(c));
      n.last_commit = c;
    }
  }

  void apply(sim_node& n, const r::entry& e) {
    if (e.index != n.applied + 1) {
      fail("node " + std::to_string(n.id) + " applied index " + std::to_string(e.index)
           + " after " + std::to_string(n.applied));
      return;
    }
    // State machine safety: every node applies the same entry at an index.
    auto [it, fresh] = applied_log_.emplace(e.index, std::make_pair(e.term, e.data));
    if (!fresh && (it->second.first != e.term || it->second.second != e.data))
      fail("nodes applied different entries at index " + std::to_string(e.index) + " (terms "
           + std::to_string(it->second.first) + " and " + std::to_string(e.term) + ")");
    n.applied = e.index;
    kv_machine::outcome out;
    if (e.type == r::entry_type::normal)
      out = n.sm.apply(e.data);
    auto p = n.proposals.find(e.index);
    if (p != n.proposals.end()) {
      auto op = p->second.second;
      if (p->second.first == e.term) {
        ops_[op].op.ok = out.ok;
        complete(op);
      } else {
        exclude(op); // another entry took the index: this proposal can never commit
      }
      n.proposals.erase(p);
    }
  }

  void serve_reads(sim_node& n) {
    auto it = n.reads_ready.begin();
    while (it != n.reads_ready.end()) {
      if (it->index > n.applied) {
        ++it;
        continue;
      }
      auto w = n.reads_waiting.find(it->context);
      if (w != n.reads_waiting.end()) {
        auto& op = ops_[w->second].op;
        auto v = n.sm.data.find(op.key);
        op.result = v == n.sm.data.end() ? std::nullopt : std::optional<std::string>{v->second};
        complete(w->second);
        n.reads_waiting.erase(w);
      }
      it = n.reads_ready.erase(it);
    }
  }

  void maybe_snapshot(sim_node& n) {
    if (o_.snapshot_every <= 0 || n.applied < n.disk.boundary() + static_cast<size_t>(o_.snapshot_every))
      return;
    auto t = n.raft->log().term_at(n.applied);
    if (!t)
      return;
    auto data = n.sm.serialize();
    n.raft->compact(n.applied, data);
    n.disk.compact(r::snapshot{{n.applied, *t}, data});
  }

  // -- invariants -------------------------------------------------------------------------------

  void check_log_matching(const sim_node& n, const std::vector<r::entry>& es) {
    for (auto& e : es) {
      auto prev = n.disk.term_at(e.index - 1);
      auto key = std::make_pair(e.index, e.term);
      auto value = std::make_pair(e.data, prev.value_or(~0ULL));
      auto [it, fresh] = entries_seen_.emplace(key, value);
      if (!fresh && it->second.first != value.first)
        fail("log matching: two entries with index " + std::to_string(e.index) + " and term "
             + std::to_string(e.term) + " differ");
      if (!fresh && prev && it->second.second != ~0ULL && it->second.second != *prev)
        fail("log matching: entry " + std::to_string(e.index) + "/" + std::to_string(e.term)
             + " follows different terms on different nodes");
    }
  }

  void check_leaders() {
    for (auto id : voters_) {
      auto& n = nodes_[id];
      if (trace_) {
        auto now_role = n.up ? std::string{r::to_string(n.raft->current_role())} + " t"
                                 + std::to_string(n.raft->term())
                             : std::string{"down"};
        if (now_role != n.traced_role) {
          std::cerr << "[sim " << now_ << "] node " << id << ": " << n.traced_role << " -> "
                    << now_role << "\n";
          n.traced_role = now_role;
        }
      }
      if (!n.up || n.raft->current_role() != r::role::leader)
        continue;
      last_leader_step_ = now_;
      auto t = n.raft->term();
      auto [it, fresh] = leaders_.emplace(t, id);
      if (!fresh && it->second != id)
        fail("election safety: nodes " + std::to_string(it->second) + " and "
             + std::to_string(id) + " both lead term " + std::to_string(t));
      if (!fresh)
        continue;
      // Leader completeness: a new leader holds every entry committed so far.
      auto& log = n.raft->log();
      for (auto& [idx, te] : applied_log_) {
        if (idx <= log.snapshot_boundary().index)
          continue;
        auto lt = log.term_at(idx);
        if (!lt || *lt != te.first) {
          fail("leader completeness: node " + std::to_string(id) + ", leader of term "
               + std::to_string(t) + ", lacks committed entry " + std::to_string(idx));
          break;
        }
      }
    }
  }

  void check_progress() {
    // The last quarter of the run is calm: every node up, no partitions. A leader must exist
    // and the cluster must have committed something in that time (liveness, not just safety).
    if (now_ - last_leader_step_ > 100)
      fail("liveness: no leader in the last " + std::to_string(now_ - last_leader_step_)
           + " calm steps;" + describe_nodes());
    if (ops_done_in_calm_ == 0)
      fail("liveness: no client operation completed during the calm period;" + describe_nodes());
  }

  std::string describe_nodes() {
    std::ostringstream s;
    for (auto id : voters_) {
      auto& n = nodes_[id];
      s << "\n    node " << id << ": ";
      if (!n.up) {
        s << "down";
        continue;
      }
      auto& rf = *n.raft;
      s << r::to_string(rf.current_role()) << " term " << rf.term() << " leader "
        << rf.leader() << " commit " << rf.commit_index() << " last " << rf.last_index()
        << "/" << rf.log().last_term() << " applied " << n.applied << " tick rate "
        << n.tick_rate;
    }
    s << "\n    in flight: " << network_.size() << ", blocked links: " << blocked_.size();
    return s.str();
  }

  // -- network ----------------------------------------------------------------------------------

  void send(const r::message& m) {
    if (chance(o_.drop))
      return;
    auto copies = chance(o_.duplicate) ? 2 : 1;
    for (int i = 0; i < copies; ++i) {
      auto delay = 1 + rng_() % static_cast<uint64_t>(std::max(1, o_.max_delay));
      network_.push_back({now_ + delay, seq_++, m});
    }
  }

  void deliver() {
    auto due = take_due(network_, static_cast<int64_t>(now_));
    std::shuffle(due.begin(), due.end(), rng_);
    for (auto& f : due) {
      auto& n = nodes_[f.m.to];
      if (!n.up || blocked_.count({f.m.from, f.m.to}))
        continue;
      live(n).step(f.m);
    }
  }

  void ticks() {
    for (auto id : voters_) {
      auto& n = nodes_[id];
      if (!n.up)
        continue;
      n.tick_acc += n.tick_rate;
      while (n.tick_acc >= 1.0) {
        n.tick_acc -= 1.0;
        if (!n.lazy) {
          n.raft->tick();
        } else if (++n.owed > n.raft->quiet_ticks()) {
          catch_up(n); // this tick may act: make it now, as the actor's timer would
        }
      }
    }
  }

  // -- faults -----------------------------------------------------------------------------------

  void faults() {
    for (auto id : voters_) {
      auto& n = nodes_[id];
      if (n.up && chance(o_.crash))
        crash(n);
      else if (!n.up && chance(o_.restart))
        boot(n);
    }
    if (o_.flapping && now_ % 7 == 0) {
      if (blocked_.empty())
        partition();
      else
        blocked_.clear();
      return;
    }
    if (!blocked_.empty() && chance(o_.heal))
      blocked_.clear();
    else if (blocked_.empty() && chance(o_.partition))
      partition();
    if (o_.transfers && chance(0.003))
      for (auto id : voters_)
        if (nodes_[id].up && nodes_[id].raft->current_role() == r::role::leader)
          live(nodes_[id]).transfer_leadership(pick(voters_));
  }

  void partition() {
    auto kind = rng_() % 3;
    if (kind == 0) { // symmetric split into two sides
      std::vector<r::node_id> shuffled = voters_;
      std::shuffle(shuffled.begin(), shuffled.end(), rng_);
      auto cut = 1 + rng_() % (shuffled.size() - 1);
      for (size_t i = 0; i < cut; ++i)
        for (size_t j = cut; j < shuffled.size(); ++j) {
          blocked_.insert({shuffled[i], shuffled[j]});
          blocked_.insert({shuffled[j], shuffled[i]});
        }
    } else if (kind == 1) { // asymmetric: some links lose one direction only
      for (int k = 0; k < o_.nodes; ++k) {
        auto a = pick(voters_);
        auto b = pick(voters_);
        if (a != b)
          blocked_.insert({a, b});
      }
    } else { // one node cut off (often the leader)
      r::node_id victim = pick(voters_);
      for (auto id : voters_)
        if (nodes_[id].up && nodes_[id].raft->current_role() == r::role::leader && chance(0.7))
          victim = id;
      for (auto id : voters_)
        if (id != victim) {
          blocked_.insert({victim, id});
          blocked_.insert({id, victim});
        }
    }
  }

  void heal_all() {
    blocked_.clear();
    for (auto id : voters_)
      if (!nodes_[id].up)
        boot(nodes_[id]);
  }

  // -- clients ----------------------------------------------------------------------------------

  void clients() {
    for (auto& c : clients_) {
      if (c.current) {
        auto& t = ops_[*c.current];
        if (t.status != op_status::pending) {
          c.current.reset();
        } else if (now_ > c.deadline) {
          give_up(*c.current);
          c.current.reset();
        }
        continue;
      }
      if (!chance(0.3))
        continue;
      issue(c);
    }
  }

  void issue(client_t& c) {
    auto& n = nodes_[c.target];
    if (!n.up) {
      c.target = pick(voters_);
      return;
    }
    tracked_op t;
    t.client = c.id;
    t.op.key = "k" + std::to_string(rng_() % static_cast<uint64_t>(std::max(1, o_.keys)));
    t.op.call = now_;
    auto roll = rng_() % 10;
    auto op_id = std::to_string(c.id) + "-" + std::to_string(++c.counter);
    if (roll < 4) {
      t.op.kind = kv_op::write;
      t.op.value = "v" + op_id;
    } else if (roll < 8) {
      t.op.kind = kv_op::read;
    } else {
      t.op.kind = kv_op::cas;
      t.op.value = "v" + op_id;
      auto& seen = written_[t.op.key];
      t.op.expected = seen.empty() ? "none" : pick(seen);
    }
    auto idx = ops_.size();
    if (t.op.kind == kv_op::read) {
      auto ctx = ++read_ctx_;
      if (live(n).read_index(ctx) != r::errc::none) {
        retarget(c, n);
        return;
      }
      ops_.push_back(t);
      n.reads_waiting[ctx] = idx;
    } else {
      std::string cmd = t.op.kind == kv_op::write
                          ? std::string{"W"} + sep + std::to_string(c.id) + sep + op_id + sep
                              + t.op.key + sep + t.op.value
                          : std::string{"C"} + sep + std::to_string(c.id) + sep + op_id + sep
                              + t.op.key + sep + t.op.expected + sep + t.op.value;
      auto res = live(n).propose(cmd);
      if (res.error != r::errc::none) {
        retarget(c, n);
        return;
      }
      ops_.push_back(t);
      n.proposals[res.index] = {res.term, idx};
      written_[t.op.key].push_back(t.op.value);
    }
    c.current = idx;
    c.deadline = now_ + static_cast<uint64_t>(o_.client_timeout);
  }

  void retarget(client_t& c, const sim_node& n) {
    auto hint = n.raft->leader();
    c.target = hint != r::no_node && chance(0.8) ? hint : pick(voters_);
  }

  void complete(size_t op) {
    auto& t = ops_[op];
    if (t.status != op_status::pending)
      return;
    t.status = op_status::done;
    t.op.ret = now_;
    ++report_.ops_ok;
    if (now_ > static_cast<uint64_t>(o_.steps) * 3 / 4)
      ++ops_done_in_calm_;
  }

  void mark_unknown(size_t op) {
    auto& t = ops_[op];
    if (t.status == op_status::pending)
      t.status = op_status::unknown;
  }

  void exclude(size_t op) {
    auto& t = ops_[op];
    if (t.status == op_status::pending)
      t.status = op_status::excluded;
  }

  void give_up(size_t op) {
    // The client stops waiting: a write may still take effect, a read says nothing.
    auto& t = ops_[op];
    for (auto& [id, n] : nodes_) {
      for (auto it = n.proposals.begin(); it != n.proposals.end();)
        it = it->second.second == op ? n.proposals.erase(it) : std::next(it);
      for (auto it = n.reads_waiting.begin(); it != n.reads_waiting.end();)
        it = it->second == op ? n.reads_waiting.erase(it) : std::next(it);
    }
    if (t.op.kind == kv_op::read)
      exclude(op);
    else
      mark_unknown(op);
  }

  void finish_history() {
    for (size_t i = 0; i < ops_.size(); ++i) {
      auto& t = ops_[i];
      if (t.status == op_status::pending)
        t.status = t.op.kind == kv_op::read ? op_status::excluded : op_status::unknown;
      if (t.status == op_status::done) {
        history_.push_back(t.op);
      } else if (t.status == op_status::unknown) {
        auto op = t.op;
        op.ret = std::numeric_limits<uint64_t>::max();
        history_.push_back(op);
        ++report_.ops_unknown;
      }
    }
  }

  sim_options o_;
  std::mt19937_64 rng_;
  uint64_t now_ = 0;
  uint64_t seq_ = 0;
  uint64_t boots_ = 0;
  uint64_t read_ctx_ = 0;
  size_t ops_done_in_calm_ = 0;
  bool calm_ = false;
  uint64_t last_leader_step_ = 0;
  std::vector<r::node_id> voters_;
  std::map<r::node_id, sim_node> nodes_;
  std::vector<client_t> clients_;
  std::vector<tracked_op> ops_;
  std::map<std::string, std::vector<std::string>> written_;
  std::deque<in_flight> network_;
  std::set<std::pair<r::node_id, r::node_id>> blocked_;
  std::map<r::index_t, std::pair<r::term_t, std::string>> applied_log_;
  std::map<std::pair<r::index_t, r::term_t>, std::pair<std::string, r::term_t>> entries_seen_;
  std::map<r::term_t, r::node_id> leaders_;
  std::vector<kv_op> history_;
  sim_report report_;
  bool trace_ = std::getenv("TROUPE_SIM_TRACE") != nullptr;
};

} // namespace

sim_report run_simulation(const sim_options& opts) {
  simulation s{opts};
  return s.run();
}

} // namespace troupe::sim
