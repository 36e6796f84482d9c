// The cluster's health as any node reports it (GET /api/status, troupe status): every node's
// level and reasons, and the overall level, the worst of them.
#define CAF_SUITE cluster_health
#include <caf/test/unit_test.hpp>

#include "tests/integration/harness.hpp"

#include <csignal>

using namespace troupe::it;
using json = nlohmann::json;

namespace {

std::string level_of(const std::optional<json>& st) {
  if (!st || !st->contains("cluster_health"))
    return "?";
  return st->at("cluster_health").at("level").get<std::string>();
}

bool reasons_have(const std::optional<json>& st, const std::string& text) {
  if (!st || !st->contains("cluster_health"))
    return false;
  for (auto& r : st->at("cluster_health").at("reasons"))
    if (r.get<std::string>().find(text) != std::string::npos)
      return true;
  return false;
}

} // namespace

CAF_TEST(vnodes without a live owner turn the cluster red and a joined worker green) {
  auto dir = temp_dir("cluster-health");
  auto port = free_port_pair();
  auto http = static_cast<uint16_t>(port + 1);
  auto self_ep = "127.0.0.1:" + std::to_string(port);
  process coord{{"run", "--coordinator", "--name=c", "--peers=" + self_ep,
                 "--cluster-port=" + std::to_string(port), "--data-dir=" + dir + "/c",
                 "--vnodes=16", "--failure-timeout=600ms", "--heartbeat-interval=100ms"},
                dir + "/c.log"};
  // No worker yet: every vnode is without an owner.
  std::optional<json> st;
  CAF_CHECK(wait_until(
    [&] {
      st = http_status(http);
      return level_of(st) == "red";
    },
    10s));
  CAF_CHECK(reasons_have(st, "16 of 16 vnodes have no live owner (no workers)"));
  auto table = run_troupe({"status", "--connect=" + self_ep});
  CAF_CHECK(table.out.find("health red") != std::string::npos);

  process worker{{"run", "--worker", "--name=w", "--coordinators=" + self_ep, "--cluster-port=0",
                  "--data-dir=" + dir + "/w", "--vnodes=16", "--failure-timeout=600ms",
                  "--heartbeat-interval=100ms"},
                 dir + "/w.log"};
  CAF_CHECK(wait_until(
    [&] {
      st = http_status(http);
      return level_of(st) == "green";
    },
    10s));
  if (st) {
    for (auto& m : st->at("members"))
      CAF_CHECK_EQUAL(m.at("health").at("level"), "green");
    // The worker's own HTTP port answers with the same cluster health (its first answer says
    // "unknown" while it gathers it in the background).
    auto w = member(*st, "w");
    CAF_REQUIRE(w);
    auto wport = w->at("http_port").get<uint16_t>();
    auto first = http_status(wport);
    CAF_CHECK(level_of(first) == "unknown" || level_of(first) == "green");
    CAF_CHECK(wait_until([&] { return level_of(http_status(wport)) == "green"; }, 5s));
  }

  // A worker that stops answering: down, and its vnodes have no live owner.
  worker.signal(SIGSTOP);
  CAF_CHECK(wait_until(
    [&] {
      st = http_status(http);
      return reasons_have(st, "w: member is down") && reasons_have(st, "no live owner");
    },
    10s));
  CAF_CHECK_EQUAL(level_of(st), "red");
  worker.signal(SIGCONT);
  if (caf::test::engine::current_test()->bad() > 0)
    std::cout << coord.log() << worker.log();
}

