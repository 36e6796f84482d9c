// Events routed by key to the instances of a deployment on real worker processes.
#define CAF_SUITE routing
#include <caf/test/unit_test.hpp>

#include "tests/integration/local_cluster.hpp"

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <thread>
#include <sstream>

using namespace troupe::it;

namespace {

/// A coordinator and workers that join it over the cluster port, as on separate hosts.
struct hosts {
  uint16_t port = free_port_pair();
  std::string dir;
  std::string coord_at = "127.0.0.1:" + std::to_string(port);
  std::string connect = "--connect=" + coord_at;
  process coord;

  explicit hosts(const std::string& test)
    : dir(temp_dir(test)),
      coord({"run", "--coordinator", "--peers=" + coord_at,
             "--cluster-port=" + std::to_string(port), "--http-port=0", "--name=c",
             "--data-dir=" + dir + "/c", "--threads=2"},
            dir + "/c.log") {
  }

  std::unique_ptr<process> worker(const std::string& name) const {
    return std::make_unique<process>(
      std::vector<std::string>{"run", "--worker", "--name=" + name, "--coordinators=" + coord_at,
                               "--cluster-port=0", "--http-port=0",
                               "--data-dir=" + dir + "/" + name, "--threads=2"},
      dir + "/" + name + ".log");
  }

  /// True when deployment `dep` runs one instance per vnode, spread over `workers` workers.
  bool running_on(const std::string& dep, size_t workers) const {
    auto l = run_troupe({"ctl", connect, "deployments", "--json"});
    if (l.code != 0)
      return false;
    auto listing = nlohmann::json::parse(l.out); // kept: a range over a temporary dangles
    for (auto& d : listing.at("deployments")) {
      if (d.at("name") != dep)
        continue;
      std::set<std::string> on;
      for (auto& i : d.at("instances"))
        on.insert(i.at("worker").get<std::string>());
      return d.at("running") == 64 && on.size() == workers;
    }
    return false;
  }
};

} // namespace

CAF_TEST(events reach the instance of their key and requests get its reply) {
  local_cluster node{"routing", 3};
  CAF_REQUIRE(node.wait_up(4));
  auto connect = "--connect=127.0.0.1:" + std::to_string(node.port);
  CAF_REQUIRE_EQUAL(run_troupe({"ctl", connect, "deploy", "wc", "word-count"}).code, 0);
  CAF_REQUIRE_EQUAL(run_troupe({"ctl", connect, "deploy", "rec", "recorder"}).code, 0);
  // The workers start their instances once the deployment reaches them.
  CAF_REQUIRE(wait_until(
    [&] { return run_troupe({"ctl", connect, "request", "wc", "probe"}).code == 0; }, 10s));
  for (int i = 0; i < 3; ++i)
    CAF_CHECK_EQUAL(run_troupe({"ctl", connect, "send", "wc", "apple", "x"}).code, 0);
  auto r = run_troupe({"ctl", connect, "request", "wc", "apple"});
  CAF_CHECK_EQUAL(r.code, 0);
  CAF_CHECK_EQUAL(r.out, "3\n");
  // 3000 events on 10 keys from stdin: every one recorded once, each key on one worker only,
  // in the order sent.
  auto input = node.dir + "/events.txt";
  {
    std::ofstream out{input};
    for (int i = 0; i < 3000; ++i)
      out << "key" << (i % 10) << "\t" << i << "\n";
  }
  auto sent = run_troupe_input({"ctl", connect, "send", "rec", "--stdin"}, input, 30s);
  CAF_CHECK_EQUAL(sent.code, 0);
  CAF_CHECK_EQUAL(sent.out, "OK sent 3000 events\n");
  std::map<std::string, std::vector<int>> seen;  // key -> payloads in file order
  std::map<std::string, std::set<std::string>> where;
  CAF_CHECK(wait_until(
    [&] {
      size_t total = 0;
      for (int k = 1; k <= 3; ++k)
        total += lines_of(node.dir + "/data/worker-" + std::to_string(k) + "/recorder-rec.log").size();
      return total == 3000;
    },
    10s));
  for (int k = 1; k <= 3; ++k) {
    auto file = node.dir + "/data/worker-" + std::to_string(k) + "/recorder-rec.log";
    for (auto& line : lines_of(file)) {
      auto tab = line.find('\t');
      auto key = line.substr(0, tab);
      seen[key].push_back(std::stoi(line.substr(tab + 1)));
      where[key].insert(file);
    }
  }
  CAF_CHECK_EQUAL(seen.size(), 10u);
  for (auto& [key, payloads] : seen) {
    CAF_CHECK_EQUAL(payloads.size(), 300u);
    CAF_CHECK(std::is_sorted(payloads.begin(), payloads.end()));
    CAF_CHECK_EQUAL(where[key].size(), 1u);
  }
  auto missing = run_troupe({"ctl", connect, "request", "nope", "k"});
  CAF_CHECK_EQUAL(missing.code, 1);
  CAF_CHECK(missing.err.find("no deployment named 'nope'") != std::string::npos);
  auto bad = run_troupe_input({"ctl", connect, "send", "rec", "--stdin"}, node.dir + "/missing", 5s);
  CAF_CHECK_NOT_EQUAL(bad.code, 0);
  // Workers running instances still stop cleanly, and nothing is left behind.
  std::vector<pid_t> workers;
  for (uint32_t k = 1; k <= 3; ++k)
    workers.push_back(node.pid_of(node.worker(k)));
  node.coord->signal(SIGTERM);
  auto code = node.coord->wait_exit(15s);
  CAF_REQUIRE(code);
  CAF_CHECK_EQUAL(*code, 0);
  for (auto pid : workers)
    CAF_CHECK(wait_until([&] { reap_strays(); return !pid_alive(pid); }, 5s));
}

