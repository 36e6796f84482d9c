// Long-running tasks and replicated sets with real processes (a coordinator and its local
// workers): the beacon example's instances record every beat with their partition and epoch,
// which shows where each partition ran, under which placement, and when.
#define CAF_SUITE tasks
#include <caf/test/unit_test.hpp>

#include "tests/integration/local_cluster.hpp"
#include "tests/integration/small_cluster.hpp"

#include <signal.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

using namespace troupe::it;

namespace {

/// The beats of one placement of a partition.
struct span {
  int64_t first = INT64_MAX, last = 0;
  size_t count = 0;
};

using beat_map = std::map<uint32_t, std::map<uint64_t, span>>;

/// partition -> epoch -> its beats, from the workers' data folders `dirs`.
beat_map beats(const std::vector<std::string>& dirs) {
  beat_map out;
  for (auto& dir : dirs) {
    std::ifstream in{dir + "/beats.beats"};
    std::string task, part, count, epoch, ts;
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream fields{line};
      if (!std::getline(fields, task, '\t') || !std::getline(fields, part, '\t')
          || !std::getline(fields, count, '\t') || !std::getline(fields, epoch, '\t')
          || !std::getline(fields, ts) || ts.empty())
        continue; // a line cut short by a SIGKILL
      auto& s = out[std::stoul(part)][std::stoull(epoch)];
      int64_t at = std::stoll(ts);
      s.first = std::min(s.first, at);
      s.last = std::max(s.last, at);
      s.count += 1;
    }
  }
  return out;
}

/// The data folders of a local cluster's workers 1..3.
std::vector<std::string> local_dirs(const std::string& data) {
  return {data + "/worker-1", data + "/worker-2", data + "/worker-3"};
}

/// The moves of partitions (epochs after the first); fails the test when two placements of a
/// partition beat at once: an epoch's last beat after the next epoch's first.
size_t check_never_twice(const beat_map& b) {
  size_t moved = 0;
  for (auto& [part, by_epoch] : b) {
    moved += by_epoch.size() - 1;
    const span* prev = nullptr;
    uint64_t prev_epoch = 0;
    for (auto& [epoch, s] : by_epoch) {
      if (prev && prev->last > s.first)
        CAF_FAIL("partition " << part << " ran under epochs " << prev_epoch << " and " << epoch
                              << " at once for " << prev->last - s.first << " ms");
      prev = &s;
      prev_epoch = epoch;
    }
  }
  return moved;
}

size_t total(const beat_map& b) {
  size_t n = 0;
  for (auto& [p, by_epoch] : b)
    for (auto& [e, s] : by_epoch)
      n += s.count;
  return n;
}

nlohmann::json tasks_view(const std::string& connect) {
  auto r = run_troupe({"ctl", connect, "tasks", "--json"});
  if (r.code != 0)
    return nullptr;
  return nlohmann::json::parse(r.out, nullptr, false);
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

/// True when every partition of the only task is placed on a worker that is up, the workers'
/// shares differ by at most one, and each partition's placement has beaten since `since_ms`.
bool settled(const std::string& connect, const std::vector<std::string>& dirs, int64_t since_ms,
             size_t workers) {
  auto v = tasks_view(connect);
  if (!v.is_object() || v.at("tasks").size() != 1 || v.at("workers_up").size() != workers)
    return false;
  std::map<std::string, size_t> per;
  for (auto& w : v.at("workers_up"))
    per[w.get<std::string>()] = 0;
  auto b = beats(dirs);
  for (auto& p : v.at("tasks")[0].at("placements")) {
    if (!p.at("worker_up").get<bool>() || p.value("moving", false))
      return false;
    per[p.at("worker").get<std::string>()] += 1;
    auto& by_epoch = b[p.at("partition").get<uint32_t>()];
    auto it = by_epoch.find(p.at("epoch").get<uint64_t>());
    if (it == by_epoch.end() || it->second.last < since_ms)
      return false;
  }
  size_t lo = SIZE_MAX, hi = 0;
  for (auto& [w, n] : per) {
    lo = std::min(lo, n);
    hi = std::max(hi, n);
  }
  return hi - lo <= 1;
}

} // namespace

