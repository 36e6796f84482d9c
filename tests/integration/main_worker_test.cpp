// The main worker: the leader picks one worker, every node knows which, exactly one node says
// it is main (troupe_main_worker in its /metrics, from is_main_worker()), and when it dies
// another is picked once its lease has run out.
#include "tests/integration/small_cluster.hpp"

#define CAF_SUITE main_worker
#include <caf/test/unit_test.hpp>

#include <httplib.h>

#include <csignal>
#include <regex>
#include <sstream>

using namespace troupe::it;
using json = nlohmann::json;

namespace {

/// troupe_main_worker of the node serving HTTP on `port` (-1: no answer).
int main_gauge(uint16_t port) {
  httplib::Client cli{"127.0.0.1", port};
  cli.set_connection_timeout(0, 300'000);
  auto res = cli.Get("/metrics");
  if (!res || res->status != 200)
    return -1;
  std::smatch m;
  if (!std::regex_search(res->body, m, std::regex{"\ntroupe_main_worker ([01])\n"}))
    return -1;
  return std::stoi(m[1].str());
}

std::string main_of(uint16_t http) {
  auto st = http_status(http);
  return st ? st->value("main_worker", "") : "?";
}

/// A coordinator and two workers, wa and wb; `ready` once all three are up and one worker is
/// main (`first`).
struct coordinator_and_two_workers : small_cluster {
  process* wa = nullptr;
  process* wb = nullptr;
  std::string first;
  bool ready = false;

  explicit coordinator_and_two_workers(const std::string& test) : small_cluster(test) {
    if (!start_coordinator())
      return;
    start_worker("wa");
    start_worker("wb");
    wa = workers["wa"].get();
    wb = workers["wb"].get();
    ready = wait_until(
      [&] {
        first = main_of(http);
        auto st = http_status(http);
        return (first == "wa" || first == "wb") && st && count_state(*st, "up") == 3;
      },
      10s);
  }

  process& main_process() { return first == "wa" ? *wa : *wb; }
  std::string other() const { return first == "wa" ? "wb" : "wa"; }
};

} // namespace

CAF_TEST(a cluster of one is its own main worker) {
  auto dir = temp_dir("main-one");
  auto port = free_port_pair();
  auto http = static_cast<uint16_t>(port + 1);
  process node{{"run", "--name=solo", "--cluster-port=" + std::to_string(port),
                "--data-dir=" + dir + "/d"},
               dir + "/solo.log"};
  CAF_CHECK(wait_until([&] { return main_of(http) == "solo"; }, 10s));
  CAF_CHECK(wait_until([&] { return main_gauge(http) == 1; }, 5s));
}

CAF_TEST(one main worker at a time and another once the first died) {
  coordinator_and_two_workers c{"main-worker"};
  CAF_REQUIRE(c.wa != nullptr); // the coordinator came up
  CAF_CHECK(c.ready);
  auto http = c.http;
  auto& first = c.first;
  auto& coord = *c.coord;
  CAF_MESSAGE("main worker: " << first);
  auto st = http_status(http);
  CAF_REQUIRE(st);
  std::map<std::string, uint16_t> ports;
  for (auto n : {"wa", "wb"}) {
    auto m = member(*st, n);
    CAF_REQUIRE(m);
    ports[n] = m->at("http_port").get<uint16_t>();
  }
  auto other = c.other();
  // Exactly one node says it is main: the one every node names.
  CAF_CHECK(wait_until([&] { return main_gauge(ports[first]) == 1; }, 5s));
  CAF_CHECK_EQUAL(main_gauge(ports[other]), 0);
  CAF_CHECK_EQUAL(main_gauge(http), 0); // a coordinator-only node is never main
  auto from_worker = http_status(ports[other]);
  CAF_CHECK(from_worker && from_worker->value("main_worker", "") == first);

  // The main worker dies: the other becomes main once the dead one's lease ran out.
  auto& victim = c.main_process();
  auto t0 = clock::now();
  victim.signal(SIGKILL);
  CAF_CHECK(wait_until([&] { return main_of(http) == other; }, 10s, 10ms));
  auto took = std::chrono::duration_cast<ms>(clock::now() - t0);
  CAF_MESSAGE("new main worker after " << took.count()
                                       << " ms (failure timeout 600 ms, lease 400 ms after it)");
  CAF_CHECK(wait_until([&] { return main_gauge(ports[other]) == 1; }, 5s));
  CAF_CHECK(wait_until(
    [&] { return coord.log().find("main worker: " + first + " -> " + other) != std::string::npos; },
    2s));
}

CAF_TEST(a singleton runs once on the main worker and moves with it) {
  coordinator_and_two_workers c{"singleton"};
  CAF_REQUIRE(c.ready);
  auto& connect = c.connect;
  auto& first = c.first;
  // Deployed as a singleton, with its state snapshotted to the KV every 100 ms.
  CAF_REQUIRE_EQUAL(run_troupe({"ctl", connect, "deploy", "solo", "word-count", "--routing",
                                "singleton", "--config", "snapshot-every-ms=100"})
                      .code,
                    0);
  auto instances = [&] {
    auto r = run_troupe({"ctl", connect, "--json", "deployments"});
    auto j = json::parse(r.out, nullptr, false);
    std::vector<std::string> where;
    if (!j.is_discarded())
      for (auto& d : j.at("deployments"))
        for (auto& i : d.at("instances"))
          where.push_back(i.at("worker").get<std::string>());
    return where;
  };
  CAF_CHECK(wait_until([&] { return instances() == std::vector<std::string>{first}; }, 5s));
  for (int i = 0; i < 3; ++i)
    CAF_CHECK_EQUAL(run_troupe({"ctl", connect, "send", "solo", "k", "x"}).code, 0);
  auto count = run_troupe({"ctl", connect, "request", "solo", "k"});
  CAF_CHECK_EQUAL(count.out, "3\n");
  std::this_thread::sleep_for(300ms); // a snapshot with the count of 3 is in the KV

  auto other = c.other();
  c.main_process().signal(SIGKILL);
  // While the main worker changes, never two instances.
  size_t most = 0;
  CAF_CHECK(wait_until(
    [&] {
      auto where = instances();
      most = std::max(most, where.size());
      return where == std::vector<std::string>{other};
    },
    10s, 20ms));
  CAF_CHECK_LESS_OR_EQUAL(most, 1u);
  // It started on the new main worker from its last snapshot.
  auto again = run_troupe({"ctl", connect, "request", "solo", "k"});
  CAF_CHECK_EQUAL(again.out, "3\n");
}

CAF_TEST(a fenced counter singleton survives its host and never runs twice) {
  coordinator_and_two_workers c{"fenced-counter"};
  CAF_REQUIRE(c.ready);
  auto& connect = c.connect;
  auto& first = c.first;
  CAF_REQUIRE_EQUAL(
    run_troupe({"ctl", connect, "deploy", "fc", "fenced-counter", "--routing", "singleton"}).code,
    0);
  // The counter's own view: "<epoch> <count>".
  auto counter = [&](uint64_t& epoch, uint64_t& count) {
    auto r = run_troupe({"ctl", connect, "request", "fc", "k"});
    std::istringstream in{r.out};
    return r.code == 0 && static_cast<bool>(in >> epoch >> count);
  };
  uint64_t e1 = 0, c1 = 0;
  CAF_CHECK(wait_until([&] { return counter(e1, c1) && c1 >= 5; }, 10s, 50ms));
  CAF_MESSAGE("epoch " << e1 << ", count " << c1 << " on " << first);
  c.main_process().signal(SIGKILL);
  uint64_t e2 = 0, c2 = 0;
  CAF_CHECK(wait_until([&] { return counter(e2, c2) && e2 > e1 && c2 > c1 + 5; }, 10s, 50ms));
  CAF_MESSAGE("then epoch " << e2 << ", count " << c2);
  // Neither instance saw another one writing.
  CAF_CHECK_EQUAL(c.wa->log().find("RUNNING TWICE"), std::string::npos);
  CAF_CHECK_EQUAL(c.wb->log().find("RUNNING TWICE"), std::string::npos);
}
