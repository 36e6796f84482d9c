#include "tests/sim/ownership_sim.hpp"
#include "tests/sim/sim_util.hpp"

#include "protocols/ownership/lease.hpp"
#include "protocols/ownership/vnode_owner.hpp"
#include "protocols/placement/placement.hpp"

#include <deque>
#include <functional>
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <queue>
#include <random>
#include <set>
#include <sstream>

namespace troupe::sim {

namespace {

namespace own = troupe::ownership;
using us = int64_t;  // real time, microseconds

constexpr us msec(int64_t x) {
  return x * 1000;
}

constexpr us heartbeat_every = msec(100);
constexpr us failure_timeout = msec(600);
constexpr us lease_length = failure_timeout * 2 / 3;
constexpr us core_tick_every = msec(20);
constexpr us leader_tick_every = msec(10);
constexpr int authority = 0;  // node ids: 0 the authority, 1..n workers, n+1 the client

time_point tp(us x) {
  return time_point{std::chrono::duration_cast<duration>(std::chrono::microseconds(x))};
}

us as_us(duration d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}

/// A node's clock: its reading at real time t, and how much real time a local span takes.
struct clock_model {
  double rate = 1.0;
  us offset = 0;
  us local(us real) const { return offset + static_cast<us>(static_cast<double>(real) * rate); }
  us real_span(us local_span) const {
    return static_cast<us>(static_cast<double>(local_span) / rate) + 1;
  }
};

enum class kind : uint8_t {
  heartbeat, ack, join, joined, view, state, no_state, request, event, event_ack, event_nack
};

struct vnode_entry {
  std::string owner;
  uint64_t epoch = 0;
  std::string from;
  bool handoff = false;
};

struct view_msg {
  uint64_t version = 0;  // the authority's index when it was pushed
  std::vector<vnode_entry> map;
  std::set<std::string> gone;  // workers down in this view
};

struct msg {
  kind k = kind::heartbeat;
  int from = 0;
  int to = 0;
  uint64_t a = 0;   // incarnation, seq, epoch, event id
  uint64_t b = 0;   // vnode
  us local = 0;     // a send time on the sender's clock
  bool flag = false;
  std::string who;  // requester
  std::shared_ptr<const view_msg> view;
};

struct member {
  bool up = false;
  uint64_t incarnation = 0;
  us last_heard = 0;  // authority clock
};

struct worker {
  std::string name;
  clock_model clk;
  bool alive = true;
  bool paused = false;
  uint64_t life = 0;  // bumped by a crash: timers of an earlier life do nothing
  bool joined = false;
  uint64_t incarnation = 0;
  us lease_until = -1;  // local clock
  us join_sent = 0;
  uint64_t hb_seq = 0;
  std::vector<own::vnode_owner> cores;
  std::vector<std::deque<uint64_t>> buffered;  // event ids waiting per vnode
  std::deque<msg> inbox;                        // what came while paused
  bool timers_due = false;                      // a timer fired while paused
};

class world {
public:
  explicit world(const ownership_options& o) : o_(o), rng_(o.seed) {
    trace_ = std::getenv("TROUPE_SIM_TRACE") != nullptr;
    auto rate = [&] {
      // Half the clocks sit at the extremes: the margin must hold there.
      std::uniform_int_distribution<int> pick{0, 3};
      switch (pick(rng_)) {
        case 0:
          return 1.0 - o.drift;
        case 1:
          return 1.0 + o.drift;
        default:
          return std::uniform_real_distribution<double>{1.0 - o.drift, 1.0 + o.drift}(rng_);
      }
    };
    leader_clk_.rate = rate();
    leader_clk_.offset = std::uniform_int_distribution<us>{0, msec(100000)}(rng_);
    map_.resize(static_cast<size_t>(o.vnodes));
    members_.resize(static_cast<size_t>(o.workers) + 1);
    for (int w = 1; w <= o.workers; ++w) {
      worker x;
      x.name = "w" + std::to_string(w);
      x.clk.rate = rate();
      x.clk.offset = std::uniform_int_distribution<us>{0, msec(100000)}(rng_);
      workers_.push_back(std::move(x));
      reset_cores(w);
      schedule_worker_timers(w);
    }
    cut_.assign(static_cast<size_t>(o.workers) + 2,
                std::vector<bool>(static_cast<size_t>(o.workers) + 2, false));
    at(0, [this] { leader_tick(); });
    at(0, [this] { fault_tick(); });
    at(0, [this] { client_tick(); });
  }

