#define CAF_SUITE config_errors
#include <caf/test/unit_test.hpp>

#include "actors/link/cookie.hpp"
#include "tests/integration/local_cluster.hpp"

#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

using namespace troupe::it;

namespace {

bool one_line_naming(const run_result& r, const std::string& setting) {
  return r.code == 78 && r.err.find(setting) != std::string::npos
         && std::count(r.err.begin(), r.err.end(), '\n') == 1;
}

} // namespace

CAF_TEST(a coordinator without peers and a worker without coordinators exit 78) {
  auto dir = temp_dir("flags");
  CAF_CHECK(one_line_naming(run_troupe({"run", "--coordinator", "--data-dir=" + dir}), "--peers"));
  CAF_CHECK(one_line_naming(run_troupe({"run", "--worker", "--data-dir=" + dir}),
                            "--coordinators"));
  CAF_CHECK(one_line_naming(run_troupe({"run", "--no-such-flag"}), "--no-such-flag"));
  CAF_CHECK(one_line_naming(run_troupe({"run", "--cluster-port", "99999"}), "--cluster-port"));
  CAF_CHECK(!std::filesystem::exists(dir + "/cluster-id")); // nothing was started
}

CAF_TEST(a bad config file value exits 78) {
  auto dir = temp_dir("badfile");
  std::ofstream{dir + "/troupe.ini"} << "[troupe]\ncluster-port = \"x\"\n";
  auto r = run_troupe({"run", "--config-file", dir + "/troupe.ini"});
  CAF_CHECK(one_line_naming(r, "troupe.cluster-port"));
  auto missing = run_troupe({"run", "--config-file", dir + "/missing.ini"});
  CAF_CHECK(one_line_naming(missing, "--config-file"));
}

CAF_TEST(a port in use exits 78 naming it) {
  local_cluster first{"port1", 0};
  CAF_REQUIRE(first.wait_up(1));
  auto dir = temp_dir("port2");
  auto r = run_troupe({"run", "--cluster-port=" + std::to_string(first.port),
                       "--data-dir=" + dir});
  CAF_CHECK(one_line_naming(r, "--cluster-port"));
  // The HTTP port is checked as well.
  auto p2 = free_port_pair();
  auto h = run_troupe({"run", "--cluster-port=" + std::to_string(p2),
                       "--http-port=" + std::to_string(first.http_port()), "--data-dir=" + dir});
  CAF_CHECK(one_line_naming(h, "--http-port"));
}

CAF_TEST(the pid file is written removed and guards against a second start) {
  auto dir = temp_dir("pidfile");
  auto pidf = dir + "/troupe.pid";
  std::ofstream{pidf} << "999999\n"; // stale: no such process
  auto port = free_port_pair();
  process p{{"run", "--cluster-port=" + std::to_string(port), "--data-dir=" + dir + "/data",
             "--pid-file=" + pidf},
            dir + "/node.log"};
  CAF_REQUIRE(wait_until([&] { return http_status(static_cast<uint16_t>(port + 1)).has_value(); },
                         10s));
  std::ifstream in{pidf};
  pid_t written = 0;
  in >> written;
  CAF_CHECK_EQUAL(written, p.pid());
  auto second = run_troupe({"run", "--cluster-port=" + std::to_string(free_port_pair()),
                            "--data-dir=" + dir + "/data2", "--pid-file=" + pidf});
  CAF_CHECK(one_line_naming(second, "--pid-file"));
  p.signal(SIGTERM);
  CAF_CHECK_EQUAL(p.wait_exit(10s).value_or(-1), 0);
  CAF_CHECK(!std::filesystem::exists(pidf));
}

CAF_TEST(help lists every option with its default) {
  auto r = run_troupe({"run", "--help"});
  CAF_CHECK_EQUAL(r.code, 0);
  CAF_CHECK(r.out.find("--cluster-port") != std::string::npos);
  CAF_CHECK(r.out.find("[default: 8139]") != std::string::npos);
}

