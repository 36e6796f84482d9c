// The supervision tree on real processes: every service of every node killed in turn under a
// KV write load and an at-least-once event stream (each is started again by its supervisor,
// nothing acknowledged is lost, and the pauses clients see are measured), and a service killed
// past its supervisors' intensity (the node exits 70 naming it; in local mode the coordinator
// starts that worker again).
#define CAF_SUITE supervision
#include <caf/test/unit_test.hpp>

#include "actors/raft/raft_actor.hpp"
#include "actors/router.hpp"
#include "actors/wire.hpp"
#include "nodes/remote_node.hpp"
#include "tests/integration/harness.hpp"
#include "tests/integration/local_cluster.hpp"

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

using namespace troupe;
using namespace troupe::it;

namespace {

/// 3 coordinators and 3 workers, as on six hosts.
struct six_nodes {
  std::string dir = temp_dir("supervision6");
  std::vector<uint16_t> cports;
  std::vector<std::string> names{"c0", "c1", "c2", "w0", "w1", "w2"};
  std::map<std::string, std::unique_ptr<process>> procs;

  six_nodes() {
    for (int i = 0; i < 3; ++i)
      cports.push_back(free_port_pair());
    for (int i = 0; i < 3; ++i)
      procs["c" + std::to_string(i)] = std::make_unique<process>(
        std::vector<std::string>{"run", "--coordinator", "--peers=" + peers(),
                                 "--cluster-port=" + std::to_string(cports[i]),
                                 "--http-port=" + std::to_string(cports[i] + 1),
                                 "--name=c" + std::to_string(i),
                                 "--data-dir=" + dir + "/c" + std::to_string(i), "--threads=2",
                                 "--failure-timeout=900ms", "--heartbeat-interval=100ms"},
        dir + "/c" + std::to_string(i) + ".log");
    for (int i = 0; i < 3; ++i)
      procs["w" + std::to_string(i)] = std::make_unique<process>(
        std::vector<std::string>{"run", "--worker", "--coordinators=" + peers(),
                                 "--cluster-port=0", "--http-port=0",
                                 "--name=w" + std::to_string(i),
                                 "--data-dir=" + dir + "/w" + std::to_string(i), "--threads=2",
                                 "--failure-timeout=900ms", "--heartbeat-interval=100ms"},
        dir + "/w" + std::to_string(i) + ".log");
  }

  ~six_nodes() {
    if (caf::test::engine::current_test()->bad() > 0)
      for (auto& [name, p] : procs)
        std::cout << "---- " << name << " ----\n" << p->log();
  }

  std::string peers() const {
    std::string out;
    for (auto p : cports)
      out += (out.empty() ? "" : ",") + std::string{"127.0.0.1:"} + std::to_string(p);
    return out;
  }

  std::string connect() const {
    return "--connect=" + peers();
  }
};

/// A client that keeps doing one thing (a KV put, an at-least-once event) through the
/// coordinators, retrying what is not acknowledged, and records what was and the longest gap
/// between two acknowledgements.
class stream {
public:
  // Tries `item` through `node`; false (with the reason in `why`) when not acknowledged.
  using attempt_fn = std::function<bool(caf::scoped_actor&, const caf::actor&, uint64_t,
                                        std::string& why)>;

  stream(std::vector<uint16_t> ports, attempt_fn attempt)
    : ports_(std::move(ports)), attempt_(std::move(attempt)) {
    thread_ = std::thread{[this] { run(); }};
  }

  ~stream() { stop(); }

  void stop() {
    stop_ = true;
    if (thread_.joinable())
      thread_.join();
  }

  /// Acknowledged items, in order.
  std::vector<uint64_t> acked() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return acked_;
  }

  size_t count() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return acked_.size();
  }

  ms longest_gap() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return gap_;
  }

  /// How long after `t` the first acknowledgement came (nullopt: none yet).
  std::optional<ms> first_ack_after(clock::time_point t) const {
    std::lock_guard<std::mutex> guard{mtx_};
    auto it = std::upper_bound(times_.begin(), times_.end(), t);
    if (it == times_.end())
      return std::nullopt;
    return std::chrono::duration_cast<ms>(*it - t);
  }

  /// Attempts that took over 500 ms and failed, and why.
  std::vector<std::string> slow() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return slow_;
  }

  /// Forgets the gaps so far (the measured phase starts now).
  void reset_gap() {
    std::lock_guard<std::mutex> guard{mtx_};
    gap_ = ms{0};
    last_ = clock::now();
  }

