// The broadcast bus's pure parts: the persisted log (through the state machine and its
// encoding, as the Raft actor applies it) and which subscriber gets what, when.
#define CAF_SUITE bus
#include <caf/test/unit_test.hpp>

#include "protocols/bus/delivery.hpp"
#include "protocols/cluster_state/state_machine.hpp"

#include <cstdlib>
#include <random>

using namespace troupe;
using namespace troupe::state;

namespace {

struct fixture {
  state_machine sm;
  uint64_t index = 0;

  apply_result publish(const std::string& topic, const std::string& payload,
                       const std::string& origin = "w1", uint32_t keep = 100,
                       bool send_to_self = false) {
    command c;
    c.body = bus_publish_cmd{topic, payload, origin, send_to_self, keep};
    command back;
    if (!decode(encode(c), back))
      CAF_FAIL("a publish does not survive its encoding");
    std::vector<member_change> changes;
    return sm.apply(back, ++index, changes);
  }

  /// Answers `req` from the state machine, as a coordinator's replica does.
  std::vector<bus::fetched_entry> answer(const bus::fetch_request& req) const {
    std::vector<bus::fetched_entry> out;
    for (uint32_t k = 0; k < req.topics.size(); ++k)
      for (auto& e : sm.bus().since(req.topics[k], req.after[k]))
        out.push_back(bus::fetched_entry{k, e});
    return out;
  }

  static std::vector<std::string> payloads(const std::vector<bus::delivery>& ds, uint64_t sub) {
    std::vector<std::string> out;
    for (auto& d : ds)
      if (d.subscription == sub)
        out.push_back(d.msg.payload);
    return out;
  }
};

using strings = std::vector<std::string>;

} // namespace

CAF_TEST_FIXTURE_SCOPE(bus_tests, fixture)

CAF_TEST(the log keeps the last N of each topic in publish order and survives a snapshot) {
  for (int i = 1; i <= 5; ++i)
    CAF_CHECK(publish("ns/a", "a" + std::to_string(i), "w1", 3).ok);
  auto r = publish("ns/b", "b1");
  CAF_CHECK(r.ok);
  CAF_CHECK_EQUAL(r.incarnation, 6u); // the broadcast's log index comes back to the publisher
  auto kept = sm.bus().since("ns/a", 0);
  CAF_REQUIRE_EQUAL(kept.size(), 3u);
  CAF_CHECK_EQUAL(kept[0].payload, "a3");
  CAF_CHECK_EQUAL(kept[2].payload, "a5");
  CAF_CHECK_EQUAL(sm.bus().since("ns/a", kept[1].index).size(), 1u);
  CAF_CHECK_EQUAL(sm.bus().head(), 6u);
  state_machine copy;
  CAF_REQUIRE(copy.restore(sm.snapshot()));
  auto again = copy.bus().since("ns/a", 0);
  CAF_REQUIRE_EQUAL(again.size(), 3u);
  CAF_CHECK_EQUAL(again[1].payload, "a4");
  CAF_CHECK_EQUAL(again[1].origin, "w1");
  CAF_CHECK_EQUAL(copy.bus().head(), 6u);
  // The view carries the head only, never the payloads.
  cluster_view view;
  CAF_REQUIRE(decode_view(encode_view(sm), view));
  CAF_CHECK_EQUAL(view.bus_head, 6u);
}

CAF_TEST(the log refuses what would make the state unbounded) {
  CAF_CHECK(!publish("no-namespace", "x").ok);
  CAF_CHECK(!publish("ns/a", std::string(bus_max_payload + 1, 'x')).ok);
  CAF_CHECK(!publish("ns/a", "x", "w1", 0).ok);
  CAF_CHECK_EQUAL(sm.bus().head(), 0u);
}

CAF_TEST(a late subscriber gets every kept broadcast once and in order) {
  bus::delivery_state d{"w2"};
  publish("ns/t", "one");
  publish("ns/t", "two");
  d.set_head(sm.bus().head());
  auto s1 = d.subscribe("ns/t");
  auto req = d.next_fetch();
  CAF_REQUIRE(req.has_value());
  CAF_CHECK(!d.next_fetch().has_value()); // one fetch at a time
  auto out = d.fetched(answer(*req), sm.bus().head());
  CAF_CHECK_EQUAL(payloads(out, s1), (strings{"one", "two"}));
  CAF_CHECK(!d.next_fetch().has_value()); // seen everything
  publish("ns/t", "three");
  d.set_head(sm.bus().head());
  req = d.next_fetch();
  CAF_REQUIRE(req.has_value());
  CAF_CHECK_EQUAL(req->after.at(0), 2u);
  out = d.fetched(answer(*req), sm.bus().head());
  CAF_CHECK_EQUAL(payloads(out, s1), (strings{"three"}));
}

