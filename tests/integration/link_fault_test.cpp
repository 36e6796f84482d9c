// Kuzzle's link check on real processes (issue 13): one frame a worker sends to another node is
// dropped, repeated or garbled at the transport seam (--fault-injection). The node that
// receives it finds the link out of step; the coordinators mark the worker down with that
// reason and tell it to restart; it exits 75, its coordinator starts it again, and it rejoins
// with a new incarnation within the failure timeout plus 1 s. Under an at-least-once event
// stream and KV writes, nothing acknowledged is lost.
#define CAF_SUITE link_fault
#include <caf/test/unit_test.hpp>

#include "actors/ingress.hpp"
#include "actors/raft/raft_actor.hpp"
#include "actors/router.hpp"
#include "nodes/remote_node.hpp"
#include "tests/integration/harness.hpp"

#include <caf/scoped_actor.hpp>

#include <atomic>
#include <fstream>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>

using namespace troupe;
using namespace troupe::it;

namespace {

struct worker_info {
  std::string address;
  uint64_t pid = 0;
  uint64_t incarnation = 0;
  std::string state;
};

std::optional<worker_info> worker_of(uint16_t http, const std::string& name) {
  auto st = http_status(http);
  if (!st)
    return std::nullopt;
  auto m = member(*st, name);
  if (!m)
    return std::nullopt;
  return worker_info{m->at("address").get<std::string>(), m->at("pid").get<uint64_t>(),
                     m->at("incarnation").get<uint64_t>(), m->at("state").get<std::string>()};
}

} // namespace