  ownership_report run() {
    end_ = msec(1000) * (o_.fault_seconds + o_.calm_seconds);
    calm_at_ = msec(1000) * o_.fault_seconds;
    while (!queue_.empty() && rep_.ok) {
      auto [t, seq, fn] = queue_.top();
      queue_.pop();
      if (t > end_)
        break;
      now_ = t;
      if (!calm_started_ && now_ >= calm_at_)
        start_calm();
      fn();
      check_one_owner();
    }
    if (rep_.ok)
      check_settled();
    return rep_;
  }

private:
  // -- scheduling and the network ---------------------------------------------------------------

  struct item {
    us t;
    uint64_t seq;
    std::function<void()> fn;
    bool operator<(const item& x) const { return t != x.t ? t > x.t : seq > x.seq; }
  };

  void at(us t, std::function<void()> fn) { queue_.push(item{t, ++seq_, std::move(fn)}); }

  bool chance(double p) { return std::uniform_real_distribution<double>{0, 1}(rng_) < p; }

  us uniform(us lo, us hi) { return std::uniform_int_distribution<us>{lo, hi}(rng_); }

  /// Links are TCP connections: in order and reliable while they hold. Cutting one (a
  /// partition) or a crash of either end loses what was on the way, and the next message
  /// goes over a new connection. Between workers, and from the client, a message may also be
  /// sent twice (the senders retry).
  void send(msg m) {
    if (cut_[m.from][m.to])
      return;
    auto key = std::make_pair(m.from, m.to);
    auto link = links_[key];
    auto& last = last_delivery_[key];
    auto t = std::max(now_ + uniform(msec(1), msec(20)), last + 1);
    last = t;
    at(t, [this, m, key, link] {
      if (links_[key] == link)
        receive(m);
    });
    bool worker_link = m.from != authority && m.to != authority;
    if (worker_link && !calm_started_ && chance(0.03)) {
      auto again = now_ + uniform(msec(1), msec(60)); // a retry, maybe after newer messages
      at(again, [this, m] {
        if (!cut_[m.from][m.to])
          receive(m);
      });
    }
  }

  /// Breaks every connection of node `id` (a crash, a partition): what is on its way is lost.
  void break_links(int a, int b) {
    ++links_[std::make_pair(a, b)];
    ++links_[std::make_pair(b, a)];
  }

  void break_all_links(int id) {
    for (int other = 0; other <= o_.workers + 1; ++other)
      if (other != id)
        break_links(id, other);
  }

  void receive(const msg& m) {
    if (m.to == authority)
      return leader_receive(m);
    if (m.to == client_id())
      return client_receive(m);
    auto& w = worker_of(m.to);
    if (!w.alive)
      return;
    if (w.paused) {
      w.inbox.push_back(m);
      return;
    }
    worker_receive(m.to, m);
  }

  int client_id() const { return o_.workers + 1; }
  worker& worker_of(int id) { return workers_[static_cast<size_t>(id - 1)]; }
  int id_of(const std::string& name) const { return std::stoi(name.substr(1)); }

  // -- the authority (the coordinators' Raft group and its leader) -------------------------------

  us leader_now() const { return leader_clk_.local(now_); }

  us reassign_wait() const {
    auto lease = std::chrono::microseconds(lease_length);
    return o_.lease_margin ? as_us(own::reassign_after(lease, o_.drift)) : lease_length;
  }

  void note(const std::string& what) {
    std::cerr << now_ / 1000.0 << " ms: " << what << "\n";
  }

  void mark_down(int w, const char* why) {
    auto& m = members_[static_cast<size_t>(w)];
    if (!m.up)
      return;
    m.up = false;
    ++index_;
    down_seen_[w] = leader_now();
    changed_ = true;
    if (trace_)
      note("w" + std::to_string(w) + " down (" + why + ") at index " + std::to_string(index_));
  }

  void leader_tick() {
    auto now = leader_now();
    for (int w = 1; w <= o_.workers; ++w) {
      auto& m = members_[static_cast<size_t>(w)];
      if (m.up && now - m.last_heard >= failure_timeout)
        mark_down(w, "silent");
    }
    place(now);
    if (changed_ || now - last_push_ >= msec(100))
      push_views();
    at(now_ + leader_clk_.real_span(leader_tick_every), [this] { leader_tick(); });
  }

