#define CAF_SUITE local_cluster
#include <caf/test/unit_test.hpp>

#include "tests/integration/local_cluster.hpp"

#include <signal.h>

#include <algorithm>
#include <fstream>
#include <map>

using namespace troupe::it;

CAF_TEST(three local workers join and all four members are up) {
  local_cluster node{"local3", 3};
  CAF_REQUIRE(node.wait_up(4));
  auto st = *node.status();
  for (uint32_t k = 1; k <= 3; ++k) {
    auto m = member(st, node.worker(k));
    CAF_REQUIRE(m);
    CAF_CHECK_EQUAL(m->at("roles"), nlohmann::json::array({"worker"}));
    CAF_CHECK_EQUAL(m->at("instance_id"), st.at("cluster_id").get<std::string>() + "-"
                                            + std::to_string(k));
  }
  auto c = member(st, node.name);
  CAF_REQUIRE(c);
  CAF_CHECK_EQUAL(c->at("roles"), nlohmann::json::array({"coordinator"}));
  // Any node answers status, workers included: ask worker 2 on its own cluster port.
  auto w2 = member(st, node.worker(2));
  auto r = run_troupe({"status", "--connect", w2->at("address").get<std::string>(), "--json"});
  CAF_REQUIRE_EQUAL(r.code, 0);
  auto via_worker = nlohmann::json::parse(r.out);
  CAF_CHECK_EQUAL(via_worker.at("answered_by"), node.worker(2));
  CAF_CHECK_EQUAL(count_state(via_worker, "up"), 4u);
  // Each worker has its own data folder.
  for (uint32_t k = 1; k <= 3; ++k)
    CAF_CHECK(std::filesystem::is_directory(node.dir + "/data/worker-" + std::to_string(k)));
}

CAF_TEST(a killed worker is down within 500 ms and restarted with a new pid) {
  local_cluster node{"kill", 3};
  CAF_REQUIRE(node.wait_up(4));
  auto victim = node.worker(2);
  auto old_pid = node.pid_of(victim);
  CAF_REQUIRE_GREATER(old_pid, 0);
  auto t0 = clock::now();
  ::kill(old_pid, SIGKILL);
  // Down, or already replaced by its restart: either way the crash was seen.
  bool seen = wait_until(
    [&] { return node.state_of(victim) == "down" || node.pid_of(victim) != old_pid; }, 2s, 5ms);
  auto took = std::chrono::duration_cast<ms>(clock::now() - t0);
  CAF_REQUIRE(seen);
  CAF_MESSAGE("crash seen after " << took.count() << " ms");
  CAF_CHECK_LESS_OR_EQUAL(took, 500ms);
  CAF_CHECK(wait_until(
    [&] { return node.state_of(victim) == "up" && node.pid_of(victim) != old_pid; }, 10s));
  CAF_CHECK(node.coord->log().find(victim + " was killed by signal 9") != std::string::npos);
}

CAF_TEST(a hung worker is down within the failure timeout then killed and restarted) {
  local_cluster node{"stop", 2};
  CAF_REQUIRE(node.wait_up(3));
  auto victim = node.worker(1);
  auto pid = node.pid_of(victim);
  CAF_REQUIRE_GREATER(pid, 0);
  auto t0 = clock::now();
  ::kill(pid, SIGSTOP);
  bool seen_suspect = false;
  bool down = wait_until(
    [&] {
      auto s = node.state_of(victim);
      seen_suspect |= s == "suspect";
      return s == "down";
    },
    5s, 10ms);
  auto took = std::chrono::duration_cast<ms>(clock::now() - t0);
  CAF_REQUIRE(down);
  CAF_MESSAGE("hang seen after " << took.count() << " ms (failure timeout 1500 ms)");
  CAF_CHECK(seen_suspect);
  CAF_CHECK_LESS_OR_EQUAL(took, 2000ms);
  // Its supervisor kills the hung process and starts a new one.
  CAF_CHECK(wait_until([&] { return !pid_alive(pid); }, 5s));
  CAF_CHECK(wait_until(
    [&] { return node.state_of(victim) == "up" && node.pid_of(victim) != pid; }, 10s));
  CAF_CHECK(node.coord->log().find(victim + " (pid " + std::to_string(pid)
                                   + ") is down but its process still runs")
            != std::string::npos);
}

