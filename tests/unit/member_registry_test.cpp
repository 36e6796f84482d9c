// The replicated membership: what every coordinator applies from the log. Commands go through
// the state machine and its encoding, as they do in the Raft actor.
#define CAF_SUITE member_registry
#include <caf/test/unit_test.hpp>

#include "protocols/cluster_state/state_machine.hpp"
#include "tests/unit/state_log.hpp"

using namespace troupe::state;
namespace ms = troupe::membership;

namespace {

ms::member worker(const std::string& name, uint32_t pid) {
  ms::member m;
  m.name = name;
  m.address = "127.0.0.1:" + std::to_string(9000 + pid);
  m.roles.worker = true;
  m.pid = pid;
  m.started_at_ms = 1000 + pid;
  return m;
}

ms::member coordinator(const std::string& name, uint32_t pid) {
  auto m = worker(name, pid);
  m.roles = {true, false};
  return m;
}

struct fixture : troupe::state::testing::state_log {

  apply_result join(const ms::member& m, const std::string& holder, uint64_t raft_id = 0,
                    std::string cluster_id = {}) {
    return apply(command{0, 0, member_join_cmd{m, holder, raft_id, 5, std::move(cluster_id)}});
  }

  apply_result set(const std::string& name, uint64_t inc, ms::member_state to) {
    return apply(command{0, 0, member_state_cmd{name, inc, to, "test", 7}});
  }

  std::string state_of(const std::string& name) {
    auto* r = sm.members().find(name);
    return r ? ms::to_string(r->info.state) : "absent";
  }

