// Deterministic tests of the membership server and agent: both actors run on CAF's test
// coordinator with virtual time; the agent reaches the server through a stand-in for CAF's
// middleman (the transport seam), which can also play an unreachable or restarted node. The
// server keeps the membership in a real single-voter Raft replica with storage in a temporary
// directory, as a cluster of one does.
#define CAF_SUITE membership_actors
#include <caf/test/unit_test.hpp>
#define FAIL(msg) CAF_FAIL(msg)
#include <caf/test/dsl.hpp>

#include "actors/membership_agent.hpp"
#include "actors/membership_server.hpp"
#include "actors/raft/raft_actor.hpp"
#include "actors/wire.hpp"
#include "tests/actor/fake_resolver.hpp"
#include "protocols/membership/codec.hpp"

#include <unistd.h>

#include <filesystem>

using namespace troupe;
namespace ms = troupe::membership;
using std::chrono::milliseconds;

namespace {

struct config : caf::actor_system_config {
  config() {
    register_types(*this);
  }
};

ms::member make_member(const std::string& name, uint32_t pid, bool coordinator, bool worker) {
  ms::member m;
  m.name = name;
  m.address = "127.0.0.1";
  m.roles = {coordinator, worker};
  m.pid = pid;
  m.started_at_ms = 1000 + pid;
  return m;
}

struct fixture : test_coordinator_fixture<config> {
  caf::actor resolver = sys.spawn(troupe::testing::fake_resolver);
  caf::actor server;
  caf::actor raft;
  std::vector<caf::actor> agents;
  std::string dir = (std::filesystem::temp_directory_path()
                     / ("troupe-membership-actors-" + std::to_string(getpid())))
                      .string();

  fixture() {
    std::filesystem::remove_all(dir);
    server = new_server();
  }

  ~fixture() {
    // Periodic timers re-arm forever: stop the actors before the fixture's final run().
    for (auto& a : agents)
      anon_send_exit(a, caf::exit_reason::kill);
    anon_send_exit(server, caf::exit_reason::kill);
    anon_send_exit(raft, caf::exit_reason::kill);
    anon_send_exit(resolver, caf::exit_reason::kill);
    consume_messages();
    for (int i = 0; i < 100 && trigger_timeouts() > 0; ++i)
      consume_messages();
    std::filesystem::remove_all(dir);
  }

  /// The coordinator's Raft replica; a restarted one reads what the last one stored.
  caf::actor new_raft() {
    raft_actor_config rc;
    rc.raft.id = 1;
    rc.raft.voters = {1};
    rc.resolver = resolver;
    rc.node_name = "coord";
    rc.tick_interval = milliseconds(50);
    std::unique_ptr<troupe::raft::raft_storage> storage;
    troupe::raft::restored_state restored;
    troupe::raft::storage_options opts;
    opts.fsync = false;
    CAF_REQUIRE(!troupe::raft::raft_storage::open(dir, opts, storage, restored));
    auto r = caf::actor_cast<caf::actor>(
      spawn_raft_actor(sys, rc, std::move(storage), std::move(restored)));
    anon_send(r, start_atom::value);
    consume_messages();
    return r;
  }

  caf::actor new_server() {
    raft = new_raft();
    membership_server_config sc;
    sc.self = make_member("coord", 1, true, false);
    sc.cluster_id = "test-cluster";
    sc.table.detector.interval = milliseconds(200);
    sc.table.detector.timeout = milliseconds(1500);
    sc.tick_interval = milliseconds(50);
    sc.services = std::make_shared<service_directory>();
    sc.services->put(service::raft, raft);
    sc.raft_id = 1;
    auto srv = caf::actor_cast<caf::actor>(spawn_membership_server(sys, sc));
    anon_send(srv, start_atom::value, uint16_t{8139}, uint16_t{8140});
    self->send(resolver, srv, true);
    consume_messages();
    return srv;
  }

