#define CAF_SUITE cluster_of_one
#include <caf/test/unit_test.hpp>

#include "tests/integration/local_cluster.hpp"

#include <signal.h>

#include <fstream>
#include <sstream>

using namespace troupe::it;

CAF_TEST(a cluster of one comes up and answers status) {
  local_cluster node{"one", 0};
  CAF_REQUIRE(node.wait_up(1));
  auto st = node.status();
  CAF_REQUIRE(st);
  CAF_REQUIRE_EQUAL(st->at("members").size(), 1u);
  auto& m = st->at("members")[0];
  CAF_CHECK_EQUAL(m.at("name"), node.name);
  CAF_CHECK_EQUAL(m.at("address"), "127.0.0.1:" + std::to_string(node.port));
  CAF_CHECK_EQUAL(m.at("roles"), nlohmann::json::array({"coordinator", "worker"}));
  CAF_CHECK_EQUAL(m.at("pid").get<pid_t>(), node.coord->pid());
  CAF_CHECK_EQUAL(st->at("node").at("health").at("level"), "green");
  // A cluster of one is a Raft group of one: it leads at once.
  CAF_REQUIRE(m.at("raft").is_object());
  CAF_CHECK_EQUAL(m.at("raft").at("role"), "leader");
  CAF_CHECK_GREATER_OR_EQUAL(m.at("raft").at("term").get<uint64_t>(), 1u);
  CAF_CHECK_GREATER_OR_EQUAL(m.at("raft").at("commit_index").get<uint64_t>(), 1u);
  // Its KV namespace works through the CLI.
  auto ep = "127.0.0.1:" + std::to_string(node.port);
  auto put = run_troupe({"kv", "put", "app/x", "42", "--connect", ep, "--json"});
  CAF_CHECK_EQUAL(put.code, 0);
  CAF_CHECK(nlohmann::json::parse(put.out).at("ok").get<bool>());
  auto get = run_troupe({"kv", "get", "app/x", "--connect", ep});
  CAF_CHECK_EQUAL(get.code, 0);
  CAF_CHECK_EQUAL(get.out, "42\n");
  auto missing = run_troupe({"kv", "get", "app/none", "--connect", ep});
  CAF_CHECK_EQUAL(missing.code, 1);
  CAF_CHECK(missing.err.find("not found") != std::string::npos);
  auto cas = run_troupe({"kv", "put", "app/x", "43", "--expect-revision", "9", "--connect", ep});
  CAF_CHECK_EQUAL(cas.code, 1);
  // Watch: a watcher that stops after two events, and another that resumes after the last
  // revision the first one saw, together see every change under app/ exactly once.
  for (auto v : {"a", "b", "c"})
    CAF_CHECK_EQUAL(run_troupe({"kv", "put", "app/y", v, "--connect", ep}).code, 0);
  CAF_CHECK_EQUAL(run_troupe({"kv", "del", "app/y", "--connect", ep}).code, 0);
  auto w1 = run_troupe({"kv", "watch", "app/", "--after", "0", "--count", "2", "--json",
                        "--connect", ep});
  CAF_REQUIRE_EQUAL(w1.code, 0);
  std::vector<nlohmann::json> seen;
  std::istringstream lines1{w1.out};
  for (std::string line; std::getline(lines1, line);)
    seen.push_back(nlohmann::json::parse(line));
  CAF_REQUIRE_EQUAL(seen.size(), 2u);
  auto last = seen.back().at("revision").get<uint64_t>();
  auto w2 = run_troupe({"kv", "watch", "app/", "--after", std::to_string(last), "--count", "3",
                        "--json", "--connect", ep});
  CAF_REQUIRE_EQUAL(w2.code, 0);
  std::istringstream lines2{w2.out};
  for (std::string line; std::getline(lines2, line);)
    seen.push_back(nlohmann::json::parse(line));
  CAF_REQUIRE_EQUAL(seen.size(), 5u); // put app/x, then put y a, b, c, del y
  for (size_t i = 1; i < seen.size(); ++i)
    CAF_CHECK_GREATER(seen[i].at("revision").get<uint64_t>(),
                      seen[i - 1].at("revision").get<uint64_t>());
  CAF_CHECK_EQUAL(seen.back().at("type").get<std::string>(), "del");

  auto json = run_troupe({"status", "--connect", "127.0.0.1:" + std::to_string(node.port), "--json"});
  CAF_REQUIRE_EQUAL(json.code, 0);
  auto parsed = nlohmann::json::parse(json.out);
  CAF_CHECK_EQUAL(parsed.at("members")[0].at("state"), "up");
  CAF_CHECK_EQUAL(parsed.at("members")[0].at("pid").get<pid_t>(), node.coord->pid());

  auto table = run_troupe({"status", "--connect", "127.0.0.1:" + std::to_string(node.port)});
  CAF_CHECK_EQUAL(table.code, 0);
  CAF_CHECK(table.out.find(node.name) != std::string::npos);
  CAF_CHECK(table.out.find("coordinator,worker") != std::string::npos);

  node.coord->signal(SIGTERM);
  CAF_CHECK_EQUAL(node.coord->wait_exit(10s).value_or(-1), 0);
}

CAF_TEST(status of an unreachable node fails fast with a clear error) {
  auto port = free_port_pair();
  auto t0 = clock::now();
  auto r = run_troupe({"status", "--connect", "127.0.0.1:" + std::to_string(port)});
  CAF_CHECK_NOT_EQUAL(r.code, 0);
  CAF_CHECK(r.err.find("cannot get the status") != std::string::npos);
  CAF_CHECK_LESS(clock::now() - t0, 5s);
}

CAF_TEST(status of a hung node gives up at its timeout instead of hanging) {
  local_cluster node{"hung", 0};
  CAF_REQUIRE(node.wait_up(1));
  node.coord->signal(SIGSTOP);
  auto t0 = clock::now();
  auto r = run_troupe({"status", "--connect", "127.0.0.1:" + std::to_string(node.port),
                       "--timeout", "1s"});
  auto took = clock::now() - t0;
  node.coord->signal(SIGCONT);
  CAF_CHECK_NOT_EQUAL(r.code, 0);
  CAF_CHECK(r.code != -1); // -1: the harness had to kill it
  CAF_CHECK_LESS(took, 5s);
}

CAF_TEST(caf-application.ini in the working directory is ignored) {
  auto dir = temp_dir("cafini");
  // Would be a parse error, or move the node to another port, if CAF read it.
  std::ofstream{dir + "/caf-application.ini"} << "[troupe]\ncluster-port = 1\n[middleman\n";
  auto port = free_port_pair();
  process p{{"run", "--cluster-port=" + std::to_string(port), "--data-dir=" + dir + "/data"},
            dir + "/node.log", dir};
  CAF_CHECK(wait_until([&] { return http_status(static_cast<uint16_t>(port + 1)).has_value(); },
                       10s));
  p.signal(SIGINT); // Ctrl-C stops a node as cleanly as SIGTERM
  CAF_CHECK_EQUAL(p.wait_exit(10s).value_or(-1), 0);
  CAF_CHECK(p.log().find("stopping: received SIGINT") != std::string::npos);
}