CAF_TEST(task instances spread move when workers die or pause never run twice and stop with the task) {
  local_cluster node{"tasks", 3};
  CAF_REQUIRE(node.wait_up(4));
  auto connect = "--connect=127.0.0.1:" + std::to_string(node.port);
  auto dirs = local_dirs(node.dir + "/data");
  CAF_REQUIRE_EQUAL(run_troupe({"ctl", connect, "tasks", "start", "beats", "beacon",
                                "--instances", "5", "--config", "interval-ms=20"})
                      .code,
                    0);
  // The same start again is acknowledged; another configuration under the name is refused.
  CAF_CHECK_EQUAL(run_troupe({"ctl", connect, "tasks", "start", "beats", "beacon", "--instances",
                              "5", "--config", "interval-ms=20"})
                    .code,
                  0);
  auto other = run_troupe({"ctl", connect, "tasks", "start", "beats", "beacon", "--instances", "4"});
  CAF_CHECK_NOT_EQUAL(other.code, 0);
  CAF_CHECK(other.err.find("exists with another configuration") != std::string::npos);
  CAF_CHECK_NOT_EQUAL(run_troupe({"ctl", connect, "tasks", "stop", "nope"}).code, 0);
  // A type no worker has is refused, naming those they have.
  auto unknown = run_troupe({"ctl", connect, "tasks", "start", "ghost", "no-such-type"});
  CAF_CHECK_NOT_EQUAL(unknown.code, 0);
  CAF_CHECK(unknown.err.find("beacon") != std::string::npos);
  CAF_REQUIRE(wait_until([&] { return settled(connect, dirs, 0, 3); }, 20s, 100ms));
  // A killed worker's partitions run elsewhere; it restarts and gets its share back.
  auto killed = node.pid_of(node.worker(2));
  CAF_REQUIRE_GREATER(killed, 0);
  CAF_MESSAGE("SIGKILL " << node.worker(2));
  ::kill(killed, SIGKILL);
  auto after_kill = now_ms();
  CAF_REQUIRE(wait_until(
    [&] { return node.pid_of(node.worker(2)) != killed && settled(connect, dirs, after_kill + 500, 3); },
    30s, 100ms));
  // A paused worker is seen lost, its partitions run elsewhere, and what it ran stops beating.
  auto paused = node.pid_of(node.worker(3));
  CAF_REQUIRE_GREATER(paused, 0);
  CAF_MESSAGE("SIGSTOP " << node.worker(3) << " for 3 s");
  ::kill(paused, SIGSTOP);
  std::this_thread::sleep_for(3s); // the pause is the fault itself, not a wait for it
  ::kill(paused, SIGCONT);
  auto after_pause = now_ms();
  CAF_REQUIRE(wait_until([&] { return settled(connect, dirs, after_pause + 500, 3); }, 30s, 100ms));
  // Never two placements of a partition at once: each epoch's last beat comes before the next
  // epoch's first. And the faults did move partitions.
  auto b = beats(dirs);
  CAF_REQUIRE_EQUAL(b.size(), 5u);
  auto moved = check_never_twice(b);
  CAF_MESSAGE(moved << " moves over the 5 partitions");
  CAF_CHECK_GREATER_OR_EQUAL(moved, 2u);
  // Stopped: every instance stops beating.
  CAF_REQUIRE_EQUAL(run_troupe({"ctl", connect, "tasks", "stop", "beats"}).code, 0);
  size_t last = total(beats(dirs));
  int quiet = 0;
  CAF_CHECK(wait_until(
    [&] {
      auto n = total(beats(dirs));
      quiet = n == last ? quiet + 1 : 0;
      last = n;
      return quiet >= 5; // no beat for 5 polls, 100 ms apart: 5 beat intervals
    },
    15s, 100ms));
  auto v = tasks_view(connect);
  CAF_REQUIRE(v.is_object());
  CAF_CHECK(v.at("tasks").empty());
}

CAF_TEST(a set answers add contains remove and list and survives a restart of every node) {
  local_cluster node{"sets", 1};
  CAF_REQUIRE(node.wait_up(2));
  auto connect = "--connect=127.0.0.1:" + std::to_string(node.port);
  auto set = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"ctl", connect, "set"});
    return run_troupe(args);
  };
  CAF_CHECK_EQUAL(set({"add", "done", "a.txt"}).out, "OK added\n");
  CAF_CHECK_EQUAL(set({"add", "done", "a.txt"}).out, "OK already a member\n");
  CAF_CHECK_EQUAL(set({"add", "done", "b c.txt"}).out, "OK added\n");
  CAF_CHECK_EQUAL(set({"contains", "done", "a.txt"}).code, 0);
  auto absent = set({"contains", "done", "zz"});
  CAF_CHECK_EQUAL(absent.code, 1);
  CAF_CHECK_EQUAL(absent.out, "false\n");
  CAF_CHECK_EQUAL(set({"remove", "done", "zz"}).out, "OK was not a member\n");
  CAF_CHECK_EQUAL(set({"add", "bad name", "x"}).code, 64);
  CAF_CHECK_EQUAL(set({"list", "done"}).out, "a.txt\nb c.txt\n");
  CAF_REQUIRE(node.restart());
  CAF_REQUIRE(node.wait_up(2, 30s));
  CAF_CHECK_EQUAL(set({"list", "done"}).out, "a.txt\nb c.txt\n");
  CAF_CHECK_EQUAL(set({"remove", "done", "a.txt"}).out, "OK removed\n");
  CAF_CHECK_EQUAL(set({"contains", "done", "a.txt"}).code, 1);
}

CAF_TEST(a paused worker stops its instances before they run elsewhere and gets its share back) {
  // Separate worker processes: nobody restarts the paused one, so it resumes with its old
  // instances, after the leader placed their partitions elsewhere.
  small_cluster c{"tasks_paused"};
  CAF_REQUIRE(c.boot({"w1", "w2", "w3"}));
  std::vector<std::string> dirs{c.dir + "/w1", c.dir + "/w2", c.dir + "/w3"};
  CAF_REQUIRE_EQUAL(run_troupe({"ctl", c.connect, "tasks", "start", "beats", "beacon",
                                "--instances", "3", "--config", "interval-ms=10"})
                      .code,
                    0);
  CAF_REQUIRE(wait_until([&] { return settled(c.connect, dirs, 0, 3); }, 20s, 100ms));
  CAF_MESSAGE("SIGSTOP w2 for 3 s");
  c.workers["w2"]->signal(SIGSTOP);
  std::this_thread::sleep_for(3s); // the pause is the fault itself, not a wait for it
  c.workers["w2"]->signal(SIGCONT);
  auto resumed = now_ms();
  CAF_REQUIRE(wait_until([&] { return settled(c.connect, dirs, resumed + 500, 3); }, 30s, 100ms));
  auto b = beats(dirs);
  CAF_REQUIRE_EQUAL(b.size(), 3u);
  auto moved = check_never_twice(b);
  CAF_MESSAGE(moved << " moves over the 3 partitions");
  CAF_CHECK_GREATER_OR_EQUAL(moved, 1u); // w2's partition ran elsewhere while it was paused
}