  void place(us now) {
    std::vector<std::string> owners, live;
    for (auto& e : map_)
      owners.push_back(e.owner);
    bool leased = false;
    for (int w = 1; w <= o_.workers; ++w) {
      auto& m = members_[static_cast<size_t>(w)];
      auto name = worker_of(w).name;
      if (m.up) {
        live.push_back(name);
        continue;
      }
      bool owns = std::count(owners.begin(), owners.end(), name) > 0;
      if (owns && down_seen_.count(w) && now - down_seen_[w] < reassign_wait())
        leased = true;
    }
    if (leased)
      return; // a down owner may still serve under its lease: nothing moves yet
    auto moves = placement::rebalance(owners, live);
    if (moves.empty())
      return;
    ++index_;
    for (auto& mv : moves) {
      auto& e = map_[mv.vnode];
      e.owner = mv.to;
      e.epoch = index_;
      e.from = mv.from;
      e.handoff = !mv.from.empty() && members_[static_cast<size_t>(id_of(mv.from))].up;
      ++rep_.moves;
      if (trace_)
        note("move vnode " + std::to_string(mv.vnode) + " " + mv.from + " -> " + mv.to + " epoch "
           + std::to_string(index_) + (e.handoff ? " (hand-over)" : ""));
    }
    changed_ = true;
  }

  void push_views() {
    changed_ = false;
    last_push_ = leader_now();
    auto v = std::make_shared<view_msg>();
    v->version = index_;
    v->map = map_;
    for (int w = 1; w <= o_.workers; ++w)
      if (!members_[static_cast<size_t>(w)].up)
        v->gone.insert(worker_of(w).name);
    for (int w = 1; w <= o_.workers; ++w)
      send(msg{kind::view, authority, w, 0, 0, 0, false, {}, v});
  }

  void leader_receive(const msg& m) {
    auto& mem = members_[static_cast<size_t>(m.from)];
    if (m.k == kind::heartbeat) {
      bool ok = mem.up && mem.incarnation == m.a;
      if (ok)
        mem.last_heard = leader_now();
      send(msg{kind::ack, authority, m.from, m.a, 0, m.local, !ok, {}, {}});
    } else if (m.k == kind::join) {
      ++index_;
      mem.up = true;
      mem.incarnation = index_;
      mem.last_heard = leader_now();
      down_seen_.erase(m.from);
      changed_ = true;
      send(msg{kind::joined, authority, m.from, index_, 0, m.local, false, {}, {}});
    }
  }

  // -- workers ---------------------------------------------------------------------------------

  void reset_cores(int id) {
    auto& w = worker_of(id);
    w.cores.clear();
    w.buffered.assign(static_cast<size_t>(o_.vnodes), {});
    auto wait = std::chrono::duration_cast<duration>(std::chrono::microseconds(reassign_wait()));
    for (int v = 0; v < o_.vnodes; ++v) {
      w.cores.emplace_back(w.name, wait);
      if (!o_.epoch_order)
        w.cores.back().ignore_epoch_order_for_testing();
    }
  }

  bool lease_holds(const worker& w) const { return w.clk.local(now_) < w.lease_until; }

  bool serves(const worker& w, size_t v) const {
    return w.alive && !w.paused && lease_holds(w)
           && w.cores[v].phase() == own::vnode_phase::serving;
  }

  void schedule_worker_timers(int id) {
    auto& w = worker_of(id);
    auto life = w.life;
    at(now_ + w.clk.real_span(heartbeat_every), [this, id, life] { heartbeat_timer(id, life); });
    at(now_ + w.clk.real_span(core_tick_every), [this, id, life] { core_timer(id, life); });
  }

  void heartbeat_timer(int id, uint64_t life) {
    auto& w = worker_of(id);
    if (!w.alive || w.life != life)
      return;
    at(now_ + w.clk.real_span(heartbeat_every), [this, id, life] { heartbeat_timer(id, life); });
    if (w.paused) {
      w.timers_due = true;
      return;
    }
    beat(id);
  }

  void beat(int id) {
    auto& w = worker_of(id);
    auto local = w.clk.local(now_);
    if (w.joined && local >= w.lease_until)
      fence(id); // the lease ran out: lost its coordinator
    if (!w.joined) {
      w.join_sent = local;
      send(msg{kind::join, id, authority, 0, 0, local, false, {}, {}});
      return;
    }
    send(msg{kind::heartbeat, id, authority, w.incarnation, ++w.hb_seq, local, false, {}, {}});
  }