  uint64_t incarnation_of(const std::string& name) {
    auto* r = sm.members().find(name);
    return r ? r->info.incarnation : 0;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(member_registry_tests, fixture)

CAF_TEST(a join gets its log index as incarnation and a retry the same answer) {
  CAF_CHECK(join(coordinator("c1", 1), "c1", 1, "cid").ok);
  CAF_CHECK_EQUAL(state_of("c1"), "up"); // a coordinator registering itself is up at once
  auto first = join(worker("w1", 10), "c1");
  CAF_CHECK(first.ok);
  CAF_CHECK_EQUAL(first.incarnation, 2u);
  CAF_CHECK_EQUAL(state_of("w1"), "joining");
  auto retry = join(worker("w1", 10), "c1");
  CAF_CHECK(retry.ok);
  CAF_CHECK_EQUAL(retry.incarnation, 2u);
  CAF_CHECK(changes.empty());
  CAF_CHECK_EQUAL(sm.members().cluster_id(), "cid");
}

CAF_TEST(the first coordinator to register names the cluster) {
  join(coordinator("c1", 1), "c1", 1, "first");
  join(coordinator("c2", 2), "c2", 2, "second");
  CAF_CHECK_EQUAL(sm.members().cluster_id(), "first");
  CAF_CHECK_EQUAL(sm.members().view().cluster_id, "first");
}

CAF_TEST(a live name is refused to another process and a coordinator name to any worker) {
  join(coordinator("c1", 1), "c1", 1);
  join(worker("w1", 10), "c1");
  auto other = join(worker("w1", 99), "c1");
  CAF_CHECK(!other.ok);
  CAF_CHECK(other.reason.find("in use") != std::string::npos);
  auto taken = join(worker("c1", 50), "c1");
  CAF_CHECK(!taken.ok);
  CAF_CHECK(taken.reason.find("coordinator") != std::string::npos);
  // Once down, the name is free for a new process.
  set("w1", incarnation_of("w1"), ms::member_state::down);
  CAF_CHECK(join(worker("w1", 99), "c1").ok);
}

CAF_TEST(a state change applies only to the current incarnation and gone is final) {
  join(coordinator("c1", 1), "c1", 1);
  join(worker("w1", 10), "c1");
  auto inc = incarnation_of("w1");
  CAF_CHECK(set("w1", inc, ms::member_state::up).ok);
  CAF_CHECK(!set("w1", inc + 100, ms::member_state::down).ok);
  CAF_CHECK_EQUAL(state_of("w1"), "up");
  CAF_CHECK(set("w1", inc, ms::member_state::left).ok);
  CAF_CHECK(!set("w1", inc, ms::member_state::up).ok); // a late heartbeat's "up"
  CAF_CHECK_EQUAL(state_of("w1"), "left");
}

CAF_TEST(joining through another coordinator fences the old one out) {
  join(coordinator("c1", 1), "c1", 1);
  join(coordinator("c2", 2), "c2", 2);
  join(worker("w1", 10), "c1");
  auto old_inc = incarnation_of("w1");
  set("w1", old_inc, ms::member_state::up);
  auto moved = join(worker("w1", 10), "c2");
  CAF_CHECK(moved.ok);
  CAF_CHECK_GREATER(moved.incarnation, old_inc);
  CAF_CHECK_EQUAL(sm.members().find("w1")->holder, "c2");
  // c1 still thinks it holds the old incarnation and reports it down: nothing happens.
  CAF_CHECK(!set("w1", old_inc, ms::member_state::down).ok);
  CAF_CHECK_EQUAL(state_of("w1"), "joining");
}

CAF_TEST(a lost coordinator takes the members it holds down with it) {
  join(coordinator("c1", 1), "c1", 1);
  join(coordinator("c2", 2), "c2", 2);
  join(worker("a", 10), "c1");
  join(worker("b", 11), "c2");
  set("a", incarnation_of("a"), ms::member_state::up);
  set("b", incarnation_of("b"), ms::member_state::up);
  auto res = apply(command{0, 0, holder_lost_cmd{2, "silent", 9}});
  CAF_CHECK(res.ok);
  CAF_CHECK_EQUAL(changes.size(), 2u);
  CAF_CHECK_EQUAL(state_of("c2"), "down");
  CAF_CHECK_EQUAL(state_of("b"), "down");
  CAF_CHECK_EQUAL(state_of("a"), "up");
  CAF_CHECK_EQUAL(state_of("c1"), "up");
  // The same process registers again when it comes back: a new incarnation.
  auto back = join(coordinator("c2", 2), "c2", 2);
  CAF_CHECK(back.ok);
  CAF_CHECK_EQUAL(state_of("c2"), "up");
}

CAF_TEST(a restarted coordinator makes the members it held suspect) {
  join(coordinator("c1", 1), "c1", 1);
  join(worker("a", 10), "c1");
  set("a", incarnation_of("a"), ms::member_state::up);
  auto again = join(coordinator("c1", 77), "c1", 1); // a new process under the same name
  CAF_CHECK(again.ok);
  CAF_CHECK_EQUAL(state_of("a"), "suspect");
  CAF_CHECK_EQUAL(sm.members().find("c1")->info.pid, 77u);
}

CAF_TEST(members gone long enough are pruned) {
  join(coordinator("c1", 1), "c1", 1);
  join(worker("a", 10), "c1");
  apply(command{0, 0, member_state_cmd{"a", incarnation_of("a"), ms::member_state::down, "x",
                                       100}});
  CAF_CHECK(sm.members().has_gone_before(101));
  CAF_CHECK(!sm.members().has_gone_before(100));
  apply(command{0, 0, member_prune_cmd{101}});
  CAF_CHECK_EQUAL(state_of("a"), "absent");
  CAF_CHECK_EQUAL(state_of("c1"), "up");
}

CAF_TEST(a snapshot restores the membership with the KV store) {
  join(coordinator("c1", 1), "c1", 1, "cid");
  join(worker("a", 10), "c1");
  apply(command{1, 1, put_cmd{"k", "v", std::nullopt}});
  state_machine other;
  CAF_REQUIRE(other.restore(sm.snapshot()));
  CAF_CHECK_EQUAL(other.members().version(), sm.members().version());
  CAF_CHECK_EQUAL(other.members().cluster_id(), "cid");
  CAF_REQUIRE(other.members().find("a"));
  CAF_CHECK_EQUAL(other.members().find("a")->holder, "c1");
  auto got = other.kv().get("k"); // an optional by value: keep it for the check
  CAF_REQUIRE(got);
  CAF_CHECK_EQUAL(got->value, "v");
  CAF_CHECK_EQUAL(other.snapshot(), sm.snapshot());
  cluster_view copy;
  CAF_REQUIRE(decode_view(encode_view(sm), copy));
  CAF_CHECK_EQUAL(copy.members.view().members.size(), 2u);
}

CAF_TEST_FIXTURE_SCOPE_END()

CAF_TEST_FIXTURE_SCOPE(member_registry_vnodes, fixture)

CAF_TEST(the first coordinator fixes the vnode count and another count is refused) {
  CAF_CHECK(apply(command{0, 0, member_join_cmd{coordinator("c1", 1), "c1", 1, 5, "cid", 64}}).ok);
  CAF_CHECK_EQUAL(sm.members().vnode_count(), 64u);
  auto odd = apply(command{0, 0, member_join_cmd{worker("w1", 10), "c1", 0, 5, {}, 128}});
  CAF_CHECK(!odd.ok);
  CAF_CHECK(odd.reason.find("--vnodes 64") != std::string::npos);
  CAF_CHECK(apply(command{0, 0, member_join_cmd{worker("w1", 10), "c1", 0, 5, {}, 64}}).ok);
  auto c2 = apply(command{0, 0, member_join_cmd{coordinator("c2", 2), "c2", 2, 5, "x", 32}});
  CAF_CHECK(!c2.ok);
  state_machine other;
  CAF_REQUIRE(other.restore(sm.snapshot()));
  CAF_CHECK_EQUAL(other.members().vnode_count(), 64u);
}

CAF_TEST_FIXTURE_SCOPE_END()

CAF_TEST_FIXTURE_SCOPE(deployments_state, fixture)

CAF_TEST(deployments are idempotent refuse another spec and survive a snapshot) {
  deployment_spec d;
  d.name = "wc";
  d.type = "word-count";
  d.route = routing::round_robin;
  d.guarantee = delivery::at_least_once;
  d.config = {{"a", "1"}};
  CAF_CHECK(apply(command{0, 0, deploy_cmd{d}}).ok);
  auto created = sm.deployments().find("wc")->created;
  CAF_CHECK_EQUAL(created, index);
  CAF_CHECK(apply(command{0, 0, deploy_cmd{d}}).ok); // the same again: nothing changes
  CAF_CHECK_EQUAL(sm.deployments().find("wc")->created, created);
  auto other = d;
  other.type = "echo";
  auto refused = apply(command{0, 0, deploy_cmd{other}});
  CAF_CHECK(!refused.ok);
  CAF_CHECK(refused.reason.find("undeploy it first") != std::string::npos);
  auto bad = d;
  bad.name = "no spaces";
  CAF_CHECK(!apply(command{0, 0, deploy_cmd{bad}}).ok);
  state_machine copy;
  CAF_REQUIRE(copy.restore(sm.snapshot()));
  CAF_REQUIRE(copy.deployments().find("wc"));
  CAF_CHECK(copy.deployments().find("wc")->same_as(d));
  CAF_CHECK(apply(command{0, 0, undeploy_cmd{"wc"}}).ok);
  CAF_CHECK(!apply(command{0, 0, undeploy_cmd{"wc"}}).ok);
  CAF_CHECK(sm.deployments().all().empty());
}

CAF_TEST(a deployment is refused up front only when every live worker says it lacks the type) {
  CAF_CHECK_EQUAL(sm.deploy_refusal("anything"), ""); // no worker yet: health tells later
  auto a = worker("w1", 1);
  a.actor_types = {"echo", "word-count"};
  CAF_REQUIRE(join(a, "c1").ok);
  CAF_REQUIRE(set("w1", incarnation_of("w1"), ms::member_state::up).ok);
  CAF_CHECK_EQUAL(sm.deploy_refusal("echo"), "");
  auto why = sm.deploy_refusal("greeter");
  CAF_CHECK(why.find("no worker has actor type 'greeter' (the 1 live workers have: echo, "
                     "word-count)") == 0);
  // A second worker has it: accepted.
  auto b = worker("w2", 2);
  b.actor_types = {"greeter"};
  CAF_REQUIRE(join(b, "c1").ok);
  CAF_REQUIRE(set("w2", incarnation_of("w2"), ms::member_state::up).ok);
  CAF_CHECK_EQUAL(sm.deploy_refusal("greeter"), "");
  // The types survive the registry's encoding and a snapshot.
  state_machine copy;
  CAF_REQUIRE(copy.restore(sm.snapshot()));
  CAF_CHECK_EQUAL(copy.deploy_refusal("greeter"), "");
  CAF_CHECK(copy.deploy_refusal("nope").find("echo, greeter, word-count") != std::string::npos);
  // Once it is down, its types no longer count.
  CAF_REQUIRE(set("w2", incarnation_of("w2"), ms::member_state::down).ok);
  CAF_CHECK(sm.deploy_refusal("greeter").find("no worker has") == 0);
  // A worker of an older release says nothing of its types: nothing is refused.
  CAF_REQUIRE(join(worker("w3", 3), "c1").ok);
  CAF_REQUIRE(set("w3", incarnation_of("w3"), ms::member_state::up).ok);
  CAF_CHECK_EQUAL(sm.deploy_refusal("greeter"), "");
}

CAF_TEST(vnode moves apply only against the version they were computed from) {
  CAF_CHECK(apply(command{0, 0, member_join_cmd{coordinator("c1", 1), "c1", 1, 5, "cid", 4}}).ok);
  CAF_REQUIRE_EQUAL(sm.vnodes().size(), 4u);
  auto moves = troupe::placement::rebalance(sm.vnodes().owners(), {"a", "b"});
  CAF_CHECK(apply(command{0, 0, vnode_moves_cmd{0, moves}}).ok);
  CAF_CHECK_EQUAL(sm.vnodes().count_of("a"), 2u);
  CAF_CHECK_EQUAL(sm.vnodes().epochs()[0], index);
  CAF_CHECK(!apply(command{0, 0, vnode_moves_cmd{0, moves}}).ok); // stale: computed at 0
  state_machine copy;
  CAF_REQUIRE(copy.restore(sm.snapshot()));
  CAF_CHECK(copy.vnodes().owners() == sm.vnodes().owners());
  CAF_CHECK_EQUAL(copy.vnodes().version(), sm.vnodes().version());
}

CAF_TEST(the main worker changes only against the assignment it replaces) {
  CAF_CHECK_EQUAL(sm.main().name(), "");
  CAF_CHECK(apply(command{0, 0, main_worker_cmd{0, "w1"}}).ok);
  auto first = index;
  CAF_CHECK_EQUAL(sm.main().name(), "w1");
  CAF_CHECK_EQUAL(sm.main().epoch(), first);
  CAF_CHECK(!apply(command{0, 0, main_worker_cmd{0, "w2"}}).ok); // stale: computed before w1
  CAF_CHECK_EQUAL(sm.main().name(), "w1");
  CAF_CHECK(apply(command{0, 0, main_worker_cmd{first, "w2"}}).ok);
  CAF_CHECK_EQUAL(sm.main().name(), "w2");
  CAF_CHECK_GREATER(sm.main().epoch(), first);
  state_machine copy;
  CAF_REQUIRE(copy.restore(sm.snapshot()));
  CAF_CHECK_EQUAL(copy.main().name(), "w2");
  CAF_CHECK_EQUAL(copy.main().epoch(), sm.main().epoch());
  cluster_view view;
  CAF_REQUIRE(decode_view(encode_view(sm), view));
  CAF_CHECK_EQUAL(view.main.name(), "w2");
  CAF_CHECK_EQUAL(view.main.epoch(), sm.main().epoch());
}

CAF_TEST_FIXTURE_SCOPE_END()
