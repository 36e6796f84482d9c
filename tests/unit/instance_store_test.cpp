// The instance records of the cluster state: claims fence the writes of earlier claims, the
// log follows the snapshot without a gap, undeploy drops them, and they survive a snapshot
// of the state machine.
#define CAF_SUITE instance_store

#include <caf/test/unit_test.hpp>

#include "protocols/cluster_state/state_machine.hpp"

using namespace troupe::state;

namespace {

instance_append append_of(const instance_id& id, uint64_t claim, uint64_t from, size_t n) {
  instance_append a{id, claim, 77, {}, {}, {}};
  for (size_t i = 0; i < n; ++i) {
    a.seqs.push_back(from + i);
    a.keys.push_back("k");
    a.payloads.push_back("payload");
  }
  return a;
}

/// One instance command as the log carries it (a batch of one); ok: it was applied.
instances_cmd batch_of(instance_cmd c) {
  return instances_cmd{{std::move(c)}};
}

bool applied(const apply_result& r) {
  return r.instances.size() == 1 && r.instances[0].refusal == instance_refusal::none;
}

} // namespace

CAF_TEST(a claim fences the writes made under earlier claims) {
  instance_store s;
  instance_id id{"wc", 5, 3};
  CAF_REQUIRE(s.apply(instance_cmd{instance_claim{id, 7}}, 10).refusal == instance_refusal::none);
  CAF_CHECK_EQUAL(s.find(id)->claim, 1u);
  auto r = s.apply(instance_cmd{append_of(id, 1, 1, 3)}, 11);
  CAF_CHECK(r.refusal == instance_refusal::none);
  CAF_CHECK_EQUAL(r.pos, 1u);
  CAF_CHECK_EQUAL(s.apply(instance_cmd{append_of(id, 1, 4, 2)}, 12).pos, 4u);
  // The same owner starts its instance again: the writes of the first claim are refused.
  CAF_REQUIRE(s.apply(instance_cmd{instance_claim{id, 7}}, 13).refusal == instance_refusal::none);
  CAF_CHECK(s.apply(instance_cmd{append_of(id, 1, 6, 1)}, 14).refusal == instance_refusal::fenced);
  CAF_CHECK(s.apply(instance_cmd{instance_save{id, 1, 2, "old", ""}}, 15).refusal
            == instance_refusal::fenced);
  // An owner of an older epoch cannot claim it back.
  CAF_CHECK(s.apply(instance_cmd{instance_claim{id, 6}}, 16).refusal == instance_refusal::fenced);
  CAF_CHECK_EQUAL(s.find(id)->log.size(), 5u);
  CAF_CHECK_EQUAL(s.find(id)->next_pos, 6u);
}

CAF_TEST(a save drops the events it covers and the log is bounded) {
  instance_store s{100};
  instance_id id{"wc", 5, 0};
  s.apply(instance_cmd{instance_claim{id, 1}}, 1);
  CAF_REQUIRE(s.apply(instance_cmd{append_of(id, 1, 1, 10)}, 2).refusal == instance_refusal::none);
  CAF_CHECK_EQUAL(s.find(id)->log_bytes, 80u);
  // 4 more events of 8 bytes would pass 100: refused, nothing logged.
  CAF_CHECK(s.apply(instance_cmd{append_of(id, 1, 11, 4)}, 3).refusal == instance_refusal::log_full);
  CAF_CHECK_EQUAL(s.find(id)->next_pos, 11u);
  // A save past the log or behind the snapshot is refused.
  CAF_CHECK(s.apply(instance_cmd{instance_save{id, 1, 11, "x", ""}}, 4).refusal
            == instance_refusal::malformed);
  CAF_REQUIRE(s.apply(instance_cmd{instance_save{id, 1, 6, "state@6", "77:1-6,;"}}, 5).refusal
              == instance_refusal::none);
  auto* r = s.find(id);
  CAF_CHECK_EQUAL(r->snapshot, "state@6");
  CAF_CHECK_EQUAL(r->snapshot_pos, 6u);
  CAF_CHECK_EQUAL(r->saved_index, 5u);
  CAF_REQUIRE_EQUAL(r->log.size(), 4u);
  CAF_CHECK_EQUAL(r->log.front().pos, 7u);
  CAF_CHECK_EQUAL(r->log_bytes, 32u);
  CAF_CHECK(s.apply(instance_cmd{instance_save{id, 1, 5, "x", ""}}, 6).refusal
            == instance_refusal::malformed);
  CAF_CHECK(s.apply(instance_cmd{append_of(id, 1, 11, 4)}, 7).refusal == instance_refusal::none);
  // The record as a claim answers it.
  instance_id back_id;
  instance_record back;
  CAF_REQUIRE(decode_record(encode_record(id, r), back_id, back));
  CAF_CHECK(back_id == id);
  CAF_CHECK_EQUAL(back.log.size(), 8u);
  CAF_CHECK_EQUAL(back.next_pos, 15u);
  CAF_CHECK_EQUAL(back.snapshot, "state@6");
}

