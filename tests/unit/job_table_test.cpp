// The jobs core (protocols/jobs): queues, hand-outs to idle slots, fenced attempts, retries
// with backoff, dead letters, and the leader's plan.
#define CAF_SUITE job_table
#include <caf/test/unit_test.hpp>

#include "protocols/jobs/job_table.hpp"

using namespace troupe::jobs;

namespace {

queue_config cfg(uint32_t slots = 2, int64_t timeout = 1000, uint32_t attempts = 3,
                 int64_t backoff = 100) {
  return queue_config{"q", "sleep-job", slots, timeout, attempts, backoff};
}

job_table with_queue(queue_config q = cfg()) {
  job_table t;
  CAF_REQUIRE(t.apply(create_queue_cmd{q}).result == outcome::ok);
  t.apply(worker_cmd{"w1", true, 0});
  return t;
}

} // namespace

CAF_TEST(a bad configuration is refused with a reason) {
  auto q = cfg();
  q.slots_per_worker = 0;
  CAF_CHECK_EQUAL(check_config(q), "slots per worker must be 1-1024");
  q = cfg();
  q.name = "no spaces";
  CAF_CHECK(!check_config(q).empty());
  job_table t;
  CAF_CHECK(t.apply(create_queue_cmd{q}).result == outcome::invalid);
  CAF_CHECK(t.apply(create_queue_cmd{cfg()}).result == outcome::ok);
  CAF_CHECK(t.apply(create_queue_cmd{cfg()}).result == outcome::duplicate);
  CAF_CHECK(t.apply(create_queue_cmd{cfg(3)}).result == outcome::exists);
}

CAF_TEST(a submit is acknowledged once and again for the same id) {
  auto t = with_queue();
  CAF_CHECK(t.apply(submit_cmd{"q", "a", "10", 5}).result == outcome::ok);
  CAF_CHECK(t.apply(submit_cmd{"q", "a", "other", 6}).result == outcome::duplicate);
  CAF_CHECK_EQUAL(t.find("q", "a")->payload, "10");
  CAF_CHECK(t.apply(submit_cmd{"nope", "a", "", 6}).result == outcome::no_queue);
  CAF_CHECK(t.apply(submit_cmd{"q", "", "", 6}).result == outcome::invalid);
}

CAF_TEST(the plan fills only free slots of up workers oldest job first) {
  auto t = with_queue(cfg(2));
  t.apply(worker_cmd{"w2", true, 0});
  for (auto id : {"c", "a", "b", "d", "e"})
    t.apply(submit_cmd{"q", id, "", 1});
  auto p = plan(t, 10);
  CAF_REQUIRE_EQUAL(p.size(), 4u); // 2 workers x 2 slots
  std::vector<std::string> ids, workers;
  for (auto& c : p) {
    auto& a = std::get<assign_cmd>(c);
    ids.push_back(a.id);
    workers.push_back(a.worker);
    CAF_CHECK(t.apply(c).result == outcome::ok);
  }
  CAF_CHECK_EQUAL(ids, (std::vector<std::string>{"c", "a", "b", "d"})); // submission order
  CAF_CHECK_EQUAL(workers, (std::vector<std::string>{"w1", "w2", "w1", "w2"}));
  CAF_CHECK(plan(t, 11).empty()); // no slot left
  CAF_CHECK(t.apply(assign_cmd{"q", "e", "w1", 11}).result == outcome::no_slot);
  CAF_CHECK(t.apply(assign_cmd{"q", "e", "w9", 11}).result == outcome::no_slot);
  CAF_CHECK(t.apply(assign_cmd{"q", "c", "w1", 11}).result == outcome::not_pending);
  CAF_CHECK_EQUAL(t.counts("q").running, 4u);
  CAF_CHECK_EQUAL(t.counts("q").pending, 1u);
}

CAF_TEST(a result counts only for the running attempt) {
  auto t = with_queue();
  t.apply(submit_cmd{"q", "a", "", 0});
  auto first = t.apply(assign_cmd{"q", "a", "w1", 0}).epoch;
  // The attempt times out; the job is handed out again under a new epoch.
  auto p = plan(t, 1000);
  CAF_REQUIRE_EQUAL(p.size(), 1u);
  CAF_CHECK(std::holds_alternative<expire_cmd>(p[0]));
  CAF_CHECK(t.apply(p[0]).result == outcome::ok);
  CAF_CHECK(t.find("q", "a")->state == job_state::pending);
  CAF_CHECK(plan(t, 1050).empty()); // backing off: 100 ms after the first failed attempt
  auto second = t.apply(assign_cmd{"q", "a", "w1", 1100}).epoch;
  CAF_CHECK_NOT_EQUAL(first, second);
  // The first handler finishes late: fenced. The second one counts, once.
  CAF_CHECK(t.apply(finish_cmd{"q", "a", first, true, "", 1200}).result == outcome::stale_attempt);
  CAF_CHECK(t.apply(finish_cmd{"q", "a", second, true, "", 1200}).result == outcome::ok);
  CAF_CHECK(t.apply(finish_cmd{"q", "a", second, true, "", 1201}).result == outcome::stale_attempt);
  CAF_CHECK(t.find("q", "a")->state == job_state::done);
  CAF_CHECK_EQUAL(t.counts("q").done, 1u);
}