CAF_TEST(a worker whose link goes out of step is evicted restarted and loses nothing) {
  auto dir = temp_dir("link-fault");
  auto port = free_port_pair();
  auto http = static_cast<uint16_t>(port + 1);
  auto coord_at = "127.0.0.1:" + std::to_string(port);
  auto name = "lf" + std::to_string(port);
  auto w1 = name + "-worker-1";
  process coord{{"run", "--workers=2", "--fault-injection", "--name=" + name,
                 "--cluster-port=" + std::to_string(port), "--data-dir=" + dir + "/c",
                 "--threads=2"},
                dir + "/c.log"};
  auto connect = "--connect=" + coord_at;
  CAF_REQUIRE(wait_until(
    [&] {
      auto st = http_status(http);
      return st && count_state(*st, "up") == 3;
    },
    30s, 100ms));
  CAF_REQUIRE_EQUAL(
    run_troupe({"ctl", connect, "deploy", "rec", "recorder", "--delivery", "at-least-once"}).code,
    0);
  CAF_REQUIRE(wait_until(
    [&] { return run_troupe({"ctl", connect, "send", "rec", "probe", "p"}).code == 0; }, 20s,
    100ms));

  // The load: at-least-once events on 64 keys and KV writes, each acknowledged or retried.
  std::mutex mx;
  std::vector<uint64_t> acked_events;
  std::vector<uint64_t> acked_writes;
  std::atomic<bool> stop{false};
  std::thread client{[&] {
    client_config cfg;
    troupe_system sys{cfg};
    caf::scoped_actor self{sys};
    caf::actor node;
    for (uint64_t i = 1, k = 1; !stop && i < 10000000;) {
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
        acked_events.push_back(i++);
      }
      bool wrote = false;
      self
        ->request(node, 10s, kv_put_atom::value, "lf/" + std::to_string(k), std::string{"v"},
                  int64_t{-1}, uint64_t{77}, k)
        .receive([&](bool done, uint64_t) { wrote = done; }, [](const caf::error&) {});
      if (wrote) {
        std::lock_guard<std::mutex> guard{mx};
        acked_writes.push_back(k++);
      }
    }
  }};
  auto acked = [&] {
    std::lock_guard<std::mutex> guard{mx};
    return acked_events.size();
  };
  CAF_REQUIRE(wait_until([&] { return acked() > 200; }, 20s));

  client_config cfg;
  troupe_system sys{cfg};
  caf::scoped_actor self{sys};
  for (auto fault : {"corrupt", "drop", "duplicate"}) {
    auto before = worker_of(http, w1);
    CAF_REQUIRE(before && before->state == "up");
    auto ep = parse_endpoint(before->address);
    CAF_REQUIRE(ep);
    std::string problem;
    auto worker = connect_node(sys, self, *ep, 2s, problem);
    CAF_REQUIRE(worker);
    auto events_before = acked();
    auto t0 = clock::now();
    bool injected = false;
    self->request(worker, 2s, inject_fault_atom::value, std::string{fault})
      .receive([&](bool ok) { injected = ok; },
               [&](const caf::error& e) { CAF_FAIL("inject: " << sys.render(e)); });
    CAF_REQUIRE(injected);
    // Evicted (a new process) and up again with a new incarnation.
    std::optional<worker_info> after;
    bool back = wait_until(
      [&] {
        after = worker_of(http, w1);
        return after && after->pid != before->pid && after->state == "up"
               && after->incarnation > before->incarnation;
      },
      10s, 20ms);
    auto took = std::chrono::duration_cast<ms>(clock::now() - t0);
    CAF_MESSAGE(fault << ": " << w1 << " evicted and up again (pid " << before->pid << " -> "
                      << (after ? after->pid : 0) << ", incarnation " << before->incarnation
                      << " -> " << (after ? after->incarnation : 0) << ") after "
                      << took.count() << " ms");
    CAF_CHECK(back);
    CAF_CHECK_LESS(took, 1500ms + 1000ms); // the failure timeout plus 1 s
    // `troupe status` shows it (for a minute): the coordinator's health names the eviction
    // and its reason.
    std::string reasons;
    CAF_CHECK(wait_until(
      [&] {
        auto r = run_troupe({"status", connect, "--json"});
        auto j = nlohmann::json::parse(r.out, nullptr, false);
        if (r.code != 0 || j.is_discarded())
          return false;
        reasons = j.at("node").at("health").at("reasons").dump();
        return reasons.find(w1 + " evicted: desynchronized link") != std::string::npos;
      },
      5s, 100ms));
    // The stream goes on.
    CAF_CHECK(wait_until([&] { return acked() > events_before + 50; }, 10s));
  }
  stop = true;
  client.join();

  // Found, reported and counted by the coordinator (the worker's frames to it are the ones
  // that went wrong, or another worker's report reached it).
  auto log = coord.log();
  CAF_CHECK_GREATER_OR_EQUAL(count_of(log, "out of step"), 3u);
  CAF_CHECK_GREATER_OR_EQUAL(count_of(log, "evicted by the cluster"), 3u);
  CAF_CHECK_GREATER_OR_EQUAL(count_of(log, "exited with code 75"), 3u);

  // Nothing acknowledged is lost: every event is in a recorder's file, every write readable.
  std::set<std::string> handled;
  for (auto w : {"worker-1", "worker-2"})
    for (auto& line : lines_of(dir + "/c/" + w + "/recorder-rec.log"))
      handled.insert(line);
  size_t missing_events = 0;
  for (auto i : acked_events)
    missing_events += handled.count("key" + std::to_string(i % 64) + "\te" + std::to_string(i)) == 0;
  auto listed = run_troupe({"kv", "list", "lf/", "--limit", "1000000", "--json", connect});
  CAF_REQUIRE_EQUAL(listed.code, 0);
  size_t missing_writes = 0;
  for (auto k : acked_writes)
    if (listed.out.find("\"lf/" + std::to_string(k) + "\"") == std::string::npos)
      ++missing_writes;
  CAF_MESSAGE(acked_events.size() << " events and " << acked_writes.size()
                                  << " KV writes acknowledged; missing: " << missing_events
                                  << " events, " << missing_writes << " writes");
  CAF_CHECK_EQUAL(missing_events, 0u);
  CAF_CHECK_EQUAL(missing_writes, 0u);
  if (caf::test::engine::current_test()->bad() > 0)
    std::cout << "---- coordinator ----\n" << log << "---- end ----\n";
}
