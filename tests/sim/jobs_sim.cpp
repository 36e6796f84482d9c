#include "tests/sim/jobs_sim.hpp"

#include "protocols/jobs/job_table.hpp"
#include "tests/sim/sim_util.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>

namespace troupe::sim {

namespace {

namespace j = troupe::jobs;

constexpr int64_t step_ms = 5;
constexpr int64_t detect_ms = 300;     // the failure detector: a silent worker is lost
constexpr int64_t plan_every_ms = 20;  // the leader's tick
constexpr int64_t resend_ms = 100;     // a worker reports a result again until acknowledged
constexpr const char* queue = "q";

struct assignment {
  std::string id;
  std::string payload;
  uint64_t epoch = 0;
};

struct report {
  std::string id;
  uint64_t epoch = 0;
  bool ok = true;
  std::string worker;
};

struct message {
  int64_t at = 0;
  std::optional<assignment> to_worker;  // leader -> worker (name in `worker`)
  std::optional<report> to_leader;      // worker -> leader
  std::optional<report> ack;            // leader -> worker: this report is settled
  std::string worker;
};

struct running_handler {
  assignment a;
  int64_t done_at = 0;
};

struct sim_worker {
  std::string name;
  bool alive = true;
  int64_t paused_until = 0;
  int64_t restart_at = 0;
  bool reported_down = false;  // the authority has it down
  std::vector<running_handler> handlers;
  std::map<uint64_t, std::pair<report, int64_t>> unacked;  // epoch -> (report, next resend)
  std::set<uint64_t> seen;                                  // epochs started
};

struct proposal {
  int64_t at = 0;  // when it commits
  j::command cmd;
  uint64_t reported_epoch = 0;  // a finish: the attempt whose handler reported it
  std::string reporter;         // ... and the worker it ran on
};

class simulation {
public:
  explicit simulation(const jobs_options& o) : o_(o), rng_(o.seed) {
    for (int i = 0; i < o.workers; ++i)
    {
      sim_worker w;
      w.name = "w" + std::to_string(i + 1);
      workers_.push_back(std::move(w));
    }
    j::queue_config q{queue, "sleep-job", static_cast<uint32_t>(o.slots), o.timeout_ms,
                      o.max_attempts, 50};
    commit(j::create_queue_cmd{q});
    for (auto& w : workers_)
      commit(j::worker_cmd{w.name, true, 0});
    for (int i = 0; i < o.jobs; ++i) {
      auto at = static_cast<int64_t>(rng_() % static_cast<uint64_t>(o.fault_ms));
      std::string id = "job" + std::to_string(i);
      // One job in eight always fails; the rest take 0-300 ms, one in ten past the timeout.
      std::string payload = chance(0.125) ? "fail" : std::to_string(rng_() % 300);
      submits_.emplace(at, std::make_pair(id, payload));
    }
  }

  jobs_report run() {
    auto end = static_cast<int64_t>(o_.fault_ms) + o_.calm_ms;
    for (now_ = 0; now_ <= end && rep_.ok; now_ += step_ms) {
      calm_ = now_ > o_.fault_ms;
      if (!calm_)
        faults();
      else
        leader_ = true; // calm: the election is over
      submit_due();
      commit_due();
      deliver();
      run_workers();
      detect();
      if (leader_ && now_ % plan_every_ms == 0)
        leader_plan();
      check();
    }
    if (rep_.ok)
      check_settled();
    return rep_;
  }

private:
  bool chance(double p) { return std::uniform_real_distribution<double>{0, 1}(rng_) < p; }
  int64_t delay() { return step_ms * static_cast<int64_t>(1 + rng_() % 6); }

  void fail(const std::string& what) {
    if (!rep_.ok)
      return;
    rep_.ok = false;
    rep_.violation = "at " + std::to_string(now_) + " ms: " + what;
  }

  sim_worker* worker(const std::string& name) {
    for (auto& w : workers_)
      if (w.name == name)
        return &w;
    return nullptr;
  }

  // -- the authority (the Raft group) ---------------------------------------------------------

  j::apply_result commit(const j::command& c, uint64_t reported_epoch = 0) {
    auto r = table_.apply(c);
    track(c, r, reported_epoch);
    return r;
  }

