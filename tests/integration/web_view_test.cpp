// The web view in a real browser: headless Chromium (tests/web/web_view_probe.mjs) loads a
// node's page once and must show every member up, a SIGKILLed worker down and then up again,
// live, without a reload. Screenshots stay under the test's folder in build/.
#define CAF_SUITE web_view
#include <caf/test/unit_test.hpp>

#include "tests/integration/local_cluster.hpp"

#include <csignal>
#include <filesystem>

using namespace troupe::it;

CAF_TEST(the web view shows every member and a killed worker down and up again) {
  local_cluster node{"web_view", 3, {"--console-token=web-secret"}};
  CAF_REQUIRE(node.wait_up(4));
  auto page = run_program({"curl", "-s", "http://127.0.0.1:" + std::to_string(node.http_port()) + "/"});
  CAF_REQUIRE_EQUAL(page.code, 0);
  CAF_CHECK(page.out.find("<title>Troupe</title>") != std::string::npos);
  auto probe_dir = std::string{TROUPE_SOURCE_DIR} + "/tests/web";
  if (!std::filesystem::is_directory(probe_dir + "/node_modules/playwright-core"))
    CAF_FAIL("tests/web/node_modules/playwright-core is missing: run scripts/setup.sh");
  // Shared work for the page to show: a queue and a task.
  auto connect = "--connect=127.0.0.1:" + std::to_string(node.port);
  auto token = "--token=web-secret";
  CAF_REQUIRE_EQUAL(run_troupe({"ctl", connect, token, "queue", "create", "web-queue", "echo"}).code, 0);
  CAF_REQUIRE_EQUAL(run_troupe({"ctl", connect, token, "tasks", "start", "web-task", "beacon",
                                "--instances", "2", "--config", "interval-ms=1000"})
                      .code,
                    0);
  auto victim = node.worker(2);
  auto old_pid = node.pid_of(victim);
  CAF_REQUIRE_GREATER(old_pid, 0);
  process probe{{probe_dir + "/web_view_probe.mjs",
                 "http://127.0.0.1:" + std::to_string(node.http_port()) + "/", "4", victim,
                 node.dir},
                node.dir + "/probe.log", probe_dir, "/dev/null", "node"};
  auto said = [&](const std::string& what) { return probe.log().find(what) != std::string::npos; };
  bool ready = wait_until([&] { return said("ready ") || !probe.running(); }, 60s, 50ms);
  CAF_MESSAGE("probe: " << probe.log());
  CAF_REQUIRE(ready && said("ready "));
  ::kill(old_pid, SIGKILL);
  auto code = probe.wait_exit(60s);
  CAF_MESSAGE("probe: " << probe.log());
  CAF_REQUIRE(code.has_value());
  CAF_CHECK_EQUAL(*code, 0);
  CAF_CHECK(said("shared work shown"));
  CAF_CHECK(said("down shown"));
  CAF_CHECK(said("seen: " + victim));
  CAF_CHECK(node.pid_of(victim) != old_pid);
  CAF_CHECK(std::filesystem::exists(node.dir + "/web-view.png"));
}

CAF_TEST(actions from the web view need the console token) {
  local_cluster node{"web_view_actions", 1, {"--console-token=web-secret"}};
  CAF_REQUIRE(node.wait_up(2));
  auto url = "http://127.0.0.1:" + std::to_string(node.http_port()) + "/api/kill";
  auto post = [&](const std::string& token, const std::string& body) {
    std::vector<std::string> argv{"curl", "-s", "-o", "/dev/stderr", "-w", "%{http_code}",
                                  "-XPOST", url, "-d", body};
    if (!token.empty())
      argv.insert(argv.end(), {"-H", "X-Troupe-Token: " + token});
    return run_program(argv);
  };
  std::string router_id;
  auto restarts_of_router = [&] {
    auto r = run_troupe({"ctl", "--connect", "127.0.0.1:" + std::to_string(node.port), "inspect",
                         "router", "--node", node.name, "--json"});
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    if (j.is_discarded())
      return -1;
    router_id = j.value("id", "");
    return j.value("restarts", -1);
  };
  auto before = restarts_of_router();
  CAF_REQUIRE_GREATER_OR_EQUAL(before, 0);
  auto body = R"({"id":")" + router_id + R"("})";
  auto none = post("", body);
  CAF_CHECK_EQUAL(none.out, "403");
  auto wrong = post("guess", body);
  CAF_CHECK_EQUAL(wrong.out, "403");
  CAF_CHECK(wrong.err.find("wrong or missing console token") != std::string::npos);
  CAF_CHECK_EQUAL(restarts_of_router(), before); // nothing was killed
  auto bad = post("web-secret", "not json");
  CAF_CHECK_EQUAL(bad.out, "400");
  auto ok = post("web-secret", body);
  CAF_CHECK_EQUAL(ok.out, "200");
  CAF_MESSAGE("answer: " << ok.err);
  CAF_CHECK(wait_until([&] { return restarts_of_router() == before + 1; }, 5s));
}
