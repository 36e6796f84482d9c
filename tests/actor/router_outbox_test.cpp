// Events an actor sends without asking for a reply (troupe::send) leave the router in batches
// per owner, in the order they were sent, behind a window of unanswered batches; a request
// waits behind the events its sender sent before it.
#define CAF_SUITE router_outbox
#include <caf/test/unit_test.hpp>
#define FAIL(msg) CAF_FAIL(msg)
#include <caf/test/dsl.hpp>

#include "actors/router.hpp"
#include "actors/wire.hpp"
#include "protocols/cluster_state/state_machine.hpp"
#include "tests/actor/fake_resolver.hpp"

using namespace troupe;
namespace st = troupe::state;

namespace {

struct config : caf::actor_system_config {
  config() {
    register_types(*this);
  }
};

using answer_atom = caf::atom_constant<caf::atom("t_answer")>;

/// What the fake owner's door was sent: each batch's size and every event, in arrival order.
struct door_state {
  std::vector<size_t> batches;           // events per batch, in arrival order
  std::vector<std::string> events;       // "key=payload", in arrival order
  std::vector<caf::response_promise> held;  // batches not answered (while holding)
  std::vector<uint64_t> held_sizes;
  bool hold = false;
  static inline const char* name = "fake_door";
};

caf::behavior fake_door(caf::stateful_actor<door_state>* self) {
  auto take = [self](const std::vector<std::string>& keys,
                     const std::vector<std::string>& payloads) {
    self->state.batches.push_back(keys.size());
    for (size_t i = 0; i < keys.size(); ++i)
      self->state.events.push_back(keys[i] + "=" + payloads[i]);
  };
  return {
    [self, take](deliver_batch_atom, const std::string&, const std::vector<uint32_t>&,
                 const std::vector<uint64_t>&, const std::vector<std::string>& keys,
                 const std::vector<std::string>& payloads) -> caf::result<uint64_t> {
      take(keys, payloads);
      if (!self->state.hold)
        return static_cast<uint64_t>(keys.size());
      self->state.held.push_back(self->make_response_promise());
      self->state.held_sizes.push_back(keys.size());
      return caf::delegated<uint64_t>{};
    },
    [self, take](deliver_batch_atom, const std::string&, const std::vector<uint32_t>&,
                 const std::vector<uint64_t>&, const std::vector<std::string>& keys,
                 const std::vector<std::string>& payloads, uint64_t,
                 const std::vector<uint64_t>&) -> caf::result<std::vector<std::string>> {
      take(keys, payloads);
      std::vector<std::string> replies(keys.size(), "ok");
      if (!self->state.hold)
        return replies;
      self->state.held.push_back(self->make_response_promise());
      self->state.held_sizes.push_back(keys.size());
      return caf::delegated<std::vector<std::string>>{};
    },
    [self](deliver_atom, const std::string&, uint32_t, uint64_t, const event& ev) {
      self->state.events.push_back(ev.key + "=" + ev.payload + " (request)");
      return std::string{"reply"};
    },
    [self](answer_atom, bool reliable) {
      auto held = std::move(self->state.held);
      auto sizes = std::move(self->state.held_sizes);
      self->state.held.clear();
      self->state.held_sizes.clear();
      for (size_t i = 0; i < held.size(); ++i)
        if (reliable)
          held[i].deliver(std::vector<std::string>(sizes[i], "ok"));
        else
          held[i].deliver(static_cast<uint64_t>(sizes[i]));
    },
  };
}

struct fixture : test_coordinator_fixture<config> {
  st::state_machine sm;
  uint64_t index = 0;
  caf::actor door = sys.spawn(fake_door);
  caf::actor resolver = sys.spawn(troupe::testing::fake_resolver);
  caf::actor router;

  fixture() {
    self->send(resolver, door, true); // every owner's address leads to the fake door
    router = caf::actor_cast<caf::actor>(spawn_router(
      sys, router_config{"c1", std::make_shared<service_directory>(), resolver}));
    membership::member c;
    c.name = "c1";
    c.address = "127.0.0.1:1";
    c.roles = {true, false};
    apply(st::member_join_cmd{c, "c1", 1, 0, "cid", 4});
    membership::member w;
    w.name = "w2";
    w.address = "127.0.0.1:2";
    w.roles = {false, true};
    apply(st::member_join_cmd{w, "c1", 0, 0, "", 4});
    apply(st::vnode_moves_cmd{0, placement::rebalance(sm.vnodes().owners(), {"w2"})});
    for (auto [name, guarantee] : {std::pair{"amo", st::delivery::at_most_once},
                                   std::pair{"alo", st::delivery::at_least_once}}) {
      st::deployment_spec d;
      d.name = name;
      d.type = "echo";
      d.guarantee = guarantee;
      apply(st::deploy_cmd{d});
    }
    self->send(router, workload_atom::value, index, st::encode_view(sm));
    run();
  }