private:
  void run() {
    client_config cfg;
    troupe_system sys{cfg};
    caf::scoped_actor self{sys};
    caf::actor node;
    size_t next = 0;
    uint64_t item = 1;
    last_ = clock::now();
    for (int round = 0; !stop_ && round < 1000000; ++round) {
      if (!node) {
        std::string problem;
        auto p = ports_[next++ % ports_.size()];
        node = connect_node(sys, self, endpoint{"127.0.0.1", p}, 500ms, problem);
        if (!node) {
          std::this_thread::sleep_for(20ms); // a node that is restarting its door
          continue;
        }
      }
      std::string why;
      auto t0 = clock::now();
      if (!attempt_(self, node, item, why)) {
        auto took = std::chrono::duration_cast<ms>(clock::now() - t0);
        if (took > 500ms) {
          std::lock_guard<std::mutex> guard{mtx_};
          auto wall = std::chrono::duration_cast<ms>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
          slow_.push_back("at " + std::to_string(wall % 100000) + " item "
                          + std::to_string(item) + " via port "
                          + std::to_string(ports_[(next + ports_.size() - 1) % ports_.size()])
                          + " failed after " + std::to_string(took.count()) + " ms: " + why);
        }
        node = nullptr; // try the next node: this one may be restarting something
        std::this_thread::sleep_for(10ms);
        continue;
      }
      auto now = clock::now();
      std::lock_guard<std::mutex> guard{mtx_};
      acked_.push_back(item++);
      times_.push_back(now);
      gap_ = std::max(gap_, std::chrono::duration_cast<ms>(now - last_));
      last_ = now;
    }
  }

  std::vector<uint16_t> ports_;
  attempt_fn attempt_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mtx_;
  std::vector<uint64_t> acked_;
  std::vector<clock::time_point> times_;
  std::vector<std::string> slow_;
  ms gap_{0};
  clock::time_point last_;
  std::thread thread_;
};

/// The rows of a node's tree (from `ctl tree --json`), flattened: name -> row.
std::map<std::string, nlohmann::json> tree_rows(const std::string& connect, const std::string& node) {
  std::map<std::string, nlohmann::json> out;
  auto r = run_troupe({"ctl", connect, "tree", "--node", node, "--json"}, 5s);
  if (r.code != 0)
    return out;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  if (j.is_discarded())
    return out;
  std::function<void(const nlohmann::json&)> walk = [&](const nlohmann::json& n) {
    out[n.at("name").get<std::string>()] = n;
    for (auto& c : n.at("children"))
      walk(c);
  };
  for (auto& top : j.at("nodes").at(0).at("children"))
    walk(top);
  return out;
}

} // namespace

