// The node's actor registry, the counted actor and the inspector (the user supervisor), on
// CAF's deterministic test coordinator.
#define CAF_SUITE inspector
#include <caf/test/unit_test.hpp>
#define FAIL(msg) CAF_FAIL(msg)
#include <caf/test/dsl.hpp>

#include "actors/inspect/actor_registry.hpp"
#include "actors/inspect/inspector.hpp"
#include "actors/inspect/user_supervisor.hpp"
#include "actors/supervision/supervisor.hpp"
#include "actors/api/singleton.hpp"
#include "protocols/cluster_state/commands.hpp"
#include "actors/wire.hpp"
#include "examples/actors/examples.hpp"

#include <nlohmann/json.hpp>

#include <variant>

using namespace troupe;
using json = nlohmann::json;

namespace {

struct config : caf::actor_system_config {
  config() {
    register_types(*this);
  }
};

struct fixture : test_coordinator_fixture<config> {
  std::shared_ptr<actor_types> types = std::make_shared<actor_types>();
  std::shared_ptr<actor_registry> registry = std::make_shared<actor_registry>("w1");
  std::shared_ptr<service_directory> services = std::make_shared<service_directory>();
  caf::actor root;
  caf::actor inspector;

  /// The inspector and the user supervisor under one supervisor, as on a node.
  fixture() {
    examples::register_examples(*types);
    tree_context tree{registry, services};
    supervisor_def def{"node", supervision::strategy::one_for_one, {3, std::chrono::seconds(5)},
                       {}};
    child_def ic;
    ic.name = "inspector";
    ic.fills = service::inspector;
    ic.start = [this](caf::actor_system& sys, const std::shared_ptr<actor_stats>& stats) {
      inspector_config cfg;
      cfg.node_name = "w1";
      cfg.registry = registry;
      cfg.services = services;
      return caf::expected<caf::actor>{
        caf::actor_cast<caf::actor>(spawn_inspector(sys, cfg, stats))};
    };
    child_def uc;
    uc.name = user_supervisor_name;
    uc.fills = service::user_supervisor;
    auto children = make_user_children();
    uc.start = [this, children](caf::actor_system& sys,
                                const std::shared_ptr<actor_stats>& stats) {
      user_supervisor_config cfg;
      cfg.node_name = "w1";
      cfg.registry = registry;
      cfg.types = types;
      cfg.services = services;
      cfg.children = children;
      cfg.restart.initial_backoff = std::chrono::milliseconds(10);
      return caf::expected<caf::actor>{
        caf::actor_cast<caf::actor>(spawn_user_supervisor(sys, cfg, stats))};
    };
    def.children = {ic, uc};
    root = caf::actor_cast<caf::actor>(spawn_supervisor(sys, def, tree));
    run();
    inspector = services->get(service::inspector);
    CAF_REQUIRE(inspector);
  }

  ~fixture() {
    anon_send_exit(root, caf::exit_reason::user_shutdown);
    run();
  }

  template <class... Ts>
  caf::expected<std::string> ask(Ts&&... xs) {
    auto hdl = self->request(inspector, caf::infinite, std::forward<Ts>(xs)...);
    run();
    caf::expected<std::string> out{std::string{}};
    hdl.receive([&](std::string& reply) { out = std::move(reply); },
                [&](caf::error& err) { out = std::move(err); });
    return out;
  }

