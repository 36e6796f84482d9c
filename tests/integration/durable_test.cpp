#define CAF_SUITE durable
#include <caf/test/unit_test.hpp>

#include "tests/integration/local_cluster.hpp"

#include <signal.h>

#include <atomic>
#include <fstream>
#include <map>
#include <thread>

using namespace troupe::it;

namespace {

/// Deploys `word-count` as a durable at-least-once "wc" and waits until it answers.
bool deploy_durable(const std::string& connect, std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"ctl", connect, "deploy", "wc", "word-count", "--durable",
                                "--delivery", "at-least-once"};
  args.insert(args.end(), extra.begin(), extra.end());
  return wait_until([&] { return run_troupe(args).code == 0; }, 10s)
         && wait_until(
           [&] { return run_troupe({"ctl", connect, "request", "wc", "k0", ""}).code == 0; },
           15s);
}

/// The count word-count holds for `key` (a request with an empty payload counts nothing).
std::string count_of(const std::string& connect, const std::string& key) {
  auto r = run_troupe({"ctl", connect, "request", "wc", key, ""}, 40s);
  return r.code == 0 ? r.out : "failed: " + r.err;
}

/// The instance records of `name` (ctl snapshots NAME --json); null when the command fails.
nlohmann::json records_of(const std::string& connect, const std::string& name) {
  auto r = run_troupe({"ctl", connect, "snapshots", name, "--json"});
  return r.code == 0 ? nlohmann::json::parse(r.out, nullptr, false) : nlohmann::json{};
}

/// The Raft commit index of the coordinator, as its status reports it (0: unknown).
uint64_t commit_index(const local_cluster& node) {
  auto st = node.status();
  if (!st)
    return 0;
  auto m = member(*st, node.name);
  return m && m->contains("raft") ? m->at("raft").at("commit_index").get<uint64_t>() : 0;
}

} // namespace

CAF_TEST(a durable counter keeps exactly the acknowledged events while each worker is killed) {
  local_cluster node{"durable-kill", 3};
  CAF_REQUIRE(node.wait_up(4));
  auto connect = "--connect=127.0.0.1:" + std::to_string(node.port);
  CAF_REQUIRE(deploy_durable(connect));
  // 100,000 events for 7 keys, key k weighted k + 1 (each count differs), in 20 chunks of
  // 5,000, each one `send --stdin` (batches of 1,000; each answered once every event in it was
  // logged and handled).
  constexpr int chunks = 20;
  constexpr int per_chunk = 5000;
  std::vector<std::string> files;
  std::vector<std::map<std::string, uint64_t>> chunk_counts(chunks);
  std::vector<std::string> cycle; // k0 once, k1 twice, ... k6 seven times
  for (int k = 0; k < 7; ++k)
    for (int i = 0; i <= k; ++i)
      cycle.push_back("k" + std::to_string(k));
  uint64_t n = 0;
  for (int c = 0; c < chunks; ++c) {
    files.push_back(node.dir + "/chunk-" + std::to_string(c) + ".txt");
    std::ofstream out{files.back()};
    for (int i = 0; i < per_chunk; ++i, ++n) {
      auto& key = cycle[n % cycle.size()];
      out << key << "\tx\n";
      ++chunk_counts[c][key];
    }
  }
  std::map<std::string, uint64_t> acked;
  std::atomic<int> done{0};
  std::atomic<int> failed{0};
  std::string failures;
  std::thread sender([&] {
    for (int c = 0; c < chunks; ++c) {
      auto r = run_troupe_input({"ctl", connect, "send", "wc", "--stdin", "--timeout=60s"},
                                files[c], 90s);
      if (r.code == 0) {
        for (auto& [k, v] : chunk_counts[c])
          acked[k] += v;
      } else {
        ++failed;
        failures += "chunk " + std::to_string(c) + ": " + r.err;
      }
      ++done;
    }
  });
  // Each worker in turn is SIGKILLed while events flow; local mode starts it again.
  for (uint32_t w = 1; w <= 3; ++w) {
    auto at = 2 + 6 * static_cast<int>(w - 1);
    CAF_CHECK(wait_until([&] { return done.load() >= at; }, 120s, 5ms));
    auto pid = node.pid_of(node.worker(w));
    CAF_REQUIRE_GREATER(pid, 0);
    CAF_MESSAGE("SIGKILL " << node.worker(w) << " after " << done.load() << " chunks");
    ::kill(pid, SIGKILL);
    CAF_CHECK(wait_until(
      [&] {
        auto now = node.pid_of(node.worker(w));
        return now > 0 && now != pid && node.state_of(node.worker(w)) == "up";
      },
      30s));
  }
  sender.join();
  CAF_CHECK_EQUAL(failed.load(), 0);
  if (failed.load() > 0)
    CAF_MESSAGE(failures);
  uint64_t total = 0;
  for (auto& [k, v] : acked) {
    CAF_CHECK_EQUAL(count_of(connect, k), std::to_string(v) + "\n");
    total += v;
  }
  CAF_CHECK_EQUAL(total, static_cast<uint64_t>(chunks * per_chunk));
  // The killed workers' vnodes were served again from their records: snapshot plus replay.
  CAF_CHECK(node.coord->log().find("events logged since") != std::string::npos);
  // The records are part of the cluster state: a restart of every node keeps every count.
  CAF_REQUIRE(node.restart());
  CAF_REQUIRE(node.wait_up(4, 30s));
  for (auto& [k, v] : acked)
    CAF_CHECK_EQUAL(count_of(connect, k), std::to_string(v) + "\n");
}