CAF_TEST(every service of every node is restarted by its supervisor and nothing acknowledged is lost) {
  six_nodes c;
  auto connect = c.connect();
  CAF_REQUIRE(wait_until(
    [&] {
      auto st = http_status(c.cports[0] + 1);
      return st && count_state(*st, "up") == 6;
    },
    20s, 100ms));
  CAF_REQUIRE_EQUAL(run_troupe({"ctl", connect, "deploy", "rec", "recorder", "--delivery",
                                "at-least-once"})
                      .code,
                    0);
  CAF_REQUIRE(wait_until(
    [&] { return run_troupe({"ctl", connect, "send", "rec", "probe", "p"}).code == 0; }, 20s,
    100ms));
  // The KV writer: key k<i> = v<i>, acknowledged once committed by a majority and applied.
  stream kv{c.cports, [](caf::scoped_actor& self, const caf::actor& node, uint64_t i,
                          std::string& why) {
              bool ok = false;
              self
                ->request(node, 3s, kv_put_atom::value, "k" + std::to_string(i),
                          "v" + std::to_string(i), int64_t{-1}, uint64_t{77}, i)
                .receive([&](bool done, uint64_t) { ok = done; },
                         [&](const caf::error& e) { why = caf::to_string(e); });
              return ok;
            }};
  // The event stream: at-least-once, acknowledged once its instance handled it (the recorder
  // wrote "<key>\t<payload>" to its worker's file first).
  stream ev{{c.cports[1], c.cports[2], c.cports[0]},
            [](caf::scoped_actor& self, const caf::actor& node, uint64_t i, std::string& why) {
              bool ok = false;
              self
                ->request(node, 10s, route_atom::value, std::string{"rec"},
                          "key" + std::to_string(i % 16), "e" + std::to_string(i))
                .receive([&](const std::string&) { ok = true; },
                         [&](const caf::error& e) { why = caf::to_string(e); });
              return ok;
            }};
  CAF_REQUIRE(wait_until([&] { return kv.count() > 20 && ev.count() > 20; }, 20s));
  kv.reset_gap();
  ev.reset_gap();
  size_t kills = 0;
  struct pause {
    std::string what;
    ms kv;
    ms ev;
  };
  std::vector<pause> pauses;
  for (auto& node : c.names) {
    auto rows = tree_rows(connect, node);
    CAF_REQUIRE(!rows.empty());
    CAF_REQUIRE(rows.count("node") == 1);
    for (auto& [name, row] : rows) {
      if (row.at("kind") != "service")
        continue;
      auto before = row.at("restarts").get<uint32_t>();
      auto kv_before = kv.count();
      auto ev_before = ev.count();
      auto t_kill = clock::now();
      auto k = run_troupe({"ctl", connect, "kill", name, "--node", node}, 5s);
      CAF_CHECK_EQUAL(k.code, 0);
      if (k.code != 0)
        CAF_MESSAGE("kill " << name << " on " << node << ": " << k.err);
      ++kills;
      // Started again (a one-for-all sibling may have been restarted with it), and both
      // streams acknowledge again.
      auto back = wait_until(
        [&] {
          auto now = tree_rows(connect, node);
          auto it = now.find(name);
          return it != now.end() && it->second.at("state") == "running"
                 && it->second.at("restarts").get<uint32_t>() > before;
        },
        15s, 50ms);
      CAF_CHECK(back);
      if (!back)
        CAF_MESSAGE(name << " on " << node << " was not restarted");
      CAF_CHECK(wait_until(
        [&] { return kv.count() > kv_before + 2 && ev.count() > ev_before + 2; }, 15s));
      pauses.push_back({node + " " + name, kv.first_ack_after(t_kill).value_or(ms{-1}),
                        ev.first_ack_after(t_kill).value_or(ms{-1})});
    }
  }
  // The pause each kill caused: from the kill to the next acknowledgement of each stream.
  std::sort(pauses.begin(), pauses.end(), [](auto& a, auto& b) {
    return std::max(a.kv, a.ev) > std::max(b.kv, b.ev);
  });
  for (auto& p : pauses)
    CAF_MESSAGE("pause after killing " << p.what << ": KV " << p.kv.count() << " ms, events "
                                       << p.ev.count() << " ms");
  CAF_MESSAGE(kills << " services killed; longest pause: KV writes " << kv.longest_gap().count()
                    << " ms, at-least-once events " << ev.longest_gap().count() << " ms");
  CAF_CHECK_GREATER_OR_EQUAL(kills, 45u);
  // Every request is answered: a service that dies answers what it owed with an error, and
  // the door on each node's port outlives its ingress, so no client waits for its own timeout
  // (3 s for KV, 10 s for events) to learn that its request went nowhere.
  auto timed_out = [](const std::vector<std::string>& lines) {
    return std::count_if(lines.begin(), lines.end(), [](const std::string& l) {
      return l.find("request_timeout") != std::string::npos;
    });
  };
  for (auto& line : kv.slow())
    CAF_MESSAGE("KV: " << line);
  for (auto& line : ev.slow())
    CAF_MESSAGE("events: " << line);
  CAF_CHECK_EQUAL(timed_out(kv.slow()), 0);
  CAF_CHECK_EQUAL(timed_out(ev.slow()), 0);
  kv.stop();
  ev.stop();
  // Every acknowledged write is there, read linearizably through any coordinator.
  auto written = kv.acked();
  CAF_MESSAGE(written.size() << " KV writes and " << ev.acked().size()
                             << " events acknowledged");
  {
    client_config cfg;
    troupe_system sys{cfg};
    caf::scoped_actor self{sys};
    std::string problem;
    auto node = connect_node(sys, self, endpoint{"127.0.0.1", c.cports[0]}, 2s, problem);
    CAF_REQUIRE(node);
    size_t missing = 0;
    for (auto i : written)
      self->request(node, 5s, kv_get_atom::value, "k" + std::to_string(i))
        .receive(
          [&](bool found, const std::string& v, uint64_t, uint64_t) {
            if (!found || v != "v" + std::to_string(i))
              ++missing;
          },
          [&](const caf::error&) { ++missing; });
    CAF_CHECK_EQUAL(missing, 0u);
  }
  // Every acknowledged event was recorded (at least once) by some worker.
  std::set<std::string> recorded;
  for (int w = 0; w < 3; ++w)
    for (auto& line : lines_of(c.dir + "/w" + std::to_string(w) + "/recorder-rec.log"))
      recorded.insert(line);
  size_t lost = 0;
  for (auto i : ev.acked())
    lost += recorded.count("key" + std::to_string(i % 16) + "\te" + std::to_string(i)) == 0;
  CAF_CHECK_EQUAL(lost, 0u);
}