CAF_TEST(without workers a deployment is accepted and an event says no workers) {
  auto port = free_port_pair();
  auto dir = temp_dir("standby");
  process coord{{"run", "--coordinator", "--peers=127.0.0.1:" + std::to_string(port),
                 "--cluster-port=" + std::to_string(port), "--http-port=0", "--name=solo",
                 "--data-dir=" + dir + "/data", "--threads=2"},
                dir + "/solo.log"};
  auto connect = "--connect=127.0.0.1:" + std::to_string(port);
  CAF_REQUIRE(wait_until(
    [&] { return run_troupe({"ctl", connect, "deploy", "e", "echo"}).code == 0; }, 10s));
  // The deploy can be committed before the coordinator's own join, which sizes the vnode map:
  // until then a request is answered "no vnode map yet" (69, try again).
  run_result r;
  CAF_CHECK(wait_until(
    [&] {
      r = run_troupe({"ctl", connect, "request", "e", "k", "hi"});
      return r.code != 69 || r.err.find("no vnode map yet") == std::string::npos;
    },
    10s));
  CAF_CHECK_EQUAL(r.code, 1);
  CAF_CHECK(r.err.find("no workers") != std::string::npos);
}

CAF_TEST(counts survive their vnodes moving to a worker that joins) {
  hosts h{"handoff"};
  auto& dir = h.dir;
  auto worker = [&](const std::string& name) { return h.worker(name); };
  auto w1 = worker("w1");
  auto& connect = h.connect;
  CAF_REQUIRE(wait_until(
    [&] { return run_troupe({"ctl", connect, "deploy", "wc", "word-count"}).code == 0; }, 10s));
  CAF_REQUIRE(wait_until(
    [&] { return run_troupe({"ctl", connect, "request", "wc", "k0"}).code == 0; }, 10s));
  // 20 keys, counted 3 times each, all on w1.
  auto input = dir + "/events.txt";
  {
    std::ofstream out{input};
    for (int round = 0; round < 3; ++round)
      for (int k = 0; k < 20; ++k)
        out << "k" << k << "\tx\n";
  }
  CAF_REQUIRE_EQUAL(run_troupe_input({"ctl", connect, "send", "wc", "--stdin"}, input).code, 0);
  // w2 joins: half the vnodes move to it, with their counts.
  auto w2 = worker("w2");
  CAF_REQUIRE(wait_until([&] { return h.running_on("wc", 2); }, 15s));
  for (int k = 0; k < 20; ++k) {
    auto r = run_troupe({"ctl", connect, "request", "wc", "k" + std::to_string(k)});
    CAF_CHECK_EQUAL(r.code, 0);
    CAF_CHECK_EQUAL(r.out, "3\n");
  }
  CAF_CHECK(w1->log().find("handed over") != std::string::npos);
  if (caf::test::engine::current_test()->bad() > 0)
    std::cout << "---- w1 ----\n" << w1->log() << "---- w2 ----\n" << w2->log();
}