  void core_timer(int id, uint64_t life) {
    auto& w = worker_of(id);
    if (!w.alive || w.life != life)
      return;
    at(now_ + w.clk.real_span(core_tick_every), [this, id, life] { core_timer(id, life); });
    if (w.paused)
      return;
    for (size_t v = 0; v < w.cores.size(); ++v)
      apply(id, v, w.cores[v].on_tick(tp(w.clk.local(now_))));
  }

  void fence(int id) {
    if (trace_)
      note("fence w" + std::to_string(id));
    auto& w = worker_of(id);
    w.joined = false;
    w.lease_until = -1;
    for (size_t v = 0; v < w.cores.size(); ++v)
      apply(id, v, w.cores[v].fence());
  }

  void worker_receive(int id, const msg& m) {
    auto& w = worker_of(id);
    auto local = tp(w.clk.local(now_));
    switch (m.k) {
      case kind::ack:
        if (!w.joined || m.a != w.incarnation)
          return;
        if (m.flag)
          return fence(id); // the authority no longer knows this incarnation
        w.lease_until = std::max(w.lease_until, m.local + lease_length);
        return;
      case kind::joined:
        if (trace_)
          note(w.name + " joined as " + std::to_string(m.a));
        if (w.joined || m.local != w.join_sent)
          return; // joined already, or the answer to an earlier attempt (as the agent's
                  // generations make it ignore)
        w.joined = true;
        w.incarnation = m.a;
        w.lease_until = m.local + lease_length;
        return;
      case kind::view:
        if (!w.joined)
          return; // views go to joined members only
        if (m.view->version < w.incarnation)
          return; // older than this worker's join: it may miss moves made while it was gone
        for (size_t v = 0; v < w.cores.size(); ++v) {
          auto& e = m.view->map[v];
          own::vnode_view vv{e.owner, e.epoch, e.from, e.handoff};
          apply(id, v, w.cores[v].on_view(vv, local));
        }
        return;
      case kind::state:
        return apply(id, m.b, w.cores[m.b].on_state(m.a, local));
      case kind::no_state:
        return apply(id, m.b, w.cores[m.b].on_no_state(m.a, m.who, local));
      case kind::request:
        return apply(id, m.b, w.cores[m.b].on_request(m.a, m.who, local));
      case kind::event:
        return on_event(id, m);
      default:
        return;
    }
  }

  void on_event(int id, const msg& m) {
    auto& w = worker_of(id);
    auto v = m.b;
    if (lease_holds(w) && w.cores[v].admits(m.a)) {
      handle(id, m.local);
      return;
    }
    if (lease_holds(w) && w.cores[v].buffers(m.a) && w.buffered[v].size() < 1000) {
      w.buffered[v].push_back(m.local); // the event id travels in `local`
      return;
    }
    send(msg{kind::event_nack, id, client_id(), static_cast<uint64_t>(m.local), v, 0, false, {},
             {}});
  }

  /// Handles event `event_id` (it travels in msg::local): recorded, then acknowledged.
  void handle(int id, us event_id) {
    handled_.insert(static_cast<uint64_t>(event_id));
    send(msg{kind::event_ack, id, client_id(), static_cast<uint64_t>(event_id), 0, 0, false, {},
             {}});
  }

  void apply(int id, size_t v, const own::vnode_effects& fx) {
    auto& w = worker_of(id);
    if (trace_ && (fx.stop || fx.start || fx.hand_over_to || fx.no_state_to || fx.ask_state_from))
      note(w.name + " vnode " + std::to_string(v) + ":" + (fx.stop ? " stop" : "")
           + (fx.hand_over_to ? " hand-over->" + *fx.hand_over_to : std::string{})
           + (fx.no_state_to ? " no-state->" + *fx.no_state_to + "/" + fx.ask_instead
                             : std::string{})
           + (fx.ask_state_from ? " ask->" + *fx.ask_state_from : std::string{})
           + (fx.start ? std::string{" start"} + (fx.from_state ? " from state" : " fresh") : "")
           + " epoch " + std::to_string(w.cores[v].epoch()) + "/" + std::to_string(fx.epoch));
    if (fx.hand_over_to) {
      ++rep_.handoffs;
      send(msg{kind::state, id, id_of(*fx.hand_over_to), fx.epoch, v, 0, false, {}, {}});
    }
    if (fx.no_state_to)
      send(msg{kind::no_state, id, id_of(*fx.no_state_to), fx.epoch, v, 0, false, fx.ask_instead,
               {}});
    if (fx.ask_state_from && *fx.ask_state_from != w.name)
      send(msg{kind::request, id, id_of(*fx.ask_state_from), fx.epoch, v, 0, false, w.name, {}});
    if (fx.drop_buffer) {
      for (auto e : w.buffered[v])
        send(msg{kind::event_nack, id, client_id(), static_cast<uint64_t>(e), v, 0, false, {}, {}});
      w.buffered[v].clear();
    }
    if (fx.start) {
      check_one_owner(); // it serves from now: nobody else may
      auto waiting = std::move(w.buffered[v]);
      w.buffered[v].clear();
      for (auto e : waiting)
        if (lease_holds(w))
          handle(id, static_cast<us>(e));
        else
          send(msg{kind::event_nack, id, client_id(), static_cast<uint64_t>(e), v, 0, false, {},
                   {}});
    }
  }

