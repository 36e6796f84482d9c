// The file-ingest example (examples/file_ingest) end to end: a prospector task with two
// instances submits a job per file dropped in a directory, line-count appends each file's
// count to one output file. Through a SIGKILLed worker and a restart of every node in the
// middle, every file's line appears exactly once, with its count, and the set of processed
// files holds every file.
#define CAF_SUITE file_ingest
#include <caf/test/unit_test.hpp>

#include "tests/integration/local_cluster.hpp"

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <map>

using namespace troupe::it;
namespace fs = std::filesystem;

namespace {

/// Writes file `i` (i % 50 + 1 lines) into `in` by rename, so the prospector never sees it
/// half written.
void drop(const std::string& in, const std::string& tmp, size_t i) {
  auto name = "f" + std::to_string(i) + ".txt";
  {
    std::ofstream out{tmp + "/" + name};
    for (size_t k = 0; k <= i % 50; ++k)
      out << "line " << k << " of " << name << '\n';
  }
  fs::rename(tmp + "/" + name, in + "/" + name);
}

/// The output's lines: file -> the counts recorded for it (more than one: a duplicate).
std::map<std::string, std::vector<size_t>> output(const std::string& path) {
  std::map<std::string, std::vector<size_t>> out;
  std::ifstream in{path};
  for (std::string line; std::getline(in, line);) {
    auto tab = line.find('\t');
    if (tab == std::string::npos)
      continue;
    out[line.substr(0, tab)].push_back(std::stoul(line.substr(tab + 1)));
  }
  return out;
}

size_t lines_of(const std::string& path) {
  std::ifstream in{path};
  size_t n = 0;
  for (std::string line; std::getline(in, line);)
    ++n;
  return n;
}

} // namespace

CAF_TEST(every file is counted exactly once through a killed worker and a restart of every node) {
  local_cluster node{"file_ingest", 3};
  CAF_REQUIRE(node.wait_up(4));
  auto connect = "--connect=127.0.0.1:" + std::to_string(node.port);
  auto in = node.dir + "/in", tmp = node.dir + "/tmp", out = node.dir + "/output.tsv";
  fs::create_directories(in);
  fs::create_directories(tmp);
  CAF_REQUIRE_EQUAL(run_troupe({"ctl", connect, "queue", "create", "ingest", "line-count",
                                "--slots-per-worker", "2", "--timeout", "5s", "--max-attempts",
                                "20", "--backoff", "100ms"})
                      .code,
                    0);
  CAF_REQUIRE_EQUAL(run_troupe({"ctl", connect, "tasks", "start", "prospect", "file-prospector",
                                "--instances", "2", "--config", "dir=" + in, "--config",
                                "output=" + out, "--config", "interval-ms=50"})
                      .code,
                    0);
  constexpr size_t total = 300;
  size_t next = 0;
  auto drop_until = [&](size_t n) {
    for (; next < n; ++next)
      drop(in, tmp, next);
  };
  // The faults come while files are being counted: as soon as the first lines of a batch are
  // out, not after it.
  drop_until(100);
  CAF_REQUIRE(wait_until([&] { return lines_of(out) >= 10; }, 30s, 2ms));
  auto pid = node.pid_of(node.worker(1));
  CAF_REQUIRE_GREATER(pid, 0);
  CAF_MESSAGE("SIGKILL " << node.worker(1) << " at " << lines_of(out) << " lines");
  ::kill(pid, SIGKILL);
  drop_until(200);
  CAF_REQUIRE(wait_until([&] { return lines_of(out) >= 110; }, 60s, 2ms));
  CAF_MESSAGE("restarting every node at " << lines_of(out) << " lines");
  CAF_REQUIRE(node.restart());
  drop_until(total);
  CAF_REQUIRE(node.wait_up(4, 30s));
  CAF_REQUIRE(wait_until([&] { return lines_of(out) >= total; }, 90s, 100ms));
  // Done once more: no job left pending or running, and the set holds every file.
  CAF_REQUIRE(wait_until(
    [&] {
      auto r = run_troupe({"ctl", connect, "jobs", "ingest", "--json"});
      auto v = nlohmann::json::parse(r.out, nullptr, false);
      return r.code == 0 && v.is_object() && v.at("done").get<size_t>() == total;
    },
    60s, 100ms));
  auto lines = output(out);
  CAF_CHECK_EQUAL(lines.size(), total);
  for (size_t i = 0; i < total; ++i) {
    auto name = "f" + std::to_string(i) + ".txt";
    auto& counts = lines[name];
    CAF_CHECK_EQUAL(counts.size(), 1u);
    if (!counts.empty())
      CAF_CHECK_EQUAL(counts.front(), i % 50 + 1);
  }
  auto listed = run_troupe({"ctl", connect, "set", "list", "ingested", "--json"});
  CAF_REQUIRE_EQUAL(listed.code, 0);
  CAF_CHECK_EQUAL(nlohmann::json::parse(listed.out).at("total").get<size_t>(), total);
}
