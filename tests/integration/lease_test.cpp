// Leases on real processes: a worker that holds vnodes is paused (SIGSTOP) for three failure
// timeouts under an at-least-once event stream. Meanwhile its vnodes move to the others; once
// resumed it must handle nothing for vnodes it no longer owns (what waited in its mailboxes
// included) before it has joined again, and nothing acknowledged may be lost.
#define CAF_SUITE lease
#include <caf/test/unit_test.hpp>

#include "actors/router.hpp"
#include "actors/wire.hpp"
#include "nodes/remote_node.hpp"
#include "tests/integration/harness.hpp"

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>

using namespace troupe;
using namespace troupe::it;

CAF_TEST(a worker paused past its lease handles nothing queued and loses nothing) {
  auto dir = temp_dir("lease-pause");
  auto port = free_port_pair();
  auto coord_at = "127.0.0.1:" + std::to_string(port);
  auto timing = std::vector<std::string>{"--failure-timeout=600ms", "--heartbeat-interval=100ms",
                                         "--threads=2", "--http-port=0"};
  auto args = [&](std::vector<std::string> a) {
    a.insert(a.end(), timing.begin(), timing.end());
    return a;
  };
  process coord{args({"run", "--coordinator", "--peers=" + coord_at,
                      "--cluster-port=" + std::to_string(port), "--name=c",
                      "--data-dir=" + dir + "/c"}),
                dir + "/c.log"};
  std::map<std::string, std::unique_ptr<process>> workers;
  for (auto w : {"w1", "w2", "w3"})
    workers[w] = std::make_unique<process>(
      args({"run", "--worker", std::string{"--name="} + w, "--coordinators=" + coord_at,
            "--cluster-port=0", "--data-dir=" + dir + "/" + w}),
      dir + "/" + w + ".log");
  auto connect = "--connect=" + coord_at;
  CAF_REQUIRE(wait_until(
    [&] {
      auto r = run_troupe({"ctl", connect, "members", "--json"});
      return r.code == 0 && count_of(r.out, "\"up\"") == 4;
    },
    20s, 100ms));
  CAF_REQUIRE_EQUAL(
    run_troupe({"ctl", connect, "deploy", "rec", "recorder", "--delivery", "at-least-once"}).code,
    0);
  CAF_REQUIRE(wait_until(
    [&] { return run_troupe({"ctl", connect, "send", "rec", "probe", "p"}).code == 0; }, 20s,
    100ms));

  // The stream: at-least-once events on 64 keys, each acknowledged once handled.
  std::mutex mx;
  std::vector<uint64_t> acked;
  std::atomic<bool> stop{false};
  std::thread client{[&] {
    client_config cfg;
    troupe_system sys{cfg};
    caf::scoped_actor self{sys};
    caf::actor node;
    for (uint64_t i = 1; !stop && i < 10000000;) {
      if (!node) {
        std::string problem;
        node = connect_node(sys, self, endpoint{"127.0.0.1", port}, 500ms, problem);
        continue;
      }
      bool ok = false;
      self
        ->request(node, 10s, route_atom::value, std::string{"rec"}, "key" + std::to_string(i % 64),
                  "e" + std::to_string(i))
        .receive([&](const std::string&) { ok = true; }, [](const caf::error&) {});
      if (ok) {
        std::lock_guard<std::mutex> guard{mx};
        acked.push_back(i++);
      }
    }
  }};
  auto acked_count = [&] {
    std::lock_guard<std::mutex> guard{mx};
    return acked.size();
  };
  CAF_REQUIRE(wait_until([&] { return acked_count() > 300; }, 20s));
  auto w1_file = dir + "/w1/recorder-rec.log";
  CAF_REQUIRE(!lines_of(w1_file).empty()); // w1 holds vnodes and handles their events

  // Pause w1 for three failure timeouts: the stream goes on through the others.
  workers["w1"]->signal(SIGSTOP);
  std::this_thread::sleep_for(50ms); // a write in progress when it stopped has landed
  auto before = lines_of(w1_file).size();
  auto joined_before = count_of(workers["w1"]->log(), "joined cluster");
  auto during = acked_count();
  std::this_thread::sleep_for(1800ms); // 3 x the failure timeout: the pause is the point
  CAF_CHECK_GREATER(acked_count(), during); // its vnodes moved and the stream goes on
  workers["w1"]->signal(SIGCONT);

  // Until it has joined again, w1 writes nothing: what waited in its mailboxes was for vnodes
  // it no longer owned.
  bool rejoined = false;
  bool early = false;
  auto deadline = clock::now() + 10s;
  while (clock::now() < deadline && !rejoined) {
    auto now_lines = lines_of(w1_file).size();
    rejoined = count_of(workers["w1"]->log(), "joined cluster") > joined_before;
    if (now_lines > before && !rejoined) {
      early = true;
      break;
    }
    std::this_thread::sleep_for(2ms);
  }
  CAF_CHECK(rejoined);
  CAF_CHECK(!early);
  if (early)
    CAF_MESSAGE("w1 wrote " << lines_of(w1_file).size() - before << " lines before it rejoined");
  auto log = workers["w1"]->log();
  CAF_CHECK(log.find("lease ran out") != std::string::npos
            || log.find("no heartbeat answer") != std::string::npos);

  // The stream goes on; then every acknowledged event is in some worker's file.
  auto after = acked_count();
  CAF_CHECK(wait_until([&] { return acked_count() > after + 200; }, 20s));
  stop = true;
  client.join();
  std::set<std::string> recorded;
  for (auto w : {"w1", "w2", "w3"})
    for (auto& line : lines_of(dir + "/" + w + "/recorder-rec.log"))
      recorded.insert(line);
  size_t lost = 0;
  for (auto i : acked)
    lost += recorded.count("key" + std::to_string(i % 64) + "\te" + std::to_string(i)) == 0;
  CAF_MESSAGE(acked.size() << " events acknowledged, " << lost << " of them not recorded");
  CAF_CHECK_EQUAL(lost, 0u);
  if (caf::test::engine::current_test()->bad() > 0)
    for (auto& [name, p] : workers)
      std::cout << "---- " << name << " ----\n" << p->log();
}