  caf::actor new_agent(const std::string& name, uint32_t pid,
                       duration heartbeat = milliseconds(200),
                       duration timeout = milliseconds(1500)) {
    membership_agent_config ac;
    ac.self = make_member(name, pid, false, true);
    ac.coordinators = {endpoint{"coord-host", 8139}};
    ac.resolver = resolver;
    ac.heartbeat_interval = heartbeat;
    ac.failure_timeout = timeout;
    ac.connect_timeout = milliseconds(500);
    auto a = caf::actor_cast<caf::actor>(spawn_membership_agent(sys, ac));
    anon_send(a, start_atom::value, uint16_t(9000 + pid), uint16_t(0));
    agents.push_back(a);
    consume_messages();
    return a;
  }

  /// Advances virtual time by `d` in 10 ms steps, delivering every message due.
  void step(duration d) {
    for (auto t = duration{0}; t < d; t += milliseconds(10)) {
      advance_time(milliseconds(10));
      consume_messages();
    }
  }

  ms::status_reply status_of(const caf::actor& who) {
    auto hdl = self->request(who, caf::infinite, frame{ms::encode(ms::status_request{})});
    consume_messages();
    ms::status_reply out;
    hdl.receive(
      [&](const frame& f) {
        ms::decoded msg;
        CAF_REQUIRE(ms::decode(f.bytes, msg) == ms::codec_errc::none);
        CAF_REQUIRE(std::holds_alternative<ms::status_reply>(msg.body));
        out = std::get<ms::status_reply>(msg.body);
      },
      [&](const caf::error& err) { CAF_FAIL("status failed: " << sys.render(err)); });
    return out;
  }

  std::optional<ms::member> member_of(const caf::actor& who, const std::string& name) {
    for (auto& m : status_of(who).members.members)
      if (m.name == name)
        return m;
    return std::nullopt;
  }