  // -- the client: at-least-once events, sent again until acknowledged ---------------------------

  void client_tick() {
    if (!calm_started_ && sent_ < 100000) {
      auto v = static_cast<uint64_t>(uniform(0, o_.vnodes - 1));
      pending_[++sent_] = v;
    }
    for (auto& [id, v] : pending_) {
      auto& e = map_[v];
      if (e.owner.empty())
        continue;
      send(msg{kind::event, client_id(), id_of(e.owner), e.epoch, v, static_cast<us>(id), false,
               {}, {}});
    }
    at(now_ + msec(50), [this] { client_tick(); });
  }

  void client_receive(const msg& m) {
    if (m.k != kind::event_ack)
      return;
    if (!handled_.count(m.a))
      fail("event " + std::to_string(m.a) + " acknowledged but never handled");
    if (pending_.erase(m.a) > 0)
      ++rep_.events;
  }

  // -- faults ------------------------------------------------------------------------------------

  void fault_tick() {
    if (calm_started_)
      return;
    for (int id = 1; id <= o_.workers; ++id) {
      auto& w = worker_of(id);
      if (w.alive && !w.paused && chance(0.004))
        crash(id);
      else if (w.alive && !w.paused && chance(0.004))
        pause(id, uniform(msec(200), msec(2500)));
      else if (chance(0.004))
        cut(id, authority, uniform(msec(100), msec(2000)));
      else if (chance(0.003))
        cut(id, static_cast<int>(uniform(1, o_.workers)), uniform(msec(100), msec(1500)));
    }
    at(now_ + msec(20), [this] { fault_tick(); });
  }

  void crash(int id) {
    if (trace_)
      note("crash w" + std::to_string(id));
    auto& w = worker_of(id);
    w.alive = false;
    break_all_links(id);
    ++w.life;
    if (chance(0.7))
      mark_down(id, "connection closed"); // the coordinator saw the process go
    at(now_ + uniform(msec(100), msec(1500)), [this, id] { restart(id); });
  }

  void restart(int id) {
    auto& w = worker_of(id);
    if (w.alive)
      return;
    w.alive = true;
    w.paused = false;
    w.joined = false;
    w.lease_until = -1;
    w.inbox.clear();
    reset_cores(id);
    schedule_worker_timers(id);
  }

  void pause(int id, us length) {
    if (trace_)
      note("pause w" + std::to_string(id) + " for " + std::to_string(length / 1000) + " ms");
    worker_of(id).paused = true;
    auto life = worker_of(id).life;
    at(now_ + length, [this, id, life] { resume(id, life); });
  }

  void resume(int id, uint64_t life) {
    auto& w = worker_of(id);
    if (!w.paused || w.life != life)
      return;
    w.paused = false;
    // A worker that wakes checks its lease before anything that waited (as the vnode host
    // does at each delivery).
    if (w.joined && w.clk.local(now_) >= w.lease_until)
      fence(id);
    if (w.timers_due) {
      w.timers_due = false;
      beat(id);
    }
    auto inbox = std::move(w.inbox);
    w.inbox.clear();
    for (auto& m : inbox)
      if (w.alive && !w.paused)
        worker_receive(id, m);
  }

  void cut(int a, int b, us length) {
    if (a == b)
      return;
    cut_[a][b] = cut_[b][a] = true;
    break_links(a, b);
    if (trace_)
      note("cut " + std::to_string(a) + " from " + std::to_string(b) + " for "
           + std::to_string(length / 1000) + " ms");
    if (b == authority && chance(0.5))
      mark_down(a, "connection closed"); // the link broke and the coordinator saw it
    at(now_ + length, [this, a, b] { cut_[a][b] = cut_[b][a] = false; });
  }