  ~fixture() {
    anon_send_exit(router, caf::exit_reason::kill);
    anon_send_exit(door, caf::exit_reason::kill);
    run();
  }

  template <class Cmd>
  void apply(Cmd c) {
    std::vector<st::member_change> changes;
    CAF_REQUIRE(sm.apply(st::command{0, 0, std::move(c)}, ++index, changes).ok);
  }

  /// As troupe::send: no reply asked for.
  void send(const std::string& dep, const std::string& key, const std::string& payload) {
    caf::anon_send(router, route_atom::value, dep, key, payload);
  }

  door_state& seen() {
    return deref<caf::stateful_actor<door_state>>(door).state;
  }
};

std::string ev(size_t i) {
  return "k" + std::to_string(i % 7) + "=" + std::to_string(i);
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(router_outbox_tests, fixture)

CAF_TEST(events sent one at a time leave in batches in their order and a request waits behind them) {
  for (size_t i = 0; i < 3000; ++i)
    send("amo", "k" + std::to_string(i % 7), std::to_string(i));
  auto hdl = self->request(router, caf::infinite, route_atom::value, std::string{"amo"},
                           std::string{"k1"}, std::string{"last"});
  run();
  std::string reply;
  hdl.receive([&](const std::string& r) { reply = r; },
              [&](const caf::error& e) { CAF_FAIL(sys.render(e)); });
  CAF_CHECK_EQUAL(reply, "reply");
  auto& s = seen();
  // 3000 events in 3 messages (1024 at most each), not 3000.
  CAF_CHECK_EQUAL(s.batches, (std::vector<size_t>{1024, 1024, 952}));
  CAF_REQUIRE_EQUAL(s.events.size(), 3001u);
  for (size_t i = 0; i < 3000; ++i)
    CAF_CHECK_EQUAL(s.events[i], ev(i));
  CAF_CHECK_EQUAL(s.events.back(), "k1=last (request)");
}

CAF_TEST(at most four batches wait for the owner and the rest waits in the router) {
  seen().hold = true;
  for (size_t i = 0; i < 10 * 1024; ++i)
    send("amo", "k" + std::to_string(i % 7), std::to_string(i));
  consume_messages(); // no time passes: no batch times out
  CAF_CHECK_EQUAL(seen().batches.size(), 4u);
  // A request now goes out behind the last of them, however long that takes.
  auto hdl = self->request(router, caf::infinite, route_atom::value, std::string{"amo"},
                           std::string{"k1"}, std::string{"last"});
  consume_messages();
  CAF_CHECK_EQUAL(seen().events.size(), 4 * 1024u);
  for (int round = 0; round < 3; ++round) {
    self->send(door, answer_atom::value, false);
    consume_messages();
  }
  CAF_CHECK_EQUAL(seen().batches.size(), 10u);
  CAF_REQUIRE_EQUAL(seen().events.size(), 10 * 1024u + 1);
  for (size_t i = 0; i < 10 * 1024; ++i)
    CAF_CHECK_EQUAL(seen().events[i], ev(i));
  CAF_CHECK_EQUAL(seen().events.back(), "k1=last (request)");
  std::string reply;
  hdl.receive([&](const std::string& r) { reply = r; },
              [&](const caf::error& e) { CAF_FAIL(sys.render(e)); });
  CAF_CHECK_EQUAL(reply, "reply");
}

CAF_TEST(at least once events sent without a reply go in windowed batches too) {
  seen().hold = true;
  for (size_t i = 0; i < 6 * 1024; ++i)
    send("alo", "k" + std::to_string(i % 7), std::to_string(i));
  consume_messages();
  CAF_CHECK_EQUAL(seen().batches.size(), 4u);
  self->send(door, answer_atom::value, true);
  consume_messages();
  CAF_CHECK_EQUAL(seen().batches.size(), 6u);
  CAF_REQUIRE_EQUAL(seen().events.size(), 6 * 1024u);
  for (size_t i = 0; i < 6 * 1024; ++i)
    CAF_CHECK_EQUAL(seen().events[i], ev(i));
}

CAF_TEST_FIXTURE_SCOPE_END()