  std::string state_of(const std::string& name) {
    auto m = member_of(server, name);
    return m ? ms::to_string(m->state) : "absent";
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(membership_actor_tests, fixture)

CAF_TEST(a worker joins heartbeats and sees the view) {
  auto w = new_agent("w1", 10);
  step(milliseconds(100));
  CAF_CHECK_EQUAL(state_of("w1"), "up");
  CAF_CHECK_EQUAL(state_of("coord"), "up");
  auto m = member_of(server, "w1");
  CAF_REQUIRE(m);
  CAF_CHECK_EQUAL(m->address, "127.0.0.1:9010"); // advertised with the bound port
  // The view reached the worker, so status works against the worker too.
  auto st = status_of(w);
  CAF_CHECK_EQUAL(st.answered_by, "w1");
  CAF_CHECK_EQUAL(st.node_health.level, "green");
  CAF_CHECK_EQUAL(st.members.members.size(), 2u);
  CAF_CHECK_EQUAL(st.members.cluster_id, "test-cluster");
  // Steady heartbeats keep it up for a long time.
  step(milliseconds(5000));
  CAF_CHECK_EQUAL(state_of("w1"), "up");
}

CAF_TEST(a crashed worker is down at once) {
  auto w = new_agent("w1", 10);
  step(milliseconds(100));
  CAF_REQUIRE_EQUAL(state_of("w1"), "up");
  anon_send_exit(w, caf::exit_reason::kill);
  consume_messages(); // no time passes: the down_msg alone marks it
  CAF_CHECK_EQUAL(state_of("w1"), "down");
}

CAF_TEST(a silent member is suspect then down within the failure timeout) {
  // A member that joined but never heartbeats, like a process frozen with SIGSTOP.
  auto hdl = self->request(server, caf::infinite,
                           frame{ms::encode(ms::join_request{make_member("frozen", 50, false, true)})});
  consume_messages();
  hdl.receive([](const frame&) {}, [&](const caf::error& e) { CAF_FAIL(sys.render(e)); });
  auto inc = member_of(server, "frozen")->incarnation;
  self->request(server, caf::infinite, frame{ms::encode(ms::heartbeat{"frozen", inc})});
  consume_messages();
  self->receive([](const frame&) {});
  CAF_REQUIRE_EQUAL(state_of("frozen"), "up");
  bool saw_suspect = false;
  duration elapsed{0};
  while (state_of("frozen") != "down" && elapsed <= milliseconds(2000)) {
    step(milliseconds(50));
    elapsed += milliseconds(50);
    saw_suspect |= state_of("frozen") == "suspect";
  }
  CAF_CHECK(saw_suspect);
  CAF_CHECK_EQUAL(state_of("frozen"), "down");
  CAF_CHECK_LESS_OR_EQUAL(elapsed, milliseconds(1600));
}

CAF_TEST(a member marked down while alive rejoins with a new incarnation) {
  // Heartbeats every 4 s against a 1.5 s timeout: the server gives up between two of them.
  auto w = new_agent("slow", 11, milliseconds(4000), milliseconds(20000));
  step(milliseconds(100));
  auto first = member_of(server, "slow");
  CAF_REQUIRE(first);
  step(milliseconds(2000));
  CAF_CHECK_EQUAL(state_of("slow"), "down");
  step(milliseconds(2500)); // the next heartbeat is answered with rejoin
  auto again = member_of(server, "slow");
  CAF_REQUIRE(again);
  CAF_CHECK_GREATER(again->incarnation, first->incarnation);
  CAF_CHECK_NOT_EQUAL(ms::to_string(again->state), std::string{"down"});
}

CAF_TEST(a worker rejoins a restarted coordinator with backoff) {
  auto w = new_agent("w1", 10);
  step(milliseconds(100));
  CAF_REQUIRE_EQUAL(state_of("w1"), "up");
  // The coordinator dies and stays unreachable for a while.
  anon_send_exit(server, caf::exit_reason::kill);
  anon_send_exit(raft, caf::exit_reason::kill);
  self->send(resolver, caf::actor{}, false);
  consume_messages();
  step(milliseconds(3000));
  auto st = status_of(w);
  CAF_CHECK_EQUAL(st.node_health.level, "yellow");
  // It comes back (a new process: it knows nothing of the old incarnations).
  server = new_server();
  step(milliseconds(6000)); // longer than the largest backoff so far
  CAF_CHECK_EQUAL(state_of("w1"), "up");
  CAF_CHECK_EQUAL(status_of(w).node_health.level, "green");
}

CAF_TEST(a graceful leave is left not down) {
  auto w = new_agent("w1", 10);
  step(milliseconds(100));
  auto hdl = self->request(w, caf::infinite, leave_atom::value);
  consume_messages();
  bool confirmed = false;
  hdl.receive([&](bool ok) { confirmed = ok; },
              [&](const caf::error& e) { CAF_FAIL(sys.render(e)); });
  CAF_CHECK(confirmed);
  CAF_CHECK_EQUAL(state_of("w1"), "left");
  anon_send_exit(w, caf::exit_reason::user_shutdown);
  consume_messages();
  step(milliseconds(3000));
  CAF_CHECK_EQUAL(state_of("w1"), "left");
}

CAF_TEST(a second process cannot take a live name) {
  auto a = new_agent("w1", 10);
  step(milliseconds(100));
  auto first = member_of(server, "w1");
  auto b = new_agent("w1", 99);
  step(milliseconds(1000));
  auto now = member_of(server, "w1");
  CAF_REQUIRE(now);
  CAF_CHECK_EQUAL(now->pid, first->pid);
  CAF_CHECK_EQUAL(now->incarnation, first->incarnation);
  CAF_CHECK_EQUAL(status_of(b).node_health.level, "yellow");
}

CAF_TEST(bad frames are rejected counted and survived) {
  auto hdl = self->request(server, caf::infinite, frame{"\xff\xff garbage"});
  consume_messages();
  bool failed = false;
  hdl.receive([](const frame&) {}, [&](const caf::error&) { failed = true; });
  CAF_CHECK(failed);
  self->send(server, frame{std::string(2 << 20, 'x')}); // oversized, and not a request
  consume_messages();
  auto st = status_of(server);
  CAF_CHECK_EQUAL(st.bad_frames, 2u);
  CAF_CHECK_EQUAL(state_of("coord"), "up");
}

CAF_TEST_FIXTURE_SCOPE_END()