CAF_TEST(a worker with another vnode count is refused and exits 78) {
  local_cluster cluster{"vnodes", 0}; // a cluster of one, created with the default 64 vnodes
  CAF_REQUIRE(cluster.wait_up(1));
  auto dir = temp_dir("vnodes-worker");
  auto r = run_troupe({"run", "--worker", "--name=odd",
                       "--coordinators=127.0.0.1:" + std::to_string(cluster.port),
                       "--cluster-port=0", "--http-port=0", "--vnodes=128",
                       "--data-dir=" + dir},
                      15s);
  CAF_CHECK_EQUAL(r.code, 78);
  // It ran (its log is on stderr); its last line says why it stopped.
  auto body = r.err.substr(0, r.err.size() - 1);
  auto last = body.substr(body.rfind('\n') + 1);
  CAF_CHECK(last.rfind("troupe run: refused by the cluster: ", 0) == 0);
  CAF_CHECK(last.find("--vnodes 64") != std::string::npos);
  CAF_CHECK(last.find("--vnodes 128") != std::string::npos);
}

CAF_TEST(a node without a cookie it may use exits 78 saying how to give one) {
  auto dir = temp_dir("cookie-config");
  // Run where there is no ./troupe-data and with no $TROUPE_CLUSTER_SECRET_FILE.
  auto bare = [&](std::vector<std::string> args) {
    std::vector<std::string> argv{"env", "-u", "TROUPE_CLUSTER_SECRET_FILE", "-C", dir, TROUPE_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_program(argv, 10s);
  };
  auto port = free_port_pair();
  auto p = std::to_string(port);
  // A worker finds none: it may not make one.
  auto worker = bare({"run", "--worker", "--coordinators=127.0.0.1:" + p, "--cluster-port=0",
                      "--data-dir=" + dir + "/w"});
  CAF_CHECK(one_line_naming(worker, "--cluster-secret-file"));
  CAF_CHECK(worker.err.find("no cluster cookie") != std::string::npos);
  // The second coordinator of a group neither: only the first (in sorted order) makes one.
  auto peers = "--peers=127.0.0.1:" + p + ",127.0.0.1:" + std::to_string(port - 2) + ",127.0.0.1:"
               + std::to_string(port - 4);
  auto second = bare({"run", "--coordinator", peers, "--cluster-port=" + p, "--data-dir=" + dir + "/c"});
  CAF_CHECK(one_line_naming(second, "--cluster-secret-file"));
  CAF_CHECK(second.err.find("127.0.0.1:" + std::to_string(port - 4)) != std::string::npos);
  // A cookie file others may read, a weak one, a missing one.
  auto open_file = dir + "/open-cookie";
  std::ofstream{open_file} << "0123456789abcdef0123456789abcdef\n";
  ::chmod(open_file.c_str(), 0644);
  auto open = bare({"run", "--cluster-port=" + p, "--data-dir=" + dir + "/o",
                    "--cluster-secret-file=" + open_file});
  CAF_CHECK(one_line_naming(open, "--cluster-secret-file"));
  CAF_CHECK(open.err.find("chmod 600") != std::string::npos);
  auto weak_file = dir + "/weak-cookie";
  std::ofstream{weak_file} << "abc\n";
  ::chmod(weak_file.c_str(), 0600);
  CAF_CHECK(one_line_naming(bare({"run", "--cluster-port=" + p, "--data-dir=" + dir + "/o",
                                  "--cluster-secret-file=" + weak_file}),
                            "--cluster-secret-file"));
  auto client = bare({"kv", "put", "a", "b", "--cluster-secret-file=" + dir + "/none"});
  CAF_CHECK_EQUAL(client.code, 78);
  CAF_CHECK(client.err.find("--cluster-secret-file") != std::string::npos);
  // Two clusters' cookies in the default data dirs: which one is meant is not guessed.
  for (auto* name : {"a", "b"}) {
    std::filesystem::create_directories(dir + "/troupe-data/" + name);
    std::string problem;
    CAF_REQUIRE(!troupe::create_cookie_file(dir + "/troupe-data/" + name + "/cookie", problem)
                   .empty());
  }
  auto two = bare({"run", "--cluster-port=" + p, "--data-dir=" + dir + "/t"});
  CAF_CHECK(one_line_naming(two, "--cluster-secret-file"));
  CAF_CHECK(two.err.find("two different cookies") != std::string::npos);
}
