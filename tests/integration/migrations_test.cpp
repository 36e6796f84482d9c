// Run-once migrations across real processes, with the example binary
// (examples/migrations/main.cpp): 001-stamp appends one line per run to migrations.log,
// 002-backfill writes steps into steps.log with a checkpoint after each, 003-check fails while
// block-003 exists. All three write to $TROUPE_EXAMPLE_MIGRATIONS_DIR, shared by every worker.
#include "tests/integration/small_cluster.hpp"

#define CAF_SUITE migrations
#include <caf/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <set>

using namespace troupe::it;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> lines_of(const fs::path& file) {
  std::vector<std::string> out;
  std::ifstream in{file};
  for (std::string l; std::getline(in, l);)
    out.push_back(l);
  return out;
}

struct migrating_cluster : small_cluster {
  fs::path shared;

  migrating_cluster(const std::string& test, uint32_t steps, uint32_t step_ms)
    : small_cluster(test, TROUPE_MIGRATIONS_BIN), shared(dir + "/shared") {
    fs::create_directories(shared);
    ::setenv("TROUPE_EXAMPLE_MIGRATIONS_DIR", shared.c_str(), 1);
    ::setenv("TROUPE_EXAMPLE_MIGRATION_STEPS", std::to_string(steps).c_str(), 1);
    ::setenv("TROUPE_EXAMPLE_MIGRATION_STEP_MS", std::to_string(step_ms).c_str(), 1);
  }

  /// `troupe ctl migrations --json`, or null when the node does not answer.
  json listing() {
    auto r = run_troupe({"ctl", connect, "--json", "migrations"});
    return r.code == 0 ? json::parse(r.out, nullptr, false) : json{};
  }

  json record(const std::string& id) {
    auto j = listing();
    if (j.is_object())
      for (auto& m : j.at("migrations"))
        if (m.at("id") == id)
          return m;
    return json{};
  }

  /// The worker running 002-backfill once its checkpoint reached `step` ("" : not in 15 s).
  std::string backfill_runner_past(int step) {
    std::string node;
    bool seen = wait_until(
      [&] {
        auto r = record("002-backfill");
        node = r.value("node", "");
        auto cp = r.value("checkpoint", "");
        return r.value("state", "") == "running" && !cp.empty() && std::stoi(cp) >= step;
      },
      15s, 30ms);
    return seen ? node : std::string{};
  }

  bool all_done() {
    auto j = listing();
    return j.is_object() && j.at("waiting_for") == "";
  }
};

} // namespace

CAF_TEST(three workers racing at start run each migration exactly once) {
  migrating_cluster c{"mig-race", 5, 20};
  CAF_REQUIRE(c.boot({"w1", "w2", "w3"}));
  CAF_CHECK(wait_until([&] { return c.all_done(); }, 15s, 100ms));
  // 001-stamp is not idempotent: one line means one run in the whole cluster.
  auto stamps = lines_of(c.shared / "migrations.log");
  CAF_CHECK_EQUAL(stamps.size(), 1u);
  CAF_MESSAGE("001-stamp: " << (stamps.empty() ? "-" : stamps[0]));
  CAF_CHECK_EQUAL(lines_of(c.shared / "steps.log"),
                  (std::vector<std::string>{"step 1", "step 2", "step 3", "step 4", "step 5"}));
  for (auto id : {"001-stamp", "002-backfill", "003-check"}) {
    auto r = c.record(id);
    CAF_CHECK_EQUAL(r.value("state", ""), "done");
    CAF_CHECK_EQUAL(r.value("attempts", 0), 1);
    CAF_CHECK_EQUAL(r.value("node", ""), c.main_worker());
  }
  // Each completion was announced with a persisted broadcast.
  auto announced = run_troupe({"ctl", "--connect=" + c.address_of("w1"), "--json", "subscribe",
                               "migrations", "--namespace", "troupe", "--count", "3", "--wait",
                               "5s"});
  CAF_CHECK_EQUAL(announced.code, 0);
  CAF_CHECK(announced.out.find("003-check") != std::string::npos);
  // Deployments run once the migrations are done.
  CAF_CHECK_EQUAL(run_troupe({"ctl", c.connect, "deploy", "wc", "word-count"}).code, 0);
  CAF_CHECK(wait_until(
    [&] { return run_troupe({"ctl", c.connect, "request", "wc", "k", "x"}).out == "1\n"; }, 5s));
}