CAF_TEST(a deployment of a type no worker has is refused naming the types they have) {
  auto dir = temp_dir("cluster-health-refuse");
  auto port = free_port_pair();
  auto http = static_cast<uint16_t>(port + 1);
  // A cluster of one: the node is its own worker, with the stock binary's actor types.
  process node{{"run", "--name=n", "--cluster-port=" + std::to_string(port),
                "--data-dir=" + dir + "/n", "--vnodes=8"},
               dir + "/n.log"};
  std::optional<json> st;
  CAF_CHECK(wait_until([&] { return level_of(st = http_status(http)) == "green"; }, 10s));
  auto connect = "--connect=127.0.0.1:" + std::to_string(port);
  auto r = run_troupe({"ctl", connect, "deploy", "bad", "nosuchtype"});
  CAF_CHECK_EQUAL(r.code, 1);
  CAF_CHECK(r.err.find("no worker has actor type 'nosuchtype'") != std::string::npos);
  CAF_CHECK(r.err.find("word-count") != std::string::npos);
  CAF_CHECK(r.out.empty());
  auto list = run_troupe({"ctl", connect, "deployments", "--json"});
  CAF_CHECK_EQUAL(list.code, 0);
  CAF_CHECK(list.out.find("\"bad\"") == std::string::npos); // nothing was deployed
  CAF_CHECK_EQUAL(run_troupe({"ctl", connect, "deploy", "wc", "word-count"}).code, 0);
  CAF_CHECK_EQUAL(level_of(http_status(http)), "green");
  if (caf::test::engine::current_test()->bad() > 0)
    std::cout << node.log() << r.err << "\n";
}

CAF_TEST(a worker joining without a type a deployment needs turns yellow with the reason) {
  auto dir = temp_dir("cluster-health-type");
  auto port = free_port_pair();
  auto http = static_cast<uint16_t>(port + 1);
  auto self_ep = "127.0.0.1:" + std::to_string(port);
  // A cluster of one with the stock actor types, then a worker that has only `greeter`
  // (examples/custom_node).
  process node{{"run", "--name=n", "--cluster-port=" + std::to_string(port),
                "--data-dir=" + dir + "/n", "--vnodes=8"},
               dir + "/n.log"};
  std::optional<json> st;
  CAF_CHECK(wait_until([&] { return level_of(st = http_status(http)) == "green"; }, 10s));
  auto connect = "--connect=" + self_ep;
  CAF_CHECK_EQUAL(run_troupe({"ctl", connect, "deploy", "wc", "word-count"}).code, 0);
  process greeter{{"run", "--worker", "--name=g", "--coordinators=" + self_ep,
                   "--cluster-port=0", "--data-dir=" + dir + "/g", "--vnodes=8"},
                  dir + "/g.log", std::string{}, "/dev/null", TROUPE_GREETER_BIN};
  // The cause reaches `troupe status`, not only the worker's log.
  CAF_CHECK(wait_until(
    [&] {
      st = http_status(http);
      return level_of(st) == "yellow"
             && reasons_have(st, "deployment wc needs actor type 'word-count', which this node "
                                 "does not have (it has: greeter)");
    },
    15s));
  auto table = run_troupe({"status", connect});
  CAF_CHECK(table.out.find("word-count") != std::string::npos);
  // A type one live worker has is deployed; one that none has is refused, naming them all.
  CAF_CHECK_EQUAL(run_troupe({"ctl", connect, "deploy", "hello", "greeter"}).code, 0);
  auto r = run_troupe({"ctl", connect, "deploy", "bad", "nosuchtype"});
  CAF_CHECK_EQUAL(r.code, 1);
  CAF_CHECK(r.err.find("greeter") != std::string::npos && r.err.find("echo") != std::string::npos);
  // Undeployed, neither is a problem any more (the stock node lacks greeter).
  CAF_CHECK_EQUAL(run_troupe({"ctl", connect, "undeploy", "wc"}).code, 0);
  CAF_CHECK_EQUAL(run_troupe({"ctl", connect, "undeploy", "hello"}).code, 0);
  CAF_CHECK(wait_until([&] { return level_of(st = http_status(http)) == "green"; }, 10s));
  if (caf::test::engine::current_test()->bad() > 0)
    std::cout << node.log() << greeter.log() << (st ? st->dump(2) : std::string{"no status"})
              << "\n";
}