CAF_TEST(SIGTERM stops every worker gracefully and leaves no process behind) {
  local_cluster node{"term", 3};
  CAF_REQUIRE(node.wait_up(4));
  std::vector<pid_t> pids;
  for (uint32_t k = 1; k <= 3; ++k)
    pids.push_back(node.pid_of(node.worker(k)));
  auto t0 = clock::now();
  node.coord->signal(SIGTERM);
  CAF_CHECK_EQUAL(node.coord->wait_exit(10s).value_or(-1), 0);
  CAF_MESSAGE("stopped in " << std::chrono::duration_cast<ms>(clock::now() - t0).count()
                            << " ms");
  CAF_CHECK_LESS(clock::now() - t0, 5s);
  for (auto pid : pids)
    CAF_CHECK(!pid_alive(pid));
  auto log = node.coord->log();
  for (uint32_t k = 1; k <= 3; ++k) {
    auto line = "member " + node.worker(k) + " (incarnation ";
    auto at = log.find(line);
    bool left = false;
    for (; at != std::string::npos; at = log.find(line, at + 1))
      left |= log.compare(log.find(':', at + line.size()) - 4, 4, "left") == 0;
    CAF_CHECK(left);
  }
}

CAF_TEST(workers of a killed coordinator exit on their own) {
  local_cluster node{"orphans", 3};
  CAF_REQUIRE(node.wait_up(4));
  std::vector<pid_t> pids;
  for (uint32_t k = 1; k <= 3; ++k)
    pids.push_back(node.pid_of(node.worker(k)));
  node.coord->signal(SIGKILL);
  node.coord->wait_exit(5s);
  // This test process is a subreaper: the orphans are reparented here and reaped here.
  bool all_gone = wait_until(
    [&] {
      reap_strays();
      for (auto pid : pids)
        if (pid_alive(pid))
          return false;
      return true;
    },
    3s);
  CAF_CHECK(all_gone);
  for (auto pid : pids)
    if (pid_alive(pid))
      ::kill(pid, SIGKILL);
  reap_strays();
}

CAF_TEST(a worker with a configuration error is not restarted and stops the node) {
  auto port = free_port_pair();
  auto dir = temp_dir("cfgerr");
  std::filesystem::create_directories(dir + "/data");
  std::ofstream{dir + "/data/worker-2"} << "a file where worker 2's data folder should be\n";
  auto name = "n" + std::to_string(port);
  process p{{"run", "--name=" + name, "--cluster-port=" + std::to_string(port),
             "--data-dir=" + dir + "/data", "--workers=3", "--threads=2"},
            dir + "/node.log"};
  auto code = p.wait_exit(15s);
  CAF_REQUIRE(code);
  CAF_CHECK_EQUAL(*code, 78);
  auto log = p.log();
  auto started = std::string{"started "} + name + "-worker-2 as pid";
  auto first = log.find(started);
  CAF_CHECK(first != std::string::npos);
  CAF_CHECK(log.find(started, first + 1) == std::string::npos); // started once, never again
  CAF_CHECK(log.find(name + "-worker-2 exited with a configuration error") != std::string::npos);
  if (caf::test::engine::current_test()->bad() > 0)
    std::cout << log;
}