CAF_TEST(at least once deployments lose no accepted event when a worker is killed) {
  local_cluster node{"atleastonce", 3};
  CAF_REQUIRE(node.wait_up(4));
  auto connect = "--connect=127.0.0.1:" + std::to_string(node.port);
  CAF_REQUIRE_EQUAL(
    run_troupe({"ctl", connect, "deploy", "rec", "recorder", "--delivery", "at-least-once"}).code,
    0);
  CAF_REQUIRE(wait_until(
    [&] { return run_troupe({"ctl", connect, "request", "rec", "probe", "p"}).code == 0; },
    10s));
  constexpr int total = 20000;
  auto input = node.dir + "/events.txt";
  {
    std::ofstream out{input};
    for (int i = 0; i < total; ++i)
      out << "key" << (i % 50) << "\t" << i << "\n";
  }
  auto files = [&] {
    std::vector<std::string> out;
    for (int k = 1; k <= 3; ++k)
      out.push_back(node.dir + "/data/worker-" + std::to_string(k) + "/recorder-rec.log");
    return out;
  };
  auto recorded = [&] {
    size_t n = 0;
    for (auto& f : files())
      n += lines_of(f).size();
    return n;
  };
  process sender{{"ctl", connect, "send", "rec", "--stdin", "--timeout=60s"},
                 node.dir + "/sender.log", {}, input};
  // Kill a worker while the events flow.
  CAF_REQUIRE(wait_until([&] { return recorded() > 3000; }, 30s, 5ms));
  auto victim = node.pid_of(node.worker(2));
  CAF_REQUIRE_GREATER(victim, 0);
  ::kill(victim, SIGKILL);
  auto code = sender.wait_exit(90s);
  CAF_REQUIRE(code);
  CAF_CHECK_EQUAL(*code, 0);
  CAF_CHECK(sender.log().find("OK sent 20000 events") != std::string::npos);
  // Every event is in some recorder file (the killed worker's lines stay in its file).
  std::vector<int> count(total, 0);
  size_t lines = 0;
  for (auto& f : files())
    for (auto& line : lines_of(f)) {
      auto tab = line.find('\t');
      if (line.substr(0, tab) == "probe")
        continue;
      ++lines;
      ++count[static_cast<size_t>(std::stoi(line.substr(tab + 1)))];
    }
  auto missing = std::count(count.begin(), count.end(), 0);
  CAF_CHECK_EQUAL(missing, 0);
  CAF_MESSAGE(lines - total << " duplicates among " << lines << " recorded lines");
  if (caf::test::engine::current_test()->bad() > 0)
    std::cout << sender.log();
}

namespace {

/// Deploys word-count as `wc` with a snapshot every `every_ms` and waits until it answers.
bool deploy_word_count(const std::string& connect, int every_ms) {
  return run_troupe({"ctl", connect, "deploy", "wc", "word-count", "--config",
                     "snapshot-every-ms=" + std::to_string(every_ms)})
             .code
           == 0
         && wait_until(
           [&] { return run_troupe({"ctl", connect, "request", "wc", "k0"}).code == 0; }, 10s);
}

} // namespace