CAF_TEST(the state machine keeps records of existing deployments only and drops them on undeploy) {
  state_machine sm;
  std::vector<member_change> changes;
  deployment_spec d;
  d.name = "wc";
  d.type = "word-count";
  d.guarantee = delivery::at_least_once;
  d.durable = true;
  CAF_REQUIRE(sm.apply(command{0, 0, deploy_cmd{d}}, 4, changes).ok);
  instance_id id{"wc", 4, 2};
  instance_id stale{"wc", 3, 2}; // an earlier deployment of that name
  CAF_CHECK(!applied(sm.apply(command{0, 0, batch_of(instance_cmd{instance_claim{stale, 1}})}, 5, changes)));
  CAF_REQUIRE(applied(sm.apply(command{0, 0, batch_of(instance_cmd{instance_claim{id, 1}})}, 6, changes)));
  auto res = sm.apply(command{0, 0, batch_of(instance_cmd{append_of(id, 1, 1, 2)})}, 7, changes);
  CAF_REQUIRE(applied(res));
  CAF_CHECK_EQUAL(res.instances[0].pos, 1u); // the first event's position
  CAF_CHECK_EQUAL(res.revision, 0u);    // no KV revision
  // Commands round trip through the log's encoding.
  command decoded;
  CAF_REQUIRE(decode(encode(command{0, 0, batch_of(instance_cmd{append_of(id, 1, 3, 2)})}), decoded));
  CAF_REQUIRE(sm.apply(decoded, 8, changes).ok);
  // The records survive a snapshot of the whole state.
  state_machine copy;
  CAF_REQUIRE(copy.restore(sm.snapshot()));
  CAF_REQUIRE(copy.instances().find(id) != nullptr);
  CAF_CHECK_EQUAL(copy.instances().find(id)->log.size(), 4u);
  CAF_CHECK_EQUAL(copy.kv().revision(), 0u);
  CAF_REQUIRE(sm.apply(command{0, 0, undeploy_cmd{"wc"}}, 9, changes).ok);
  CAF_CHECK(sm.instances().all().empty());
  // A late write of the undeployed one leaves nothing behind.
  CAF_CHECK(!applied(sm.apply(command{0, 0, batch_of(instance_cmd{instance_save{id, 1, 0, "x", ""}})}, 10, changes)));
  CAF_CHECK(sm.instances().all().empty());
}

CAF_TEST(only a durable deployment logs events) {
  state_machine sm;
  std::vector<member_change> changes;
  deployment_spec d;
  d.name = "snap";
  d.type = "word-count";
  CAF_REQUIRE(sm.apply(command{0, 0, deploy_cmd{d}}, 2, changes).ok);
  instance_id id{"snap", 2, 0};
  CAF_REQUIRE(applied(sm.apply(command{0, 0, batch_of(instance_cmd{instance_claim{id, 1}})}, 3, changes)));
  CAF_CHECK(!applied(sm.apply(command{0, 0, batch_of(instance_cmd{append_of(id, 1, 1, 1)})}, 4, changes)));
  CAF_CHECK(applied(sm.apply(command{0, 0, batch_of(instance_cmd{instance_save{id, 1, 0, "s", ""}})}, 5, changes)));
  // And durable without at-least-once is no deployment.
  d.name = "bad";
  d.durable = true;
  CAF_CHECK(!check_spec(d).empty());
}
