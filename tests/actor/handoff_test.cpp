// A vnode moving between two live workers keeps its instances' state: two vnode hosts and
// their routers on CAF's test coordinator, with a stand-in middleman between them.
#define CAF_SUITE handoff
#include <caf/test/unit_test.hpp>
#define FAIL(msg) CAF_FAIL(msg)
#include <caf/test/dsl.hpp>

#include "actors/router.hpp"
#include "actors/vnodes/vnodes.hpp"
#include "actors/wire.hpp"
#include "tests/actor/fake_resolver.hpp"
#include "examples/actors/examples.hpp"
#include "protocols/cluster_state/state_machine.hpp"

using namespace troupe;
namespace st = troupe::state;
namespace ms = troupe::membership;

namespace {

struct config : caf::actor_system_config {
  config() {
    register_types(*this);
  }
};

struct fixture : test_coordinator_fixture<config> {
  st::state_machine sm;
  uint64_t index = 0;
  caf::actor resolver = sys.spawn(troupe::testing::fake_resolver);
  std::map<std::string, caf::actor> hosts;
  std::map<std::string, caf::actor> routers;

  fixture() {
    auto types = std::make_shared<actor_types>();
    examples::register_examples(*types);
    uint16_t port = 1;
    for (std::string w : {"w1", "w2"}) {
      auto services = std::make_shared<service_directory>();
      routers[w] = caf::actor_cast<caf::actor>(spawn_router(sys, router_config{w, services, resolver}));
      services->put(service::router, routers[w]);
      vnodes_config hc;
      hc.node_name = w;
      hc.types = types;
      hc.services = services;
      hosts[w] = caf::actor_cast<caf::actor>(spawn_vnodes(sys, hc));
      services->put(service::vnodes, hosts[w]);
      self->send(resolver, port++, hosts[w]);
    }
    ms::member c;
    c.name = "c1";
    c.address = "c:9";
    c.roles = {true, false};
    apply(st::member_join_cmd{c, "c1", 1, 0, "cid", 8});
    join("w1", 1);
    apply(st::vnode_moves_cmd{sm.vnodes().version(), placement::rebalance(sm.vnodes().owners(), {"w1"})});
    st::deployment_spec wc;
    wc.name = "wc";
    wc.type = "word-count";
    apply(st::deploy_cmd{wc});
    push({"w1", "w2"});
  }

  ~fixture() {
    for (auto& [w, a] : hosts)
      anon_send_exit(a, caf::exit_reason::user_shutdown); // they stop their vnodes
    for (auto& [w, a] : routers)
      anon_send_exit(a, caf::exit_reason::kill);
    anon_send_exit(resolver, caf::exit_reason::kill);
    run();
  }

  template <class Cmd>
  void apply(Cmd c) {
    std::vector<st::member_change> changes;
    CAF_REQUIRE(sm.apply(st::command{0, 0, std::move(c)}, ++index, changes).ok);
  }

  void join(const std::string& name, uint16_t port) {
    ms::member m;
    m.name = name;
    m.address = name + ":" + std::to_string(port);
    m.roles.worker = true;
    m.pid = port;
    apply(st::member_join_cmd{m, "c1", 0, 0, {}, 0});
    apply(st::member_state_cmd{name, index, ms::member_state::up, "test", 0});
  }

  /// Pushes the current view to each worker in `order` (router first, as the agent does).
  void push(std::vector<std::string> order) {
    auto bytes = st::encode_view(sm);
    for (auto& w : order) {
      self->send(routers[w], workload_atom::value, index, bytes);
      self->send(hosts[w], workload_atom::value, index, bytes);
    }
    run();
  }