  /// Follows what the table decided, independently of it, and checks it.
  void track(const j::command& c, const j::apply_result& r, uint64_t reported) {
    if (auto* a = std::get_if<j::assign_cmd>(&c); a && r.result == j::outcome::ok) {
      ++rep_.attempts;
      live_attempt_[a->id] = r.epoch;
      auto* job = table_.find(queue, a->id);
      send_to_worker(a->worker, assignment{a->id, job->payload, r.epoch});
    } else if (auto* f = std::get_if<j::finish_cmd>(&c)) {
      if (r.result == j::outcome::stale_attempt)
        ++rep_.fenced;
      if (r.result == j::outcome::ok) {
        // Counted: it must be the job's live attempt, the one whose handler reported it.
        if (live_attempt_[f->id] != reported)
          fail(f->id + ": a result of attempt " + std::to_string(reported)
               + " counted while attempt " + std::to_string(live_attempt_[f->id])
               + " was the live one");
        if (ended_.count(reported))
          fail(f->id + ": a result counted for attempt " + std::to_string(reported)
               + ", taken back before");
        ended_.insert(live_attempt_[f->id]);
        if (r.state == j::job_state::done && ++done_count_[f->id] > 1)
          fail(f->id + ": done twice");
      }
    } else if (auto* e = std::get_if<j::expire_cmd>(&c); e && r.result == j::outcome::ok) {
      ++rep_.expired;
      ended_.insert(e->epoch);
    } else if (auto* w = std::get_if<j::worker_cmd>(&c); w && !w->up) {
      // The lost worker's attempts were taken back.
      for (auto& [id, epoch] : running_before_down_)
        ended_.insert(epoch);
    }
  }

  void propose(j::command c, uint64_t reported_epoch = 0, std::string reporter = {}) {
    // A proposal commits after a few steps, unless the leader changes first: then it may or
    // may not have committed (both happen).
    pending_.push_back(proposal{now_ + delay(), std::move(c), reported_epoch, std::move(reporter)});
  }

  void commit_due() {
    for (auto& p : take_due(pending_, now_)) {
      if (auto* w = std::get_if<j::worker_cmd>(&p.cmd); w && !w->up) {
        running_before_down_.clear();
        if (auto* jobs = table_.jobs_of(queue))
          for (auto& [id, job] : *jobs)
            if (job.state == j::job_state::running && job.worker == w->worker)
              running_before_down_[id] = job.epoch;
      }
      auto r = commit(p.cmd, p.reported_epoch);
      if (std::holds_alternative<j::finish_cmd>(p.cmd)
          && (r.result == j::outcome::ok || r.result == j::outcome::stale_attempt))
        send_ack(p.reporter, p.reported_epoch);
      if (auto* a = std::get_if<j::assign_cmd>(&p.cmd))
        in_flight_.erase(a->id);
      if (auto* e = std::get_if<j::expire_cmd>(&p.cmd))
        in_flight_.erase(e->id);
    }
  }

  void leader_plan() {
    for (auto& c : j::plan(table_, now_)) {
      const std::string* id = nullptr;
      if (auto* a = std::get_if<j::assign_cmd>(&c))
        id = &a->id;
      else if (auto* e = std::get_if<j::expire_cmd>(&c))
        id = &e->id;
      if (id && !in_flight_.insert(*id).second)
        continue; // proposed already; wait for it to commit
      propose(c);
    }
  }

  /// The authority's failure detector: a crashed worker, or one paused longer than
  /// detect_ms, is lost; one that answers again is up again.
  void detect() {
    for (auto& w : workers_) {
      bool silent = !w.alive || w.paused_until > now_;
      if (silent && !w.reported_down && silent_since_.count(w.name) == 0)
        silent_since_[w.name] = now_;
      if (!silent)
        silent_since_.erase(w.name);
      if (silent && !w.reported_down && now_ - silent_since_[w.name] >= detect_ms && leader_) {
        w.reported_down = true;
        propose(j::worker_cmd{w.name, false, now_});
      } else if (!silent && w.reported_down && leader_) {
        w.reported_down = false;
        propose(j::worker_cmd{w.name, true, now_});
      }
    }
  }

  // -- the network ----------------------------------------------------------------------------

  void send(message m) {
    if (!calm_ && chance(o_.drop))
      return;
    m.at = now_ + delay();
    if (!calm_ && chance(o_.duplicate)) {
      auto copy = m;
      copy.at = now_ + delay();
      network_.push_back(std::move(copy));
    }
    network_.push_back(std::move(m));
  }