CAF_TEST(the next main worker resumes a migration whose main worker was killed) {
  migrating_cluster c{"mig-resume", 40, 50};
  CAF_REQUIRE(c.boot({"w1", "w2"}));
  // SIGKILL the main worker once 002-backfill is a few steps in.
  auto first = c.backfill_runner_past(5);
  CAF_REQUIRE(!first.empty());
  // Meanwhile the cluster says why its deployments do not run yet.
  auto waiting = run_troupe({"status", c.connect});
  CAF_CHECK(waiting.out.find("health yellow") != std::string::npos);
  CAF_CHECK(waiting.out.find("deployments wait for migration 002-backfill (running on " + first)
            != std::string::npos);
  CAF_MESSAGE("killing " << first << " in the middle of 002-backfill");
  c.workers.at(first)->signal(SIGKILL);
  CAF_CHECK(wait_until([&] { return c.all_done(); }, 20s, 100ms));
  auto r = c.record("002-backfill");
  auto second = r.value("node", "");
  CAF_CHECK_NOT_EQUAL(second, first);
  CAF_CHECK_EQUAL(r.value("attempts", 0), 2);
  // It went on from its checkpoint, not from the start, and each step happened once.
  auto runs = lines_of(c.shared / "runs.log");
  CAF_REQUIRE_EQUAL(runs.size(), 2u);
  CAF_MESSAGE("runs: " << runs[0] << " / " << runs[1]);
  CAF_CHECK_EQUAL(runs[0], first + " from 0 attempt 1");
  CAF_CHECK(runs[1].rfind(second + " from ", 0) == 0);
  auto resumed_at = std::stoi(runs[1].substr(second.size() + 6));
  CAF_CHECK_GREATER_OR_EQUAL(resumed_at, 5);
  auto steps = lines_of(c.shared / "steps.log");
  CAF_CHECK_EQUAL(steps.size(), 40u);
  CAF_CHECK_EQUAL(std::set<std::string>(steps.begin(), steps.end()).size(), 40u);
  CAF_CHECK_EQUAL(lines_of(c.shared / "migrations.log").size(), 1u);
}

CAF_TEST(a failing migration turns the cluster red and waits for a retry) {
  migrating_cluster c{"mig-fail", 2, 10};
  std::ofstream{c.shared / "block-003"} << "until an operator looks\n";
  CAF_REQUIRE(c.boot({"w1"}));
  CAF_CHECK(wait_until([&] { return c.record("003-check").value("state", "") == "failed"; }, 10s,
                       100ms));
  auto status = run_troupe({"status", c.connect});
  CAF_CHECK(status.out.find("health red") != std::string::npos);
  CAF_CHECK(status.out.find("migration failed: 003-check") != std::string::npos);
  // Deployments do not start meanwhile, and say why.
  CAF_CHECK_EQUAL(run_troupe({"ctl", c.connect, "deploy", "wc", "word-count"}).code, 0);
  auto refused = run_troupe({"ctl", c.connect, "request", "wc", "k", "x"});
  CAF_CHECK_NOT_EQUAL(refused.code, 0);
  CAF_CHECK(refused.err.find("wait for migration 003-check") != std::string::npos);
  // Fixing the cause is not enough: it runs again only on retry.
  fs::remove(c.shared / "block-003");
  std::this_thread::sleep_for(1500ms);
  CAF_CHECK_EQUAL(c.record("003-check").value("state", ""), "failed");
  auto retry = run_troupe({"ctl", c.connect, "migrations", "retry", "003-check"});
  CAF_CHECK_EQUAL(retry.code, 0);
  CAF_CHECK(wait_until([&] { return c.all_done(); }, 10s, 100ms));
  CAF_CHECK_EQUAL(c.record("003-check").value("attempts", 0), 2);
  CAF_CHECK(wait_until(
    [&] { return run_troupe({"ctl", c.connect, "request", "wc", "k", "x"}).out == "1\n"; }, 5s));
  CAF_CHECK(wait_until(
    [&] { return run_troupe({"status", c.connect}).out.find("health green") != std::string::npos; },
    10s, 200ms));
  auto again = run_troupe({"ctl", c.connect, "migrations", "retry"});
  CAF_CHECK_EQUAL(again.code, 1);
  CAF_CHECK(again.err.find("no migration has failed") != std::string::npos);
}

CAF_TEST(a main worker paused mid-migration records nothing after another took over) {
  migrating_cluster c{"mig-pause", 40, 50};
  CAF_REQUIRE(c.boot({"w1", "w2"}));
  auto first = c.backfill_runner_past(5);
  CAF_REQUIRE(!first.empty());
  auto other = first == "w1" ? std::string{"w2"} : std::string{"w1"};
  auto& paused = *c.workers.at(first);
  paused.signal(SIGSTOP);
  // The other worker becomes main once the paused one's lease ran out, and takes it over.
  CAF_CHECK(wait_until([&] { return c.record("002-backfill").value("node", "") == other; }, 15s,
                       50ms));
  paused.signal(SIGCONT);
  CAF_CHECK(wait_until([&] { return c.all_done(); }, 20s, 100ms));
  // The paused run woke up holding a stale epoch: whatever it tried was refused or stopped.
  CAF_CHECK(wait_until(
    [&] {
      auto log = paused.log();
      return log.find("migration 002-backfill interrupted") != std::string::npos
             || log.find("migration 002-backfill finished but was not recorded")
                  != std::string::npos;
    },
    10s, 100ms));
  auto r = c.record("002-backfill");
  CAF_CHECK_EQUAL(r.value("node", ""), other);
  CAF_CHECK_EQUAL(r.value("attempts", 0), 2);
  auto steps = lines_of(c.shared / "steps.log");
  CAF_CHECK_EQUAL(steps.size(), 40u);
  CAF_CHECK_EQUAL(std::set<std::string>(steps.begin(), steps.end()).size(), 40u);
}