CAF_TEST(with periodic snapshots the vnodes of a crashed worker restart from their last state) {
  local_cluster node{"snapshots", 2};
  CAF_REQUIRE(node.wait_up(3));
  auto connect = "--connect=127.0.0.1:" + std::to_string(node.port);
  CAF_REQUIRE(deploy_word_count(connect, 200));
  auto input = node.dir + "/events.txt";
  {
    std::ofstream out{input};
    for (int round = 0; round < 3; ++round)
      for (int k = 0; k < 20; ++k)
        out << "k" << k << "\tx\n";
  }
  CAF_REQUIRE_EQUAL(run_troupe_input({"ctl", connect, "send", "wc", "--stdin"}, input).code, 0);
  std::this_thread::sleep_for(800ms); // a few snapshot periods
  auto victim = node.pid_of(node.worker(1));
  CAF_REQUIRE_GREATER(victim, 0);
  ::kill(victim, SIGKILL);
  // Its vnodes restart on worker 2 from their snapshots, and come back when it is restarted.
  CAF_CHECK(wait_until(
    [&] {
      for (int k = 0; k < 20; ++k) {
        auto r = run_troupe({"ctl", connect, "request", "wc", "k" + std::to_string(k)});
        if (r.code != 0 || r.out != "3\n")
          return false;
      }
      return true;
    },
    20s, 200ms));
  auto st = node.status();
  CAF_REQUIRE(st);
  CAF_CHECK(node.coord->log().find("starts from its last snapshot") != std::string::npos);
}

CAF_TEST(a deployment with snapshots writes them only when its state changed) {
  local_cluster node{"snapshots-idle", 1};
  CAF_REQUIRE(node.wait_up(2));
  auto connect = "--connect=127.0.0.1:" + std::to_string(node.port);
  CAF_REQUIRE(deploy_word_count(connect, 100));
  // The snapshots saved: vnode -> the log index of its last save (records without one
  // aside). They live in the instance records, not in the KV namespace.
  auto snapshots = [&] {
    std::map<uint32_t, uint64_t> out;
    auto r = run_troupe({"ctl", connect, "snapshots", "wc", "--json"});
    if (r.code != 0)
      return out;
    auto records = nlohmann::json::parse(r.out); // kept: a range over a temporary dangles
    for (auto& rec : records)
      if (rec.at("saved_index").get<uint64_t>() > 0)
        out[rec.at("vnode").get<uint32_t>()] = rec.at("saved_index").get<uint64_t>();
    return out;
  };
  auto kv_revision = [&] {
    auto r = run_troupe({"kv", "list", "", "--json", connect});
    return r.code == 0 ? nlohmann::json::parse(r.out).at("revision").get<uint64_t>() : 0;
  };
  auto input = node.dir + "/events.txt";
  std::ofstream{input} << "k0\tx\nk0\tx\nk0\tx\n";
  // Events for one key, in one batch: the snapshot of its vnode is written once.
  CAF_REQUIRE_EQUAL(run_troupe_input({"ctl", connect, "send", "wc", "--stdin"}, input).code, 0);
  CAF_REQUIRE(wait_until([&] { return snapshots().size() == 1; }, 5s));
  auto before = snapshots();
  auto revision = kv_revision();
  // 30 snapshot periods with no event: nothing written.
  std::this_thread::sleep_for(3s); // the property is over time: nothing may happen in it
  CAF_CHECK(snapshots() == before);
  // A new event changes the state: its snapshot is written again.
  CAF_REQUIRE_EQUAL(run_troupe({"ctl", connect, "send", "wc", "k0", "x"}).code, 0);
  auto key = before.begin()->first;
  CAF_CHECK(wait_until([&] { return snapshots()[key] > before[key]; }, 5s));
  CAF_CHECK_EQUAL(run_troupe({"ctl", connect, "request", "wc", "k0"}).out, "4\n");
  // Saving them bumped no KV revision, and the KV namespace holds none of them.
  CAF_CHECK_EQUAL(kv_revision(), revision);
  auto kv = run_troupe({"kv", "list", "", "--json", connect});
  CAF_CHECK_EQUAL(nlohmann::json::parse(kv.out).at("items").size(), 0u);
  // Undeploy drops them.
  CAF_REQUIRE_EQUAL(run_troupe({"ctl", connect, "undeploy", "wc"}).code, 0);
  CAF_CHECK(snapshots().empty());
}