  /// Delivers as a router whose view has the vnode at `epoch` would (0: the test's view).
  std::string deliver(const std::string& w, uint32_t vnode, const std::string& key,
                      const std::string& payload, uint64_t epoch = 0) {
    if (epoch == 0)
      epoch = sm.vnodes().epochs()[vnode];
    auto hdl = self->request(hosts[w], caf::infinite, deliver_atom::value, std::string{"wc"},
                             vnode, epoch, event{key, payload, {}});
    run();
    std::string out;
    hdl.receive([&](const std::string& s) { out = s; },
                [&](const caf::error& e) { out = "error: " + sys.render(e); });
    return out;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(handoff_tests, fixture)

CAF_TEST(a vnode moving to a joining worker keeps its counts) {
  // Count some keys on every vnode while w1 owns them all.
  for (uint32_t v = 0; v < 8; ++v) {
    CAF_CHECK_EQUAL(deliver("w1", v, "k", "x"), "1");
    CAF_CHECK_EQUAL(deliver("w1", v, "k", "y"), "2");
  }
  join("w2", 2);
  apply(st::vnode_moves_cmd{sm.vnodes().version(),
                            placement::rebalance(sm.vnodes().owners(), {"w1", "w2"})});
  push({"w1", "w2"});
  size_t moved = 0;
  for (uint32_t v = 0; v < 8; ++v) {
    auto owner = sm.vnodes().owners()[v];
    if (owner != "w2")
      continue;
    ++moved;
    CAF_CHECK_EQUAL(deliver("w2", v, "k", ""), "2");   // the state came along
    CAF_CHECK_EQUAL(deliver("w1", v, "k", "z"), "3");  // an event sent to the old owner is passed on
    CAF_CHECK_EQUAL(deliver("w2", v, "k", ""), "3");
  }
  CAF_CHECK_EQUAL(moved, 4u);
}

CAF_TEST(events that arrive before the state wait and keep their order) {
  for (uint32_t v = 0; v < 8; ++v)
    deliver("w1", v, "k", "x");
  join("w2", 2);
  apply(st::vnode_moves_cmd{sm.vnodes().version(),
                            placement::rebalance(sm.vnodes().owners(), {"w1", "w2"})});
  // w2 learns of the move first, and events reach it before w1 has handed anything over.
  auto bytes = st::encode_view(sm);
  self->send(hosts["w2"], workload_atom::value, index, bytes);
  consume_messages();
  uint32_t v = 0;
  while (sm.vnodes().owners()[v] != "w2")
    ++v;
  auto e = sm.vnodes().epochs()[v];
  auto h1 = self->request(hosts["w2"], caf::infinite, deliver_atom::value, std::string{"wc"}, v,
                          e, event{"k", "a", {}});
  auto h2 = self->request(hosts["w2"], caf::infinite, deliver_atom::value, std::string{"wc"}, v,
                          e, event{"k", "b", {}});
  consume_messages();
  // Now w1 sees the move and hands the state over (w2 may have asked for it already: w1's
  // router sends it once it knows where w2 is). Time passes in small steps so that the state
  // comes before the new owner's wait for it ends.
  self->send(routers["w1"], workload_atom::value, index, bytes);
  self->send(hosts["w1"], workload_atom::value, index, bytes);
  for (int i = 0; i < 20; ++i) {
    consume_messages();
    advance_time(std::chrono::milliseconds(10));
  }
  consume_messages();
  std::vector<std::string> replies;
  for (auto* h : {&h1, &h2})
    h->receive([&](const std::string& s) { replies.push_back(s); },
               [&](const caf::error& e) { replies.push_back(sys.render(e)); });
  CAF_CHECK_EQUAL(replies, (std::vector<std::string>{"2", "3"}));
}

CAF_TEST(a retried at least once event is still recognized after its vnode moved) {
  auto batch = [&](const std::string& w, uint32_t v, uint64_t seq, uint64_t epoch) {
    auto hdl = self->request(hosts[w], caf::infinite, deliver_batch_atom::value, std::string{"wc"},
                             std::vector<uint32_t>{v}, std::vector<uint64_t>{epoch},
                             std::vector<std::string>{"k"}, std::vector<std::string>{"x"},
                             uint64_t{77}, std::vector<uint64_t>{seq});
    run();
    bool ok = false;
    hdl.receive([&](const std::vector<std::string>&) { ok = true; },
                [&](const caf::error& e) { CAF_MESSAGE(sys.render(e)); });
    return ok;
  };
  join("w2", 2);
  auto before = sm.vnodes().epochs();
  apply(st::vnode_moves_cmd{sm.vnodes().version(),
                            placement::rebalance(sm.vnodes().owners(), {"w1", "w2"})});
  uint32_t v = 0;
  while (sm.vnodes().owners()[v] != "w2")
    ++v;
  auto now = sm.vnodes().epochs()[v];
  // Before w1 hears of the move, the event (sender 77, seq 1) is handled on w1 ...
  CAF_REQUIRE(batch("w1", v, 1, before[v]));
  CAF_CHECK_EQUAL(deliver("w1", v, "k", "", before[v]), "1");
  push({"w1", "w2"});
  // ... and its retry, sent to the new owner, is recognized there: counted once.
  CAF_REQUIRE(batch("w2", v, 1, now));
  CAF_CHECK_EQUAL(deliver("w2", v, "k", ""), "1");
  CAF_REQUIRE(batch("w2", v, 2, now));
  CAF_CHECK_EQUAL(deliver("w2", v, "k", ""), "2");
}

CAF_TEST_FIXTURE_SCOPE_END()