CAF_TEST(an idle durable deployment makes no Raft commit and its records go with undeploy) {
  local_cluster node{"durable-idle", 2};
  CAF_REQUIRE(node.wait_up(3));
  auto connect = "--connect=127.0.0.1:" + std::to_string(node.port);
  CAF_REQUIRE(deploy_durable(connect));
  auto input = node.dir + "/events.txt";
  {
    std::ofstream out{input};
    for (int i = 0; i < 3000; ++i)
      out << "k" << (i % 10) << "\tx\n";
  }
  CAF_REQUIRE_EQUAL(run_troupe_input({"ctl", connect, "send", "wc", "--stdin"}, input).code, 0);
  // Its instances save their snapshots, which leaves nothing logged...
  CAF_REQUIRE(wait_until(
    [&] {
      auto recs = records_of(connect, "wc");
      if (!recs.is_array() || recs.empty())
        return false;
      uint64_t covered = 0;
      for (auto& r : recs) {
        if (r.at("logged_events").get<uint64_t>() != 0)
          return false;
        covered += r.at("snapshot_pos").get<uint64_t>();
      }
      return covered >= 3000 + 1; // the events and the first request
    },
    10s));
  // ... nothing of it is in the KV namespace...
  auto kv = run_troupe({"kv", "list", "", "--json", connect});
  CAF_REQUIRE_EQUAL(kv.code, 0);
  CAF_CHECK_EQUAL(nlohmann::json::parse(kv.out).at("items").size(), 0u);
  // ... and over 10 s with no event the cluster commits nothing.
  auto before = commit_index(node);
  CAF_REQUIRE_GREATER(before, 0u);
  std::this_thread::sleep_for(10s); // the property is over time: nothing may happen in it
  CAF_CHECK_EQUAL(commit_index(node), before);
  CAF_CHECK_EQUAL(count_of(connect, "k3"), "300\n");
  // Undeploy drops its records.
  CAF_REQUIRE_EQUAL(run_troupe({"ctl", connect, "undeploy", "wc"}).code, 0);
  auto recs = records_of(connect, "");
  CAF_REQUIRE(recs.is_array());
  CAF_CHECK_EQUAL(recs.size(), 0u);
}

CAF_TEST(a durable deployment needs at-least-once delivery) {
  local_cluster node{"durable-usage", 1};
  CAF_REQUIRE(node.wait_up(2));
  auto connect = "--connect=127.0.0.1:" + std::to_string(node.port);
  auto r = run_troupe({"ctl", connect, "deploy", "wc", "word-count", "--durable"});
  CAF_CHECK_EQUAL(r.code, 64);
  CAF_CHECK(r.err.find("needs --delivery at-least-once") != std::string::npos);
}