CAF_TEST(a worker stopped gracefully hands its vnodes over before it leaves) {
  hosts h{"leave"};
  auto& dir = h.dir;
  auto& coord = h.coord;
  auto worker = [&](const std::string& name) { return h.worker(name); };
  auto w1 = worker("w1");
  auto w2 = worker("w2");
  auto& connect = h.connect;
  CAF_REQUIRE(wait_until(
    [&] { return run_troupe({"ctl", connect, "deploy", "wc", "word-count"}).code == 0; }, 10s));
  CAF_REQUIRE(wait_until([&] { return h.running_on("wc", 2); }, 15s));
  auto input = dir + "/events.txt";
  {
    std::ofstream out{input};
    for (int round = 0; round < 3; ++round)
      for (int k = 0; k < 20; ++k)
        out << "k" << k << "\tx\n";
  }
  CAF_REQUIRE_EQUAL(run_troupe_input({"ctl", connect, "send", "wc", "--stdin"}, input).code, 0);
  w2->signal(SIGTERM);
  auto code = w2->wait_exit(15s);
  CAF_REQUIRE(code);
  CAF_CHECK_EQUAL(*code, 0);
  CAF_CHECK(w2->log().find("32 handed over") != std::string::npos);
  for (int k = 0; k < 20; ++k) {
    auto r = run_troupe({"ctl", connect, "request", "wc", "k" + std::to_string(k)});
    CAF_CHECK_EQUAL(r.code, 0);
    CAF_CHECK_EQUAL(r.out, "3\n");
  }
  if (caf::test::engine::current_test()->bad() > 0)
    std::cout << "---- w2 ----\n" << w2->log() << "---- c ----\n" << coord.log();
}

CAF_TEST(the vnodes of a dead worker move only after its lease ran out) {
  hosts h{"lease"};
  auto worker = [&](const std::string& name) { return h.worker(name); };
  auto w1 = worker("w1");
  auto w2 = worker("w2");
  auto& connect = h.connect;
  auto owners = [&]() -> std::map<std::string, int> {
    auto r = run_troupe({"status", "--json", connect});
    std::map<std::string, int> out;
    if (r.code != 0)
      return out;
    auto status = nlohmann::json::parse(r.out); // kept: a range over a temporary dangles
    for (auto& m : status.at("members"))
      if (m.at("vnodes").get<int>() > 0)
        out[m.at("name").get<std::string>()] = m.at("vnodes").get<int>();
    return out;
  };
  CAF_REQUIRE(wait_until([&] { return owners() == std::map<std::string, int>{{"w1", 32}, {"w2", 32}}; },
                         15s));
  auto t0 = clock::now();
  w2->signal(SIGKILL);
  w2->wait_exit(5s);
  CAF_REQUIRE(wait_until([&] { return owners() == std::map<std::string, int>{{"w1", 64}}; }, 10s, 20ms));
  auto took = std::chrono::duration_cast<ms>(clock::now() - t0);
  CAF_MESSAGE("the vnodes of the killed worker moved " << took.count() << " ms after SIGKILL");
  // The lease is two thirds of the 1500 ms failure timeout.
  CAF_CHECK_GREATER_OR_EQUAL(took, 1000ms);
}
