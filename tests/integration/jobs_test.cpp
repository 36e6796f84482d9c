#define CAF_SUITE jobs
#include <caf/test/unit_test.hpp>

#include "tests/integration/local_cluster.hpp"

#include <signal.h>

#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

using namespace troupe::it;

namespace {

/// The counts of `queue` (ctl jobs QUEUE --json); null when the command fails.
nlohmann::json queue_view(const std::string& connect, const std::string& queue) {
  auto r = run_troupe({"ctl", connect, "jobs", queue, "--json"});
  if (r.code != 0)
    return nullptr;
  return nlohmann::json::parse(r.out, nullptr, false);
}

size_t count_of(const nlohmann::json& view, const char* what) {
  return view.is_object() ? view.at(what).get<size_t>() : 0;
}

/// The (job id -> epochs) sleep-job recorded in the data folders of workers 1..n: one line per
/// attempt that finished its work, counted or not.
std::map<std::string, std::vector<uint64_t>> effects(const std::string& data, uint32_t n) {
  std::map<std::string, std::vector<uint64_t>> out;
  for (uint32_t k = 1; k <= n; ++k) {
    std::ifstream in{data + "/worker-" + std::to_string(k) + "/sleep-job.effects"};
    std::string line;
    while (std::getline(in, line)) {
      auto tab = line.find('\t');
      if (tab == std::string::npos || tab + 1 >= line.size())
        continue; // a line cut short by a SIGKILL
      out[line.substr(0, tab)].push_back(std::stoull(line.substr(tab + 1)));
    }
  }
  return out;
}

} // namespace

CAF_TEST(10000 jobs end done once each though two workers are killed and one paused past the timeout) {
  local_cluster node{"jobs", 3};
  CAF_REQUIRE(node.wait_up(4));
  auto connect = "--connect=127.0.0.1:" + std::to_string(node.port);
  CAF_REQUIRE_EQUAL(run_troupe({"ctl", connect, "queue", "create", "sleepy", "sleep-job",
                                "--slots-per-worker", "2", "--timeout", "1s", "--max-attempts",
                                "50", "--backoff", "20ms"})
                      .code,
                    0);
  constexpr size_t total = 10000;
  auto payloads = node.dir + "/payloads.txt";
  {
    std::mt19937 rng{42};
    std::ofstream out{payloads};
    for (size_t i = 0; i < total; ++i)
      out << rng() % 21 << '\n';
  }
  auto sub = run_troupe_input({"ctl", connect, "jobs", "submit", "sleepy", "--stdin"}, payloads,
                              60s);
  CAF_REQUIRE_EQUAL(sub.code, 0);
  std::set<std::string> ids;
  std::istringstream lines{sub.out};
  for (std::string id; std::getline(lines, id);)
    ids.insert(id);
  CAF_REQUIRE_EQUAL(ids.size(), total);
  auto done_at_least = [&](size_t n) {
    return wait_until([&] { return count_of(queue_view(connect, "sleepy"), "done") >= n; }, 60s,
                      50ms);
  };
  // Two workers are killed while they run jobs (the coordinator starts them again), and the
  // third is paused past the queue's timeout (not past the failure timeout: it stays a member,
  // so its attempts come back by timing out, and its handlers finish after they were fenced).
  for (uint32_t k : {1u, 2u}) {
    CAF_REQUIRE(done_at_least(2000 * k));
    auto pid = node.pid_of(node.worker(k));
    CAF_REQUIRE_GREATER(pid, 0);
    CAF_MESSAGE("SIGKILL " << node.worker(k));
    ::kill(pid, SIGKILL);
  }
  CAF_REQUIRE(done_at_least(6000));
  auto paused = node.pid_of(node.worker(3));
  CAF_REQUIRE_GREATER(paused, 0);
  CAF_MESSAGE("SIGSTOP " << node.worker(3) << " for 1.2 s");
  ::kill(paused, SIGSTOP);
  std::this_thread::sleep_for(1200ms); // the pause is the fault itself, not a wait for it
  ::kill(paused, SIGCONT);
  CAF_REQUIRE(wait_until(
    [&] {
      auto v = queue_view(connect, "sleepy");
      return count_of(v, "done") + count_of(v, "dead") == total;
    },
    120s, 100ms));
  auto v = queue_view(connect, "sleepy");
  CAF_CHECK_EQUAL(count_of(v, "done"), total);
  CAF_CHECK_EQUAL(count_of(v, "dead"), 0u);
  CAF_CHECK_EQUAL(count_of(v, "pending") + count_of(v, "running"), 0u);
  // Each job was done by exactly one attempt: the epoch the table recorded for it. Its effect
  // is in the handlers' records once; effects of attempts that were taken back carry other
  // epochs, which is what a handler keys its side effects by to make them happen once.
  auto listed = run_troupe({"ctl", connect, "jobs", "list", "sleepy", "done", "--json"}, 30s);
  CAF_REQUIRE_EQUAL(listed.code, 0);
  auto done = nlohmann::json::parse(listed.out).at("jobs");
  CAF_REQUIRE_EQUAL(done.size(), total);
  auto fx = effects(node.dir + "/data", 3);
  size_t counted = 0, extra = 0, missing = 0, twice = 0;
  for (auto& j : done) {
    auto id = j.at("id").get<std::string>();
    auto epoch = j.at("epoch").get<uint64_t>();
    CAF_CHECK(ids.count(id) == 1);
    auto& seen = fx[id];
    auto n = std::count(seen.begin(), seen.end(), epoch);
    if (n == 0)
      ++missing;
    else if (n > 1)
      ++twice;
    else
      ++counted;
    extra += seen.size() - static_cast<size_t>(n);
  }
  CAF_MESSAGE(counted << " jobs done once by their counted attempt; " << extra
                      << " effects of attempts that were taken back (fenced)");
  CAF_CHECK_EQUAL(counted, total);
  CAF_CHECK_EQUAL(missing, 0u);
  CAF_CHECK_EQUAL(twice, 0u);
}