CAF_TEST(a subscription made while a fetch is in flight still gets the whole history) {
  bus::delivery_state d{"w2"};
  publish("ns/t", "one");
  d.set_head(sm.bus().head());
  auto s1 = d.subscribe("ns/t");
  auto first = d.fetched(answer(*d.next_fetch()), sm.bus().head());
  CAF_CHECK_EQUAL(payloads(first, s1), (strings{"one"}));
  publish("ns/t", "two");
  d.set_head(sm.bus().head());
  auto req = d.next_fetch(); // after 1, for s1
  auto s2 = d.subscribe("ns/t");
  auto out = d.fetched(answer(*req), sm.bus().head());
  CAF_CHECK_EQUAL(payloads(out, s1), (strings{"two"}));
  CAF_CHECK(payloads(out, s2).empty()); // would have missed "one"
  req = d.next_fetch();
  CAF_REQUIRE(req.has_value());
  CAF_CHECK_EQUAL(req->after.at(0), 0u);
  out = d.fetched(answer(*req), sm.bus().head());
  CAF_CHECK_EQUAL(payloads(out, s2), (strings{"one", "two"}));
  CAF_CHECK(payloads(out, s1).empty()); // nothing twice
}

CAF_TEST(persisted broadcasts skip the publishing node unless send_to_self) {
  bus::delivery_state d{"w1"};
  publish("ns/t", "quiet", "w1", 100, false);
  publish("ns/t", "loud", "w1", 100, true);
  publish("ns/t", "other", "w2", 100, false);
  d.set_head(sm.bus().head());
  auto s = d.subscribe("ns/t");
  auto out = d.fetched(answer(*d.next_fetch()), sm.bus().head());
  CAF_CHECK_EQUAL(payloads(out, s), (strings{"loud", "other"}));
}

CAF_TEST(namespaces isolate topics of the same name) {
  bus::delivery_state d{"w2"};
  auto a = d.subscribe("alpha/news");
  auto b = d.subscribe("beta/news");
  auto out = d.live("alpha/news", "hello", "w1");
  CAF_REQUIRE_EQUAL(out.size(), 1u);
  CAF_CHECK_EQUAL(out[0].subscription, a);
  publish("beta/news", "persisted");
  d.set_head(sm.bus().head());
  out = d.fetched(answer(*d.next_fetch()), sm.bus().head());
  CAF_CHECK(payloads(out, a).empty());
  CAF_CHECK_EQUAL(payloads(out, b), (strings{"persisted"}));
  CAF_CHECK(d.unsubscribe(b));
  CAF_CHECK(!d.unsubscribe(b));
  CAF_CHECK(d.subscribers("beta/news").empty());
}

CAF_TEST(random interleavings of publishes subscribes and fetches deliver each once in order) {
  size_t delivered = 0;
  auto seeds = std::getenv("TROUPE_SIM_SEEDS") ? std::stoul(std::getenv("TROUPE_SIM_SEEDS"))
                                               : 1000ul;
  for (uint32_t seed = 1; seed <= seeds; ++seed) {
    std::mt19937 rng{seed};
    fixture f;
    bus::delivery_state d{"w9"};
    std::map<uint64_t, std::vector<uint64_t>> got; // subscription -> indices
    std::map<uint64_t, std::string> topic_of;
    std::optional<bus::fetch_request> req;
    std::vector<bus::fetched_entry> answered; // answered when sent, arrives later
    uint64_t answered_head = 0;
    for (int step = 0; step < 200; ++step) {
      auto topic = std::string{"ns/"} + char('a' + rng() % 3);
      switch (rng() % 5) {
        case 0:
          f.publish(topic, "p", "w" + std::to_string(rng() % 2), 1000);
          break;
        case 1:
          topic_of[d.subscribe(topic)] = topic;
          break;
        case 2:
          d.set_head(f.sm.bus().head());
          break;
        case 3:
          if (!req && (req = d.next_fetch())) {
            answered = f.answer(*req);
            answered_head = f.sm.bus().head();
          }
          break;
        case 4:
          if (req) {
            for (auto& x : d.fetched(answered, answered_head))
              got[x.subscription].push_back(x.msg.index);
            req.reset();
          }
          break;
      }
    }
    // Drain: the subscriptions catch up with the head.
    d.set_head(f.sm.bus().head());
    if (req)
      for (auto& x : d.fetched(answered, answered_head))
        got[x.subscription].push_back(x.msg.index);
    for (int i = 0; i < 10; ++i)
      if (auto r = d.next_fetch())
        for (auto& x : d.fetched(f.answer(*r), f.sm.bus().head()))
          got[x.subscription].push_back(x.msg.index);
    for (auto& [sub, topic] : topic_of) {
      std::vector<uint64_t> want;
      for (auto& e : f.sm.bus().since(topic, 0))
        want.push_back(e.index);
      delivered += got[sub].size();
      if (got[sub] != want)
        CAF_FAIL("seed " << seed << ": subscription " << sub << " of " << topic << " got "
                         << got[sub].size() << " broadcasts, want " << want.size());
    }
  }
  CAF_CHECK_GREATER(delivered, seeds * 10); // the seeds exercised something
}

CAF_TEST_FIXTURE_SCOPE_END()