CAF_TEST(a durable counter keeps exactly the acknowledged events when the Raft leader is killed) {
  // Three coordinators and two workers: the leader dies with appends on their way; an append
  // it had not replicated is lost, and its batch must not have been answered.
  auto dir = temp_dir("durable-leader");
  std::vector<uint16_t> ports;
  std::string peers;
  for (int i = 0; i < 3; ++i) {
    ports.push_back(free_port_pair());
    peers += (peers.empty() ? "" : ",") + std::string{"127.0.0.1:"} + std::to_string(ports.back());
  }
  std::vector<std::unique_ptr<process>> coords;
  for (size_t i = 0; i < 3; ++i)
    coords.push_back(std::make_unique<process>(
      std::vector<std::string>{"run", "--coordinator", "--peers=" + peers,
                               "--cluster-port=" + std::to_string(ports[i]),
                               "--name=c" + std::to_string(i),
                               "--data-dir=" + dir + "/c" + std::to_string(i), "--threads=2"},
      dir + "/c" + std::to_string(i) + ".log"));
  // The coordinator that leads (its own status says so), if one does.
  auto leader = [&]() -> std::optional<size_t> {
    for (size_t i = 0; i < 3; ++i) {
      if (!coords[i]->running())
        continue;
      auto st = http_status(static_cast<uint16_t>(ports[i] + 1));
      auto m = st ? member(*st, "c" + std::to_string(i)) : std::nullopt;
      if (m && m->at("raft").is_object() && m->at("raft").at("role") == "leader")
        return i;
    }
    return std::nullopt;
  };
  CAF_REQUIRE(wait_until([&] { return leader().has_value(); }, 15s));
  std::vector<std::unique_ptr<process>> workers;
  for (auto name : {"w1", "w2"})
    workers.push_back(std::make_unique<process>(
      std::vector<std::string>{"run", "--worker", std::string{"--name="} + name,
                               "--coordinators=" + peers, "--cluster-port=0", "--http-port=0",
                               "--data-dir=" + dir + "/" + name, "--threads=2"},
      dir + "/" + name + ".log"));
  auto l = *leader();
  auto entry = (l + 1) % 3; // the events go through a coordinator that stays
  auto connect = "--connect=127.0.0.1:" + std::to_string(ports[entry]);
  CAF_REQUIRE(wait_until(
    [&] {
      auto st = http_status(static_cast<uint16_t>(ports[entry] + 1));
      return st && count_state(*st, "up") == 5;
    },
    20s));
  CAF_REQUIRE(deploy_durable(connect));
  constexpr int chunks = 10;
  constexpr int per_chunk = 5000;
  std::vector<std::string> files;
  for (int c = 0; c < chunks; ++c) {
    files.push_back(dir + "/chunk-" + std::to_string(c) + ".txt");
    std::ofstream out{files.back()};
    for (int i = 0; i < per_chunk; ++i)
      out << "k" << (i % 5) << "\tx\n";
  }
  std::atomic<int> done{0};
  std::atomic<int> acked_chunks{0};
  std::string failures;
  std::thread sender([&] {
    for (int c = 0; c < chunks; ++c) {
      auto r = run_troupe_input({"ctl", connect, "send", "wc", "--stdin", "--timeout=60s"},
                                files[c], 90s);
      if (r.code == 0)
        ++acked_chunks;
      else
        failures += "chunk " + std::to_string(c) + ": " + r.err;
      ++done;
    }
  });
  CAF_CHECK(wait_until([&] { return done.load() >= 3; }, 60s, 5ms));
  CAF_MESSAGE("SIGKILL the leader c" << l << " after " << done.load() << " chunks");
  coords[l]->signal(SIGKILL);
  sender.join();
  CAF_CHECK_EQUAL(acked_chunks.load(), chunks);
  if (!failures.empty())
    CAF_MESSAGE(failures);
  // Every key had one fifth of each chunk acknowledged.
  auto want = std::to_string(acked_chunks.load() * per_chunk / 5) + "\n";
  for (int k = 0; k < 5; ++k)
    CAF_CHECK_EQUAL(count_of(connect, "k" + std::to_string(k)), want);
  if (caf::test::engine::current_test()->bad() > 0)
    for (size_t i = 0; i < 3; ++i)
      std::cout << "---- c" << i << " ----\n" << coords[i]->log();
}