  json inspect(const std::string& who) {
    auto r = ask(inspect_atom::value, who);
    CAF_REQUIRE(r);
    return json::parse(*r);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(inspector_tests, fixture)

CAF_TEST(a counted actor counts what it handles and what waits) {
  auto stats = std::make_shared<actor_stats>();
  auto a = types->spawn("echo", sys, context{}, stats);
  CAF_REQUIRE(a);
  for (int i = 0; i < 10; ++i)
    self->send(a, event{"k", "p", {}});
  CAF_CHECK_EQUAL(stats->mailbox(), 10u); // nothing ran yet
  run();
  CAF_CHECK_EQUAL(stats->handled.load(), 10u);
  CAF_CHECK_EQUAL(stats->mailbox(), 0u);
  // Troupe's own requests (a snapshot for a hand-over, the console's dump) are not the
  // application's messages: handled counts the events only.
  self->send(a, snapshot_atom::value);
  self->send(a, dump_atom::value);
  self->send(a, restore_atom::value, std::string{});
  run();
  CAF_CHECK_EQUAL(stats->mailbox(), 0u);
  CAF_CHECK_EQUAL(stats->user_handled(), 10u);
  anon_send_exit(a, caf::exit_reason::kill);
  run();
}

CAF_TEST(the registry keeps ids through restarts and pages in id order) {
  actor_registry reg{"w1"};
  auto s1 = std::make_shared<actor_stats>();
  actor_row row;
  row.name = "a";
  auto first = reg.add(row, s1);
  CAF_CHECK_EQUAL(first, 1u);
  CAF_CHECK_EQUAL(reg.add(row, nullptr), 0u); // the name is taken
  for (int i = 0; i < 25; ++i)
    reg.add(actor_row{}, nullptr);
  s1->handled = 7;
  auto s2 = std::make_shared<actor_stats>();
  reg.restarted(first, {}, s2, 0);
  s2->handled = 3;
  auto found = reg.find("a");
  CAF_REQUIRE(found);
  CAF_CHECK_EQUAL(found->seq, first);
  CAF_CHECK_EQUAL(found->restarts, 1u);
  CAF_CHECK_EQUAL(found->handled, 10u); // both incarnations
  CAF_CHECK(reg.find("w1/1"));
  CAF_CHECK(reg.find("1"));
  CAF_CHECK(!reg.find("w2/1")); // another node's id
  CAF_CHECK(!reg.find("nope"));
  uint64_t total = 0;
  auto page = reg.page(20, 10, total);
  CAF_CHECK_EQUAL(total, 26u);
  CAF_REQUIRE_EQUAL(page.size(), 6u);
  CAF_CHECK_EQUAL(page.front().seq, 21u);
  reg.remove(first);
  CAF_CHECK(!reg.find("a"));
  CAF_CHECK_NOT_EQUAL(reg.add(row, nullptr), 0u); // the name is free again
}

CAF_TEST(the user supervisor spawns restarts after a kill and stops for good) {
  auto r = ask(spawn_atom::value, std::string{"word-count"}, std::string{"wc"},
               std::vector<std::string>{"x"}, uint32_t{1});
  CAF_REQUIRE(r);
  auto id = json::parse(*r).at("ids").at(0).get<std::string>();
  CAF_CHECK_EQUAL(id, "w1/3"); // w1/1 and w1/2: the inspector and the user supervisor
  auto j = inspect("wc");
  CAF_CHECK_EQUAL(j.at("supervisor"), "user-supervisor");
  CAF_CHECK_EQUAL(j.at("restarts"), 0);
  auto reply = ask(ask_atom::value, std::string{"wc"}, std::string{"hi"}, std::string{"hi"},
                   uint64_t{1000});
  CAF_CHECK_EQUAL(reply, std::string{"1"});
  CAF_CHECK(ask(kill_atom::value, std::string{"wc"}, std::string{"because"}, false));
  trigger_timeouts(); // the restart backoff (when run() has not fired it already)
  run();
  j = inspect(id);
  CAF_CHECK_EQUAL(j.at("state"), "running");
  CAF_CHECK_EQUAL(j.at("restarts"), 1);
  CAF_CHECK_EQUAL(j.at("last_exit"), "killed: because");
  CAF_CHECK_EQUAL(j.at("dump"), "0 keys: {}"); // started afresh
  // A name is unique on the node; an unknown type says what there is.
  auto dup = ask(spawn_atom::value, std::string{"echo"}, std::string{"wc"},
                 std::vector<std::string>{}, uint32_t{1});
  CAF_CHECK(!dup);
  auto bad = ask(spawn_atom::value, std::string{"nope"}, std::string{},
                 std::vector<std::string>{}, uint32_t{1});
  CAF_REQUIRE(!bad);
  CAF_CHECK(sys.render(bad.error()).find("it has: beacon, bulletin, chatter, echo") != std::string::npos);
  // --stop: not restarted, gone from the registry.
  CAF_CHECK(ask(kill_atom::value, id, std::string{}, true));
  trigger_timeouts();
  run();
  CAF_CHECK(!ask(inspect_atom::value, id));
}

CAF_TEST(a killed user supervisor is started again with its children) {
  auto r = ask(spawn_atom::value, std::string{"word-count"}, std::string{"wc"},
               std::vector<std::string>{}, uint32_t{1});
  CAF_REQUIRE(r);
  CAF_CHECK(ask(kill_atom::value, std::string{"user-supervisor"}, std::string{"test"}, false));
  run();
  auto sup = inspect("user-supervisor");
  CAF_CHECK_EQUAL(sup.at("supervisor"), "node");
  CAF_CHECK_EQUAL(sup.at("restarts"), 1);
  CAF_CHECK_EQUAL(sup.at("state"), "running");
  auto wc = inspect("wc");
  CAF_CHECK_EQUAL(wc.at("state"), "running");
  CAF_CHECK_EQUAL(wc.at("restarts"), 1);
  CAF_CHECK_EQUAL(wc.at("last_exit"), "its supervisor stopped");
  // The tree shows both under the root's children; --stop is for spawned actors only.
  CAF_CHECK(!ask(kill_atom::value, std::string{"inspector"}, std::string{}, true));
  auto tree = json::parse(*ask(tree_atom::value));
  std::vector<std::string> names;
  for (auto& c : tree.at("children"))
    names.push_back(c.at("name"));
  CAF_CHECK((names == std::vector<std::string>{"inspector", "user-supervisor"}));
}

CAF_TEST(restarts past the alarm turn the node yellow) {
  auto healthy = json::parse(*ask(health_atom::value));
  CAF_CHECK_EQUAL(healthy.at("level"), "green");
  CAF_REQUIRE(ask(spawn_atom::value, std::string{"echo"}, std::string{"flappy"},
                  std::vector<std::string>{}, uint32_t{1}));
  for (int i = 0; i < 5; ++i) {
    CAF_CHECK(ask(kill_atom::value, std::string{"flappy"}, std::string{"again"}, false));
    trigger_timeouts();
    run();
  }
  auto h = json::parse(*ask(health_atom::value));
  CAF_CHECK_EQUAL(h.at("level"), "yellow");
  CAF_CHECK_EQUAL(h.at("reasons").at(0), "5 actor restarts in the last minute");
}

CAF_TEST(spawn with a count names each and the page lists them all) {
  auto r = ask(spawn_atom::value, std::string{"echo"}, std::string{"e"},
               std::vector<std::string>{}, uint32_t{500});
  CAF_REQUIRE(r);
  auto spawned = json::parse(*r);
  CAF_CHECK_EQUAL(spawned.at("count"), 500);
  CAF_CHECK(ask(inspect_atom::value, std::string{"e-500"}));
  auto page = ask(actors_atom::value, uint64_t{400}, uint64_t{1000});
  CAF_REQUIRE(page);
  auto j = json::parse(*page);
  CAF_CHECK_EQUAL(j.at("total"), 502); // and the inspector and the user supervisor
  CAF_CHECK_EQUAL(j.at("actors").size(), 102u);
}

CAF_TEST(spawn_singleton asks the node to deploy a singleton) {
  state::command got;
  auto node = sys.spawn([&](caf::event_based_actor*) -> caf::behavior {
    return {
      [&](state_cmd_atom, const std::string& bytes) {
        CAF_CHECK(state::decode(bytes, got));
        return caf::make_message(true, uint64_t{7}, std::string{});
      },
    };
  });
  context ctx;
  auto dir = std::make_shared<service_directory>();
  dir->put(service::ingress, node);
  ctx.services = dir;
  auto hdl = spawn_singleton(self.ptr(), ctx, "scheduler", "echo", {{"k", "v"}}, caf::infinite);
  run();
  bool ok = false;
  hdl.receive([&](bool accepted, uint64_t, const std::string&) { ok = accepted; },
              [&](const caf::error& err) { CAF_FAIL(sys.render(err)); });
  CAF_CHECK(ok);
  auto* d = std::get_if<state::deploy_cmd>(&got.body);
  CAF_REQUIRE(d);
  CAF_CHECK_EQUAL(d->spec.name, "scheduler");
  CAF_CHECK_EQUAL(d->spec.type, "echo");
  CAF_CHECK(d->spec.route == state::routing::singleton);
  CAF_CHECK_EQUAL(d->spec.config.at("k"), "v");
  anon_send_exit(node, caf::exit_reason::kill);
  run();
}

CAF_TEST_FIXTURE_SCOPE_END()