  void send_to_worker(const std::string& name, assignment a) {
    message m;
    m.to_worker = std::move(a);
    m.worker = name;
    send(std::move(m));
  }

  void send_ack(const std::string& worker, uint64_t epoch) {
    message m;
    m.ack = report{"", epoch, true, worker};
    m.worker = worker;
    send(std::move(m));
  }

  void deliver() {
    auto due = take_due(network_, now_);
    std::shuffle(due.begin(), due.end(), rng_);
    for (auto& m : due) {
      if (m.to_leader) {
        if (!leader_)
          continue; // no leader: lost; the worker reports again
        auto& r = *m.to_leader;
        auto cur = table_.find(queue, r.id);
        // The bug the option shows: trusting the job's current epoch over the reported one.
        uint64_t epoch = o_.leader_fences || !cur ? r.epoch : cur->epoch;
        j::finish_cmd f{queue, r.id, epoch, r.ok, r.ok ? "" : "no such file", now_};
        propose(f, r.epoch, r.worker);
        continue;
      }
      auto* w = worker(m.worker);
      if (m.ack) {
        if (w && w->alive)
          w->unacked.erase(m.ack->epoch);
        continue;
      }
      if (!w || !w->alive || w->paused_until > now_) {
        if (w && w->alive && w->paused_until > now_)
          network_.push_back(message{w->paused_until, m.to_worker, {}, {}, m.worker});
        continue;
      }
      auto& a = *m.to_worker;
      if (!w->seen.insert(a.epoch).second)
        continue; // a duplicate
      int64_t run_for = a.payload == "fail" ? 10 : std::stoll(a.payload);
      if (chance(0.1))
        run_for = o_.timeout_ms * 2; // a slow attempt: it outlives its timeout
      w->handlers.push_back(running_handler{a, now_ + run_for});
    }
  }

  // -- workers --------------------------------------------------------------------------------

  void run_workers() {
    for (auto& w : workers_) {
      if (!w.alive) {
        if (now_ >= w.restart_at)
          restart(w);
        continue;
      }
      if (w.paused_until > now_)
        continue;
      for (auto it = w.handlers.begin(); it != w.handlers.end();) {
        if (it->done_at > now_) {
          ++it;
          continue;
        }
        report r{it->a.id, it->a.epoch, it->a.payload != "fail", w.name};
        w.unacked[r.epoch] = {r, now_};
        it = w.handlers.erase(it);
      }
      for (auto& [epoch, entry] : w.unacked)
        if (entry.second <= now_) {
          entry.second = now_ + resend_ms;
          message m;
          m.to_leader = entry.first;
          m.worker = w.name;
          send(std::move(m));
        }
    }
  }

  void restart(sim_worker& w) {
    w.alive = true;
    w.handlers.clear();
    w.unacked.clear();
    w.seen.clear();
  }

  // -- faults ---------------------------------------------------------------------------------

  void faults() {
    for (auto& w : workers_) {
      if (!w.alive || w.paused_until > now_)
        continue;
      if (chance(0.0015)) {
        ++rep_.crashes;
        w.alive = false;
        w.restart_at = now_ + 100 + static_cast<int64_t>(rng_() % 400);
      } else if (chance(0.0015)) {
        ++rep_.pauses;
        w.paused_until = now_ + o_.timeout_ms + static_cast<int64_t>(rng_() % 600);
      }
    }
    if (chance(0.002)) {
      // The leader changes: proposals in flight commit or are lost, the planner's memory of
      // them goes, and no one plans until the election is over.
      ++rep_.leader_changes;
      for (auto it = pending_.begin(); it != pending_.end();)
        it = chance(0.5) ? pending_.erase(it) : std::next(it);
      in_flight_.clear();
      leader_ = false;
      leader_back_at_ = now_ + 250 + static_cast<int64_t>(rng_() % 250);
    }
    if (!leader_ && now_ >= leader_back_at_)
      leader_ = true;
  }

  void submit_due() {
    for (auto it = submits_.begin(); it != submits_.end() && it->first <= now_;) {
      submitted_.insert(it->second.first);
      fails_[it->second.first] = it->second.second == "fail";
      // A client retries until it is acknowledged: submitting is idempotent by id.
      commit(j::submit_cmd{queue, it->second.first, it->second.second, now_});
      it = submits_.erase(it);
    }
  }

  // -- checks ---------------------------------------------------------------------------------