CAF_TEST(a service killed past its intensity stops the node with exit 70 naming it) {
  // Local mode: the worker gives up, and its coordinator starts it again (a new pid).
  local_cluster node{"supervision-intensity", 1};
  CAF_REQUIRE(node.wait_up(2));
  auto connect = "--connect=127.0.0.1:" + std::to_string(node.port);
  auto w = node.worker(1);
  auto first_pid = node.pid_of(w);
  CAF_REQUIRE(first_pid != 0);
  // Kill its router again and again: past the services' intensity the subtree restarts, past
  // the root's the worker process exits 70.
  int kills = 0;
  auto kill_router = [&](const std::string& via, const std::string& who) {
    auto rows = tree_rows(via, who);
    if (rows.count("router") == 0 || rows.at("router").at("state") != "running") {
      std::this_thread::sleep_for(20ms); // being started again: wait for it
      return;
    }
    if (run_troupe({"ctl", via, "kill", "router", "--node", who}, 3s).code == 0)
      ++kills;
  };
  auto deadline = clock::now() + 60s;
  while (kills < 100 && clock::now() < deadline && node.pid_of(w) == first_pid)
    kill_router(connect, w);
  CAF_CHECK(wait_until([&] { return node.pid_of(w) != first_pid && node.pid_of(w) != 0; }, 20s));
  CAF_CHECK(wait_until([&] { return node.wait_up(2, 1s); }, 20s));
  auto log = node.coord->log();
  CAF_CHECK(log.find(w + " exited with code 70") != std::string::npos);
  CAF_CHECK(log.find("router exited (killed from the console)") != std::string::npos);
  CAF_CHECK(log.find("node gives up") != std::string::npos);
  CAF_MESSAGE("worker gave up after " << kills << " kills of its router");

  // A cluster of one: the process itself exits 70, its last line naming the router.
  local_cluster one{"supervision-one", 0};
  CAF_REQUIRE(one.wait_up(1));
  auto c1 = "--connect=127.0.0.1:" + std::to_string(one.port);
  kills = 0;
  deadline = clock::now() + 60s;
  while (kills < 100 && clock::now() < deadline && one.coord->running())
    kill_router(c1, one.name);
  auto code = one.coord->wait_exit(15s);
  CAF_REQUIRE(code);
  CAF_CHECK_EQUAL(*code, 70);
  auto out = one.coord->log();
  auto last = out.rfind("troupe run: ");
  CAF_REQUIRE(last != std::string::npos);
  CAF_CHECK(out.find("router exited (killed from the console)", last) != std::string::npos);
}
