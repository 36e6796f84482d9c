#define CAF_SUITE multi_host
#include <caf/test/unit_test.hpp>

#include "tests/integration/local_cluster.hpp"

#include <signal.h>

using namespace troupe::it;

namespace {

std::unique_ptr<process> start_coordinator(const std::string& dir, uint16_t port) {
  auto ep = "127.0.0.1:" + std::to_string(port);
  return std::make_unique<process>(
    std::vector<std::string>{"run", "--coordinator", "--peers=" + ep, "--name=c1",
                             "--cluster-port=" + std::to_string(port),
                             "--data-dir=" + dir + "/c1", "--threads=2"},
    dir + "/c1.log");
}

std::unique_ptr<process> start_worker(const std::string& dir, const std::string& name,
                                      uint16_t port, uint16_t coord_port) {
  return std::make_unique<process>(
    std::vector<std::string>{"run", "--worker",
                             "--coordinators=127.0.0.1:" + std::to_string(coord_port),
                             "--name=" + name, "--cluster-port=" + std::to_string(port),
                             "--data-dir=" + dir + "/" + name, "--threads=2"},
    dir + "/" + name + ".log");
}

std::string state_in(uint16_t http_port, const std::string& name) {
  auto st = http_status(http_port);
  if (!st)
    return "no status";
  auto m = member(*st, name);
  return m ? m->at("state").get<std::string>() : "absent";
}

} // namespace

CAF_TEST(workers join a coordinator and rejoin it after it restarts) {
  auto dir = temp_dir("multihost");
  auto cport = free_port_pair();
  auto coord = start_coordinator(dir, cport);
  auto w1port = free_port_pair();
  auto w1 = start_worker(dir, "w1", w1port, cport);
  auto chttp = static_cast<uint16_t>(cport + 1);
  CAF_REQUIRE(wait_until([&] { return state_in(chttp, "w1") == "up"; }, 15s));
  // A new worker joins with no change anywhere else.
  auto w2port = free_port_pair();
  auto w2 = start_worker(dir, "w2", w2port, cport);
  CAF_REQUIRE(wait_until([&] { return state_in(chttp, "w2") == "up"; }, 15s));

  // The coordinator dies: workers keep running and say they are disconnected.
  coord->signal(SIGKILL);
  coord->wait_exit(5s);
  auto w1http = static_cast<uint16_t>(w1port + 1);
  CAF_CHECK(wait_until(
    [&] {
      auto st = http_status(w1http);
      return st && st->at("node").at("health").at("level") == "yellow";
    },
    5s));
  CAF_CHECK(w1->running());

  // It comes back on the same port: both workers rejoin by themselves.
  coord = start_coordinator(dir, cport);
  CAF_CHECK(wait_until(
    [&] { return state_in(chttp, "w1") == "up" && state_in(chttp, "w2") == "up"; }, 15s));
  auto st = http_status(chttp);
  CAF_REQUIRE(st);
  CAF_CHECK_NOT_EQUAL(member(*st, "w1")->at("incarnation").get<uint64_t>(), 0u);

  // A worker that hangs is marked down; when it runs again it rejoins with a new incarnation.
  auto hung_inc = member(*http_status(chttp), "w1")->at("incarnation").get<uint64_t>();
  w1->signal(SIGSTOP);
  CAF_CHECK(wait_until([&] { return state_in(chttp, "w1") == "down"; }, 5s));
  w1->signal(SIGCONT);
  CAF_CHECK(wait_until(
    [&] {
      auto s = http_status(chttp);
      return s && member(*s, "w1")->at("state") == "up"
             && member(*s, "w1")->at("incarnation").get<uint64_t>() > hung_inc;
    },
    10s));

  // A worker that stops gracefully is left, not down.
  w2->signal(SIGTERM);
  CAF_CHECK_EQUAL(w2->wait_exit(10s).value_or(-1), 0);
  CAF_CHECK_EQUAL(state_in(chttp, "w2"), "left");
  if (caf::test::engine::current_test()->bad() > 0)
    std::cout << coord->log() << w1->log();
}