CAF_TEST(jobs that always fail end dead after max attempts and come back on retry) {
  local_cluster node{"jobsdead", 2};
  CAF_REQUIRE(node.wait_up(3));
  auto connect = "--connect=127.0.0.1:" + std::to_string(node.port);
  // Bad input is refused with a reason.
  auto r = run_troupe({"ctl", connect, "queue", "create", "doomed", "no-such-type"});
  CAF_CHECK_EQUAL(r.code, 1);
  CAF_CHECK(r.err.find("no worker has actor type 'no-such-type'") != std::string::npos);
  r = run_troupe({"ctl", connect, "jobs", "submit", "doomed", "fail"});
  CAF_CHECK_EQUAL(r.code, 1);
  CAF_CHECK(r.err.find("no queue 'doomed'") != std::string::npos);
  CAF_REQUIRE_EQUAL(run_troupe({"ctl", connect, "queue", "create", "doomed", "sleep-job",
                                "--max-attempts", "3", "--backoff", "10ms"})
                      .code,
                    0);
  auto payloads = node.dir + "/fail.txt";
  {
    std::ofstream out{payloads};
    for (int i = 0; i < 50; ++i)
      out << "fail\n";
  }
  CAF_REQUIRE_EQUAL(
    run_troupe_input({"ctl", connect, "jobs", "submit", "doomed", "--stdin"}, payloads).code, 0);
  auto all_dead = [&] {
    return wait_until([&] { return count_of(queue_view(connect, "doomed"), "dead") == 50; }, 30s,
                      50ms);
  };
  CAF_REQUIRE(all_dead());
  auto dead = run_troupe({"ctl", connect, "jobs", "dead", "doomed", "--json"});
  CAF_REQUIRE_EQUAL(dead.code, 0);
  for (auto& j : nlohmann::json::parse(dead.out).at("dead")) {
    CAF_CHECK_EQUAL(j.at("attempts").get<uint32_t>(), 3u);
    CAF_CHECK_EQUAL(j.at("last_error").get<std::string>(), "failed, as asked");
  }
  CAF_CHECK_EQUAL(count_of(queue_view(connect, "doomed"), "done"), 0u);
  // Operators see it: the queue's gauges in /metrics, and the cluster yellow for its dead letters.
  CAF_CHECK_EQUAL(metric_of(node.http_port(), "troupe_jobs_queue_dead{queue=\"doomed\"}"), 50);
  nlohmann::json health;
  CAF_CHECK(wait_until(
    [&] {
      auto r = run_troupe({"status", connect, "--json"});
      if (r.code != 0)
        return false;
      health = nlohmann::json::parse(r.out).at("cluster_health");
      return health.at("level") == "yellow";
    },
    10s, 100ms));
  CAF_MESSAGE("health: " << health.dump());
  CAF_CHECK(health.dump().find("queue doomed has 50 dead letters") != std::string::npos);
  // Retried, every dead letter runs its attempts again and ends dead again.
  CAF_REQUIRE_EQUAL(run_troupe({"ctl", connect, "jobs", "retry", "doomed"}).code, 0);
  CAF_CHECK(wait_until([&] { return count_of(queue_view(connect, "doomed"), "dead") < 50; }, 10s,
                       5ms));
  CAF_REQUIRE(all_dead());
  // A job that is not a dead letter is not retried.
  auto id = run_troupe({"ctl", connect, "jobs", "submit", "doomed", "0", "--id", "quick"});
  CAF_REQUIRE_EQUAL(id.code, 0);
  CAF_CHECK(wait_until([&] { return count_of(queue_view(connect, "doomed"), "done") == 1; }, 10s));
  r = run_troupe({"ctl", connect, "jobs", "retry", "doomed", "quick"});
  CAF_CHECK_EQUAL(r.code, 1);
  CAF_CHECK(r.err.find("not a dead letter") != std::string::npos);
}
