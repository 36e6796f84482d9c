// The example actor types, spawned through the actor type registry as a worker will, on CAF's
// deterministic test coordinator.
#define CAF_SUITE example_actors
#include <caf/test/unit_test.hpp>
#define FAIL(msg) CAF_FAIL(msg)
#include <caf/test/dsl.hpp>

#include "actors/api/jobs.hpp"
#include "actors/wire.hpp"
#include "examples/actors/examples.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace troupe;

namespace {

struct config : caf::actor_system_config {
  config() {
    register_types(*this);
  }
};

struct fixture : test_coordinator_fixture<config> {
  actor_types types;
  std::vector<caf::actor> spawned;
  std::string dir = (std::filesystem::temp_directory_path()
                     / ("troupe-examples-" + std::to_string(getpid())))
                      .string();

  fixture() {
    examples::register_examples(types);
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }

  ~fixture() {
    for (auto& a : spawned)
      anon_send_exit(a, caf::exit_reason::kill);
    run();
    std::filesystem::remove_all(dir);
  }

  caf::actor make(const std::string& type, std::map<std::string, std::string> config = {}) {
    context ctx{"dep", 3, std::move(config), dir, {}};
    auto a = types.spawn(type, sys, ctx);
    CAF_REQUIRE(a);
    spawned.push_back(a);
    run();
    return a;
  }

  std::string ask(const caf::actor& a, const std::string& key, const std::string& payload) {
    auto hdl = self->request(a, caf::infinite, event{key, payload, {}});
    run();
    std::string out;
    hdl.receive([&](const std::string& reply) { out = reply; },
                [&](const caf::error& err) { out = "error: " + sys.render(err); });
    return out;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(example_actor_tests, fixture)

CAF_TEST(the registry knows the examples and refuses a second registration) {
  CAF_CHECK_EQUAL(types.names().size(), 11u);
  CAF_CHECK(!types.add("echo", examples::echo));
  CAF_CHECK(!types.add("bad name", examples::echo));
  CAF_CHECK(!types.spawn("nope", sys, context{}));
}

CAF_TEST(message types registered with the actor types reach the actor system config) {
  actor_types t;
  t.add_message_type<std::vector<int32_t>>("std::vector<int32_t>");
  caf::actor_system_config cfg;
  CAF_CHECK_EQUAL(cfg.value_factories_by_name.count("std::vector<int32_t>"), 0u);
  t.configure(cfg);
  CAF_CHECK_EQUAL(cfg.value_factories_by_name.count("std::vector<int32_t>"), 1u);
}

CAF_TEST(echo replies with the payload) {
  auto a = make("echo");
  CAF_CHECK_EQUAL(ask(a, "k", "hello"), "hello");
}

CAF_TEST(word count counts per key and keeps its counts through a snapshot) {
  auto a = make("word-count");
  CAF_CHECK_EQUAL(ask(a, "apple", "x"), "1");
  CAF_CHECK_EQUAL(ask(a, "apple", "y"), "2");
  CAF_CHECK_EQUAL(ask(a, "pear", "z"), "1");
  CAF_CHECK_EQUAL(ask(a, "apple", ""), "2"); // an empty payload only asks
  auto hdl = self->request(a, caf::infinite, snapshot_atom::value);
  run();
  std::string snap;
  hdl.receive([&](const std::string& s) { snap = s; },
              [&](const caf::error& e) { CAF_FAIL(sys.render(e)); });
  auto b = make("word-count");
  self->send(b, restore_atom::value, snap);
  run();
  CAF_CHECK_EQUAL(ask(b, "apple", ""), "2");
  CAF_CHECK_EQUAL(ask(b, "pear", "again"), "2");
}

CAF_TEST(recorder appends each event as a line before it replies) {
  auto a = make("recorder");
  CAF_CHECK_EQUAL(ask(a, "k1", "first"), "ok");
  CAF_CHECK_EQUAL(ask(a, "k2", "second"), "ok");
  std::ifstream in{dir + "/recorder-dep.log"};
  std::stringstream buf;
  buf << in.rdbuf();
  CAF_CHECK_EQUAL(buf.str(), "k1\tfirst\nk2\tsecond\n");
}

CAF_TEST(rate limiter allows the limit per key per window) {
  auto a = make("rate-limiter", {{"limit", "2"}, {"window-ms", "1000"}});
  CAF_CHECK_EQUAL(ask(a, "u", "1"), "allowed");
  CAF_CHECK_EQUAL(ask(a, "u", "2"), "allowed");
  CAF_CHECK_EQUAL(ask(a, "u", "3"), "throttled");
  CAF_CHECK_EQUAL(ask(a, "v", "1"), "allowed"); // another key has its own window
  advance_time(std::chrono::milliseconds(1000));
  CAF_CHECK_EQUAL(ask(a, "u", "4"), "allowed");
}

CAF_TEST(sleep job sleeps on a timer then records its effect and refuses what is not a job) {
  auto a = make("sleep-job");
  CAF_CHECK(ask(a, "k", "5").rfind("error: ", 0) == 0); // no job headers: not a job
  std::map<std::string, std::string> job{{jobs::queue_header, "q"},
                                         {jobs::id_header, "j1"},
                                         {jobs::epoch_header, "7"},
                                         {jobs::attempt_header, "1"}};
  auto ask_job = [&](const std::string& payload) {
    auto hdl = self->request(a, caf::infinite, event{"j1", payload, job});
    run();
    advance_time(std::chrono::milliseconds(50));
    run();
    std::string out;
    hdl.receive([&](const std::string& reply) { out = reply; },
                [&](const caf::error& err) { out = "error: " + sys.render(err); });
    return out;
  };
  CAF_CHECK(ask_job("fail").find("failed, as asked") != std::string::npos);
  CAF_CHECK(ask_job("soon").find("neither a sleep") != std::string::npos);
  CAF_CHECK_EQUAL(ask_job("20"), "slept 20 ms");
  std::ifstream in{dir + "/sleep-job.effects"};
  std::stringstream got;
  got << in.rdbuf();
  CAF_CHECK_EQUAL(got.str(), "j1\t7\n"); // one effect, from the attempt that succeeded
}

CAF_TEST_FIXTURE_SCOPE_END()