CAF_TEST(failures back off exponentially then the job is dead until retried) {
  auto t = with_queue(cfg(1, 1000, 3, 100));
  t.apply(submit_cmd{"q", "a", "fail", 0});
  int64_t now = 0;
  std::vector<int64_t> waits;
  for (uint32_t attempt = 1; attempt <= 3; ++attempt) {
    auto& j = *t.find("q", "a");
    CAF_REQUIRE(j.state == job_state::pending);
    waits.push_back(j.not_before_ms - now);
    now = j.not_before_ms;
    auto e = t.apply(assign_cmd{"q", "a", "w1", now}).epoch;
    CAF_CHECK_EQUAL(t.find("q", "a")->attempts, attempt);
    t.apply(finish_cmd{"q", "a", e, false, "no such file", now});
  }
  CAF_CHECK_EQUAL(waits, (std::vector<int64_t>{0, 100, 200}));
  auto& dead = *t.find("q", "a");
  CAF_CHECK(dead.state == job_state::dead);
  CAF_CHECK_EQUAL(dead.last_error, "no such file");
  CAF_CHECK(plan(t, now + 100000).empty());
  CAF_CHECK(t.apply(retry_cmd{"q", std::string{"a"}, now}).result == outcome::ok);
  CAF_CHECK(t.find("q", "a")->state == job_state::pending);
  CAF_CHECK_EQUAL(t.find("q", "a")->attempts, 0u);
  CAF_CHECK(t.apply(retry_cmd{"q", std::string{"a"}, now}).result == outcome::not_pending);
}

CAF_TEST(a lost worker gives its attempts back and gets no more) {
  auto t = with_queue(cfg(2));
  t.apply(worker_cmd{"w2", true, 0});
  for (auto id : {"a", "b", "c"})
    t.apply(submit_cmd{"q", id, "", 0});
  for (auto& c : plan(t, 0))
    t.apply(c);
  auto on_w1 = t.running_on("q", "w1");
  CAF_REQUIRE_GREATER(on_w1, 0u);
  auto epoch_a = t.find("q", "a")->epoch;
  t.apply(worker_cmd{"w1", false, 10});
  CAF_CHECK_EQUAL(t.running_on("q", "w1"), 0u);
  CAF_CHECK_EQUAL(t.counts("q").pending, on_w1);
  auto p = plan(t, 500); // past the backoff, before b's timeout on w2
  CAF_REQUIRE_EQUAL(p.size(), 1u); // w2 has one free slot
  CAF_CHECK_EQUAL(std::get<assign_cmd>(p[0]).worker, "w2");
  CAF_CHECK(t.find("q", "a")->last_error.find("w1 was lost") != std::string::npos);
  CAF_CHECK(t.apply(finish_cmd{"q", "a", epoch_a, true, "", 20}).result == outcome::stale_attempt);
}

CAF_TEST(done jobs beyond keep_done are pruned oldest first and still counted) {
  auto q = cfg(5);
  q.keep_done = 2;
  auto t = with_queue(q);
  for (int i = 0; i < 5; ++i)
    t.apply(submit_cmd{"q", "j" + std::to_string(i), "", i});
  for (int i = 0; i < 5; ++i) {
    auto id = "j" + std::to_string(i);
    CAF_REQUIRE(t.apply(assign_cmd{"q", id, "w1", 10}).result == outcome::ok);
    t.apply(finish_cmd{"q", id, t.find("q", id)->epoch, true, "", 20 + i});
  }
  CAF_CHECK_EQUAL(t.counts("q").done, 5u);
  auto p = plan(t, 100);
  CAF_REQUIRE_EQUAL(p.size(), 1u);
  auto* prune = std::get_if<prune_cmd>(&p[0]);
  CAF_REQUIRE(prune != nullptr);
  CAF_CHECK_EQUAL(prune->count, 3u);
  CAF_CHECK(t.apply(p[0]).result == outcome::ok);
  // The two that ended last are kept; the count of done jobs still says five.
  CAF_CHECK(t.find("q", "j2") == nullptr);
  CAF_CHECK(t.find("q", "j3") != nullptr && t.find("q", "j4") != nullptr);
  CAF_CHECK_EQUAL(t.counts("q").done, 5u);
  CAF_CHECK_EQUAL(t.counts("q").pruned, 3u);
  CAF_CHECK(plan(t, 100).empty());
  job_table copy; // a snapshot keeps what was pruned
  CAF_REQUIRE(copy.restore(t.images(), t.workers_up(), t.next_epoch()));
  CAF_CHECK_EQUAL(copy.counts("q").done, 5u);
  CAF_CHECK_EQUAL(copy.counts("q").pruned, 3u);
  // A pruned id is a new job when submitted again.
  CAF_CHECK(t.apply(submit_cmd{"q", "j0", "", 200}).result == outcome::ok);
  q.keep_done = 0;
  CAF_CHECK_EQUAL(check_config(q), "keep-done must be 1-10000000");
}