  void start_calm() {
    calm_started_ = true;
    for (auto& row : cut_)
      std::fill(row.begin(), row.end(), false);
    for (int id = 1; id <= o_.workers; ++id) {
      auto& w = worker_of(id);
      if (!w.alive)
        restart(id);
      else if (w.paused)
        resume(id, w.life);
    }
  }

  // -- invariants --------------------------------------------------------------------------------

  void fail(std::string why) {
    if (!rep_.ok)
      return;
    rep_.ok = false;
    std::ostringstream out;
    out << "at " << now_ / 1000.0 << " ms: " << why;
    rep_.violation = out.str();
  }

  void check_one_owner() {
    ++rep_.checks;
    for (size_t v = 0; v < static_cast<size_t>(o_.vnodes); ++v) {
      const worker* first = nullptr;
      for (auto& w : workers_) {
        if (!serves(w, v))
          continue;
        if (!first) {
          first = &w;
          continue;
        }
        auto describe = [&](const worker& x) {
          return x.name + " (epoch " + std::to_string(x.cores[v].epoch()) + ", lease for "
                 + std::to_string((x.lease_until - x.clk.local(now_)) / 1000) + " ms more)";
        };
        return fail("vnode " + std::to_string(v) + " served by " + describe(*first) + " and "
                    + describe(w));
      }
    }
  }

  void check_settled() {
    for (size_t v = 0; v < static_cast<size_t>(o_.vnodes); ++v) {
      auto& owner = map_[v].owner;
      if (owner.empty())
        return fail("after the calm, vnode " + std::to_string(v) + " has no owner");
      if (!serves(worker_of(id_of(owner)), v))
        return fail("after the calm, vnode " + std::to_string(v) + " is not served by its owner "
                    + owner + " ("
                    + own::to_string(worker_of(id_of(owner)).cores[v].phase()) + ")");
    }
    if (!pending_.empty())
      fail("after the calm, " + std::to_string(pending_.size())
           + " events are not acknowledged (first: " + std::to_string(pending_.begin()->first)
           + ")");
  }

  ownership_options o_;
  std::mt19937_64 rng_;
  std::priority_queue<item> queue_;
  uint64_t seq_ = 0;
  us now_ = 0;
  us end_ = 0;
  us calm_at_ = 0;
  bool calm_started_ = false;
  bool trace_ = false;
  ownership_report rep_;
  std::vector<std::vector<bool>> cut_;
  std::map<std::pair<int, int>, uint64_t> links_;       // a link's connection number
  std::map<std::pair<int, int>, us> last_delivery_;      // keeps each link in order
  // The authority.
  clock_model leader_clk_;
  std::vector<vnode_entry> map_;
  std::vector<member> members_;
  std::map<int, us> down_seen_;
  uint64_t index_ = 0;
  bool changed_ = false;
  us last_push_ = 0;
  // The workers and the client.
  std::vector<worker> workers_;
  std::map<uint64_t, uint64_t> pending_;  // event id -> vnode
  std::set<uint64_t> handled_;
  uint64_t sent_ = 0;
};

} // namespace

ownership_report run_ownership(const ownership_options& o) {
  world w{o};
  return w.run();
}

std::string format_options(const ownership_options& o) {
  std::ostringstream out;
  out << "seed=" << o.seed << " workers=" << o.workers << " vnodes=" << o.vnodes
      << " faults=" << o.fault_seconds << " calm=" << o.calm_seconds << " drift=" << o.drift
      << " margin=" << o.lease_margin << " epochs=" << o.epoch_order;
  return out.str();
}

ownership_options parse_ownership_options(const std::vector<std::string>& args,
                                          ownership_options o) {
  for_each_option(args, [&o](const std::string& k, const std::string& v) {
    if (k == "seed")
      o.seed = std::stoull(v);
    else if (k == "workers")
      o.workers = std::stoi(v);
    else if (k == "vnodes")
      o.vnodes = std::stoi(v);
    else if (k == "faults")
      o.fault_seconds = std::stoi(v);
    else if (k == "calm")
      o.calm_seconds = std::stoi(v);
    else if (k == "drift")
      o.drift = std::stod(v);
    else if (k == "margin")
      o.lease_margin = v == "1";
    else if (k == "epochs")
      o.epoch_order = v == "1";
  });
  return o;
}

} // namespace troupe::sim