CAF_TEST(past the restart intensity the node gives up naming the worker) {
  local_cluster node{"intensity", 1,
                     {"--restart-max=2", "--restart-period=60s", "--restart-backoff=10ms",
                      "--restart-backoff-max=20ms"}};
  CAF_REQUIRE(node.wait_up(2));
  auto victim = node.worker(1);
  for (int i = 0; i < 2; ++i) {
    auto pid = node.pid_of(victim);
    CAF_REQUIRE_GREATER(pid, 0);
    ::kill(pid, SIGKILL);
    CAF_REQUIRE(wait_until(
      [&] { return node.state_of(victim) == "up" && node.pid_of(victim) != pid; }, 10s));
  }
  ::kill(node.pid_of(victim), SIGKILL);
  auto code = node.coord->wait_exit(10s);
  CAF_REQUIRE(code);
  CAF_CHECK_EQUAL(*code, 70);
  auto log = node.coord->log();
  CAF_CHECK(log.find(victim + " was killed by signal 9 (Killed) after 2 restarts within 1min: giving up") != std::string::npos);
}

namespace {

/// The vnode counts of the workers in a status, by name.
std::map<std::string, uint32_t> vnode_counts(const nlohmann::json& st) {
  std::map<std::string, uint32_t> out;
  for (auto& m : st.at("members"))
    if (m.at("state") == "up" && std::find(m.at("roles").begin(), m.at("roles").end(), "worker")
                                   != m.at("roles").end())
      out[m.at("name").get<std::string>()] = m.at("vnodes").get<uint32_t>();
  return out;
}

bool spread_is(const local_cluster& node, std::vector<uint32_t> want) {
  auto st = node.status();
  if (!st)
    return false;
  std::vector<uint32_t> got;
  for (auto& [name, n] : vnode_counts(*st))
    got.push_back(n);
  std::sort(got.begin(), got.end());
  std::sort(want.begin(), want.end());
  return got == want;
}

} // namespace

CAF_TEST(vnodes spread evenly over the workers and stay through a quick restart) {
  local_cluster node{"vnodes", 3, {"--vnodes=100"}};
  CAF_REQUIRE(node.wait_up(4));
  CAF_CHECK(wait_until([&] { return spread_is(node, {34, 33, 33}); }, 5s));
  auto victim = node.pid_of(node.worker(2));
  CAF_REQUIRE_GREATER(victim, 0);
  ::kill(victim, SIGKILL);
  // Its vnodes stay its own for its lease (it might still be serving them); its supervisor
  // restarts it sooner, under the same name, so they never move and the spread holds.
  CAF_CHECK(wait_until([&] { return node.pid_of(node.worker(2)) != victim; }, 10s));
  CAF_CHECK(wait_until([&] { return spread_is(node, {34, 33, 33}); }, 10s));
  auto st = node.status();
  CAF_REQUIRE(st);
  uint32_t total = 0;
  for (auto& [name, n] : vnode_counts(*st))
    total += n;
  CAF_CHECK_EQUAL(total, 100u);
}

CAF_TEST(a cluster of one owns every vnode) {
  local_cluster node{"vnodes1", 0};
  CAF_REQUIRE(node.wait_up(1));
  CAF_CHECK(wait_until([&] { return spread_is(node, {64}); }, 5s));
}