  void check() {
    auto* jobs = table_.jobs_of(queue);
    if (!jobs) {
      fail("the queue was lost");
      return;
    }
    for (auto& id : submitted_) {
      auto it = jobs->find(id);
      if (it == jobs->end()) {
        fail(id + " was lost");
        return;
      }
      if (it->second.attempts > o_.max_attempts)
        fail(id + " made " + std::to_string(it->second.attempts) + " attempts");
      if (fails_[id] && it->second.state == j::job_state::done)
        fail(id + " always fails, yet is done");
    }
    for (auto& w : workers_)
      if (table_.running_on(queue, w.name) > static_cast<uint32_t>(o_.slots))
        fail(w.name + " runs more attempts than its slots");
    // The table's indexes (the leader's plan reads only them) agree with its jobs.
    size_t by_state[4] = {0, 0, 0, 0};
    std::set<std::string> running;
    std::set<std::pair<uint64_t, std::string>> waiting;
    for (auto& [id, job] : *jobs) {
      by_state[static_cast<size_t>(job.state)] += 1;
      if (job.state == j::job_state::running)
        running.insert(id);
      else if (job.state == j::job_state::pending)
        waiting.emplace(job.submitted, id);
    }
    auto c = table_.counts(queue);
    if (c.pending != by_state[0] || c.running != by_state[1] || c.done != by_state[2]
        || c.dead != by_state[3] || *table_.running_of(queue) != running
        || *table_.waiting_of(queue) != waiting)
      fail("the table's indexes disagree with its jobs");
  }

  void check_settled() {
    for (auto& [id, job] : *table_.jobs_of(queue)) {
      if (job.state == j::job_state::done)
        ++rep_.done;
      else if (job.state == j::job_state::dead)
        ++rep_.dead;
      else
        fail(id + " is still " + j::to_string(job.state) + " after the calm period");
      if (fails_[id] && job.state != j::job_state::dead)
        fail(id + " always fails, yet is not dead");
    }
  }

  jobs_options o_;
  std::mt19937_64 rng_;
  int64_t now_ = 0;
  bool calm_ = false;
  bool leader_ = true;
  int64_t leader_back_at_ = 0;
  j::job_table table_;
  std::vector<sim_worker> workers_;
  std::multimap<int64_t, std::pair<std::string, std::string>> submits_;
  std::set<std::string> submitted_;
  std::map<std::string, bool> fails_;
  std::vector<proposal> pending_;
  std::set<std::string> in_flight_;
  std::vector<message> network_;
  std::map<std::string, int64_t> silent_since_;
  std::map<std::string, uint64_t> live_attempt_;  // job -> epoch of its latest hand-out
  std::set<uint64_t> ended_;                       // attempts taken back or counted
  std::map<std::string, uint64_t> running_before_down_;
  std::map<std::string, int> done_count_;
  jobs_report rep_;
};

} // namespace

std::string format_options(const jobs_options& o) {
  std::ostringstream out;
  out << "seed=" << o.seed << " workers=" << o.workers << " slots=" << o.slots
      << " jobs=" << o.jobs << " timeout=" << o.timeout_ms << " attempts=" << o.max_attempts
      << " faults=" << o.fault_ms << " calm=" << o.calm_ms << " drop=" << o.drop
      << " dup=" << o.duplicate << " fences=" << o.leader_fences;
  return out.str();
}

jobs_options parse_jobs_options(const std::vector<std::string>& args, jobs_options o) {
  for_each_option(args, [&o](const std::string& k, const std::string& v) {
    if (k == "seed")
      o.seed = std::stoull(v);
    else if (k == "workers")
      o.workers = std::stoi(v);
    else if (k == "slots")
      o.slots = std::stoi(v);
    else if (k == "jobs")
      o.jobs = std::stoi(v);
    else if (k == "timeout")
      o.timeout_ms = std::stoll(v);
    else if (k == "attempts")
      o.max_attempts = static_cast<uint32_t>(std::stoul(v));
    else if (k == "faults")
      o.fault_ms = std::stoi(v);
    else if (k == "calm")
      o.calm_ms = std::stoi(v);
    else if (k == "drop")
      o.drop = std::stod(v);
    else if (k == "dup")
      o.duplicate = std::stod(v);
    else if (k == "fences")
      o.leader_fences = v == "1";
  });
  return o;
}

jobs_report run_jobs(const jobs_options& o) {
  return simulation{o}.run();
}

} // namespace troupe::sim
