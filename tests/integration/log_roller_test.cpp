// The log-roller against real processes: a coordinator and three workers all log through the
// coordinator's roller, each at 10,000 lines a second, while the file rotates by size and on
// `troupe ctl logs rotate`; every line must be in the rotated files exactly once, whole.
#define CAF_SUITE log_roller
#include <caf/test/unit_test.hpp>

#include "tests/integration/local_cluster.hpp"

#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>

using namespace troupe::it;

namespace {

struct scan {
  std::map<std::pair<std::string, uint64_t>, int> seen;  // (node, line number) -> times
  std::map<std::string, bool> done;                       // node -> its "done" line was seen
  size_t torn = 0;
  size_t files = 0;
  std::string first_torn;
};

scan read_logs(const std::string& dir, uint64_t count) {
  static const std::regex whole{R"(^\[[^\]]+\]\[[a-z]+\]\[([^\]]+)\]\[([a-z_]+)\] .*$)"};
  static const std::regex chat{R"(\[chatter\] line ([0-9]+) of ([0-9]+) (=+)$)"};
  static const std::regex done{R"(\[chatter\] done: ([0-9]+) lines$)"};
  scan s;
  for (auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().filename().string().rfind("troupe.log", 0) != 0)
      continue;
    ++s.files;
    std::ifstream in{e.path()};
    for (std::string line; std::getline(in, line);) {
      std::smatch m;
      if (!std::regex_match(line, m, whole)) {
        if (s.torn++ == 0)
          s.first_torn = line;
        continue;
      }
      auto node = m[1].str();
      std::smatch c;
      if (std::regex_search(line, c, chat)) {
        if (c[3].length() != 48 || std::stoull(c[2].str()) != count) {
          if (s.torn++ == 0)
            s.first_torn = line;
          continue;
        }
        ++s.seen[{node, std::stoull(c[1].str())}];
      } else if (std::regex_search(line, c, done)) {
        s.done[node] = true;
      }
    }
  }
  return s;
}

} // namespace

CAF_TEST(four processes log through one roller and every line lands once and whole) {
  constexpr uint64_t count = 20000;
  auto logs = temp_dir("log-roller-files");
  local_cluster node{"log-roller", 3,
                     {"--log-file=" + logs + "/troupe.log", "--log-max-bytes=300000",
                      "--log-max-files=500"}};
  CAF_REQUIRE(node.wait_up(4));
  auto connect = "--connect=127.0.0.1:" + std::to_string(node.port);
  std::vector<std::string> nodes{node.name, node.worker(1), node.worker(2), node.worker(3)};
  for (auto& n : nodes) // 10,000 lines a second each, for two seconds
    CAF_CHECK_EQUAL(run_troupe({"ctl", connect, "spawn", "chatter", "--node", n,
                                std::to_string(count), "10000"})
                      .code,
                    0);
  // Rotations on request while the lines flow, on top of those by size.
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(300ms);
    auto r = run_troupe({"ctl", connect, "logs", "rotate", "--node", nodes[i % nodes.size()]});
    CAF_CHECK_EQUAL(r.code, 0);
    CAF_CHECK(r.out.find("OK rotated") != std::string::npos);
  }
  scan s;
  CAF_CHECK(wait_until(
    [&] {
      s = read_logs(logs, count);
      return s.done.size() == nodes.size();
    },
    30s, 200ms));
  // A worker's lines from before it joined (no roller yet) went to stderr, counted, and reached
  // the log file once the worker found the roller: its very first line is there.
  auto first_line = "[" + node.worker(1) + "][node] node " + node.worker(1) + " (pid";
  CAF_CHECK(wait_until(
    [&] {
      for (auto& e : std::filesystem::directory_iterator(logs)) {
        std::ifstream in{e.path()};
        std::string line;
        while (std::getline(in, line))
          if (line.find(first_line) != std::string::npos)
            return true;
      }
      return false;
    },
    10s, 200ms));
  auto st = node.status();
  CAF_REQUIRE(st);
  auto w = member(*st, node.worker(1));
  CAF_REQUIRE(w);
  httplib::Client cli{"127.0.0.1", w->at("http_port").get<uint16_t>()};
  auto res = cli.Get("/metrics");
  CAF_REQUIRE(res);
  std::smatch m;
  CAF_REQUIRE(std::regex_search(res->body, m, std::regex{"troupe_log_lines_stderr_total ([0-9]+)"}));
  CAF_CHECK_GREATER(std::stoull(m[1].str()), 0u);
  // Stop, so that no rotation renames files while they are read.
  node.coord->signal(SIGTERM);
  CAF_CHECK_EQUAL(node.coord->wait_exit(15s), 0);
  s = read_logs(logs, count);
  CAF_MESSAGE(s.files << " files, " << s.seen.size() << " distinct chatter lines");
  CAF_CHECK_GREATER(s.files, 5u); // several rotations
  CAF_CHECK_EQUAL(s.torn, 0u);
  if (s.torn > 0)
    CAF_MESSAGE("first torn line: " << s.first_torn);
  CAF_CHECK_EQUAL(s.seen.size(), count * nodes.size());
  size_t twice = 0;
  for (auto& [k, n] : s.seen)
    if (n != 1)
      ++twice;
  CAF_CHECK_EQUAL(twice, 0u);
  for (auto& n : nodes)
    for (uint64_t i : {uint64_t{1}, count / 2, count})
      CAF_CHECK_EQUAL(s.seen.count({n, i}), 1u);
}

CAF_TEST(a node without a log file refuses to rotate and a second writer is refused) {
  local_cluster node{"log-roller-none", 0};
  CAF_REQUIRE(node.wait_up(1));
  auto r = run_troupe({"ctl", "--connect=127.0.0.1:" + std::to_string(node.port), "logs", "rotate"});
  CAF_CHECK_EQUAL(r.code, 1);
  CAF_CHECK(r.err.find("writes no log file") != std::string::npos);
  auto dir = temp_dir("log-roller-lock");
  auto file = dir + "/troupe.log";
  auto port = free_port_pair();
  process first{{"run", "--name=a", "--cluster-port=" + std::to_string(port), "--data-dir=" + dir + "/a",
                 "--log-file=" + file},
                dir + "/a.out"};
  CAF_CHECK(wait_until([&] { return std::filesystem::exists(file); }, 5s));
  std::this_thread::sleep_for(200ms);
  auto second = run_troupe({"run", "--name=b", "--cluster-port=0", "--data-dir=" + dir + "/b",
                            "--log-file=" + file});
  CAF_CHECK_EQUAL(second.code, 78);
  CAF_CHECK(second.err.find("being written by another process") != std::string::npos);
}