CAF_TEST(ctl deploys lists and undeploys through any node) {
  local_cluster node{"ctl", 1};
  CAF_REQUIRE(node.wait_up(2));
  auto connect = "--connect=127.0.0.1:" + std::to_string(node.port);
  auto r = run_troupe({"ctl", connect, "deploy", "wc", "word-count", "--config", "k=v",
                       "--routing", "round-robin"});
  CAF_CHECK_EQUAL(r.code, 0);
  auto again = run_troupe({"ctl", connect, "deploy", "wc", "echo"});
  CAF_CHECK_EQUAL(again.code, 1);
  CAF_CHECK(again.err.find("undeploy it first") != std::string::npos);
  auto list = run_troupe({"ctl", connect, "deployments", "--json"});
  CAF_REQUIRE_EQUAL(list.code, 0);
  auto j = nlohmann::json::parse(list.out);
  CAF_REQUIRE_EQUAL(j.at("deployments").size(), 1u);
  auto& d = j.at("deployments")[0];
  CAF_CHECK_EQUAL(d.at("name").get<std::string>(), "wc");
  CAF_CHECK_EQUAL(d.at("type").get<std::string>(), "word-count");
  CAF_CHECK_EQUAL(d.at("routing").get<std::string>(), "round-robin");
  CAF_CHECK_EQUAL(d.at("config").at("k").get<std::string>(), "v");
  // Its instances run on the worker, one per vnode, and the listing shows them.
  CAF_CHECK(wait_until(
    [&] {
      auto l = run_troupe({"ctl", connect, "deployments", "--json"});
      if (l.code != 0)
        return false;
      auto dep = nlohmann::json::parse(l.out).at("deployments")[0];
      return dep.at("vnodes") == 64 && dep.at("running") == 64
             && dep.at("instances")[0].at("worker") == node.worker(1);
    },
    10s));
  CAF_CHECK_EQUAL(run_troupe({"ctl", connect, "undeploy", "wc"}).code, 0);
  CAF_CHECK_EQUAL(run_troupe({"ctl", connect, "undeploy", "wc"}).code, 1);
  CAF_CHECK_EQUAL(run_troupe({"ctl", connect, "deploy", "bad name", "echo"}).code, 64);
  CAF_CHECK_EQUAL(run_troupe({"ctl", "--connect=127.0.0.1:1", "deployments"}).code, 69);
}

CAF_TEST(ctl members status vnodes and kv answer in JSON and errors are clear) {
  local_cluster node{"ctl2", 2, {"--vnodes=8"}};
  CAF_REQUIRE(node.wait_up(3));
  auto connect = "--connect=127.0.0.1:" + std::to_string(node.port);
  auto members = run_troupe({"ctl", connect, "members", "--json"});
  CAF_REQUIRE_EQUAL(members.code, 0);
  auto mj = nlohmann::json::parse(members.out);
  CAF_CHECK_EQUAL(mj.at("members").size(), 3u);
  auto status = run_troupe({"ctl", connect, "status", "--json"});
  CAF_REQUIRE_EQUAL(status.code, 0);
  CAF_CHECK_EQUAL(nlohmann::json::parse(status.out).at("answered_by").get<std::string>(), node.name);
  CAF_REQUIRE(wait_until(
    [&] {
      auto v = run_troupe({"ctl", connect, "vnodes", "--json"});
      if (v.code != 0)
        return false;
      auto vj = nlohmann::json::parse(v.out);
      std::map<std::string, int> owners;
      for (auto& x : vj.at("vnodes"))
        ++owners[x.at("owner").get<std::string>()];
      return vj.at("vnodes").size() == 8 && owners[node.worker(1)] == 4
             && owners[node.worker(2)] == 4;
    },
    10s));
  CAF_CHECK_EQUAL(run_troupe({"ctl", connect, "kv", "put", "k", "v"}).code, 0);
  auto got = run_troupe({"ctl", connect, "--json", "kv", "get", "k"});
  CAF_REQUIRE_EQUAL(got.code, 0);
  CAF_CHECK_EQUAL(nlohmann::json::parse(got.out).at("value").get<std::string>(), "v");
  auto unknown = run_troupe({"ctl", connect, "frobnicate"});
  CAF_CHECK_EQUAL(unknown.code, 64);
  CAF_CHECK(unknown.err.find("unknown command 'frobnicate'") != std::string::npos);
  auto incomplete = run_troupe({"ctl", connect, "publish", "topic"});
  CAF_CHECK_EQUAL(incomplete.code, 64);
  CAF_CHECK(incomplete.err.find("payload is required") != std::string::npos);
  auto away = run_troupe({"ctl", "--connect=127.0.0.1:1", "members"});
  CAF_CHECK_EQUAL(away.code, 69);
  CAF_CHECK_EQUAL(std::count(away.err.begin(), away.err.end(), '\n'), 1);
}
