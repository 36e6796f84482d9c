// Three real Raft actors with real storage on CAF's test coordinator: virtual time, a
// stand-in middleman, and deterministic delivery. Elections, forwarding to the leader, reads,
// failover, "no quorum" and a restart of every replica from disk.
#define CAF_SUITE raft_actor
#include <caf/test/unit_test.hpp>
#define FAIL(msg) CAF_FAIL(msg)
#include <caf/test/dsl.hpp>

#include "actors/raft/raft_actor.hpp"
#include "actors/wire.hpp"
#include "tests/actor/fake_resolver.hpp"

#include <unistd.h>

#include <filesystem>

using namespace troupe;
namespace r = troupe::raft;
using std::chrono::milliseconds;

namespace {

struct config : caf::actor_system_config {
  config() {
    register_types(*this);
  }
};

struct fixture : test_coordinator_fixture<config> {
  std::string base;
  caf::actor resolver = sys.spawn(troupe::testing::fake_resolver);
  std::map<r::node_id, caf::actor> nodes;
  uint64_t seq = 0;

  fixture() {
    base = (std::filesystem::temp_directory_path()
            / ("troupe-raft-actor-" + std::to_string(getpid())))
             .string();
    std::filesystem::remove_all(base);
    for (r::node_id id = 1; id <= 3; ++id)
      start(id);
  }

  ~fixture() {
    for (auto& [id, a] : nodes)
      anon_send_exit(a, caf::exit_reason::kill);
    anon_send_exit(resolver, caf::exit_reason::kill);
    consume_messages();
    for (int i = 0; i < 100 && trigger_timeouts() > 0; ++i)
      consume_messages();
    std::filesystem::remove_all(base);
  }

  void start(r::node_id id) {
    raft_actor_config cfg;
    cfg.raft.id = id;
    cfg.raft.voters = {1, 2, 3};
    cfg.raft.election_ticks = 10;
    cfg.raft.seed = id * 7;
    for (r::node_id p = 1; p <= 3; ++p)
      if (p != id)
        cfg.peers[p] = endpoint{"node", static_cast<uint16_t>(9000 + p)};
    cfg.resolver = resolver;
    cfg.node_name = "n" + std::to_string(id);
    cfg.tick_interval = milliseconds(50);
    cfg.snapshot_every = 20;
    std::unique_ptr<r::raft_storage> storage;
    r::restored_state restored;
    r::storage_options opts;
    opts.fsync = false;
    auto err = r::raft_storage::open(base + "/" + std::to_string(id), opts, storage, restored);
    CAF_REQUIRE(!err);
    nodes[id] = caf::actor_cast<caf::actor>(
      spawn_raft_actor(sys, cfg, std::move(storage), std::move(restored)));
    anon_send(nodes[id], start_atom::value);
    self->send(resolver, static_cast<uint16_t>(9000 + id), nodes[id]);
    consume_messages();
  }

  void stop(r::node_id id) {
    anon_send_exit(nodes[id], caf::exit_reason::kill);
    self->send(resolver, static_cast<uint16_t>(9000 + id), caf::actor{});
    nodes.erase(id);
    consume_messages();
  }

  void step(milliseconds d) {
    for (milliseconds t{0}; t < d; t += milliseconds(10)) {
      advance_time(milliseconds(10));
      consume_messages();
    }
  }

  /// The reply to a request: the values, or the error's text.
  template <class... Rs>
  struct reply {
    std::optional<std::tuple<Rs...>> values;
    std::string error;
    template <size_t I>
    auto get() const {
      CAF_REQUIRE(values.has_value());
      return std::get<I>(*values);
    }
  };

  /// Sends a request and runs virtual time until the answer is there (bounded).
  template <class... Rs, class... Ts>
  reply<Rs...> ask(const caf::actor& to, Ts&&... xs) {
    auto hdl = self->request(to, caf::infinite, std::forward<Ts>(xs)...);
    for (int i = 0; i < 1000 && self->mailbox().empty(); ++i)
      step(milliseconds(10));
    CAF_REQUIRE(!self->mailbox().empty());
    reply<Rs...> out;
    hdl.receive([&](Rs&... rs) { out.values = std::make_tuple(rs...); },
                [&](caf::error& e) { out.error = sys.render(e); });
    return out;
  }

  raft_status status(r::node_id id) {
    return ask<raft_status>(nodes[id], raft_status_atom::value).template get<0>();
  }

  r::node_id leader() {
    for (auto& [id, a] : nodes)
      if (status(id).role == "leader")
        return id;
    return r::no_node;
  }

  r::node_id elect() {
    for (int i = 0; i < 100; ++i) {
      step(milliseconds(100));
      if (auto l = leader())
        return l;
    }
    return r::no_node;
  }

  reply<bool, uint64_t> put(r::node_id via, const std::string& k, const std::string& v,
                            int64_t expected = -1) {
    return ask<bool, uint64_t>(nodes[via], kv_put_atom::value, k, v, expected, uint64_t{77},
                               ++seq);
  }

  std::optional<std::string> get(r::node_id via, const std::string& k) {
    auto m = ask<bool, std::string, uint64_t, uint64_t>(nodes[via], kv_get_atom::value, k);
    if (!m.values)
      return std::nullopt;
    if (!std::get<0>(*m.values))
      return std::string{"<absent>"};
    return std::get<1>(*m.values);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(raft_actor_tests, fixture)

CAF_TEST(three replicas elect a leader and serve writes and reads from any node) {
  auto l = elect();
  CAF_REQUIRE_NOT_EQUAL(l, r::no_node);
  auto follower = l == 1 ? r::node_id{2} : r::node_id{1};
  auto w = put(follower, "greeting", "hello"); // forwarded to the leader
  if (!w.values)
    CAF_FAIL("put failed: " << w.error);
  CAF_CHECK(w.get<0>());
  CAF_CHECK_EQUAL(w.get<1>(), 1u);
  for (r::node_id id = 1; id <= 3; ++id)
    CAF_CHECK_EQUAL(get(id, "greeting").value_or("?"), "hello");
  // Compare-and-set on the revision.
  auto cas_bad = put(l, "greeting", "x", 5);
  CAF_CHECK(!cas_bad.get<0>());
  auto cas_ok = put(l, "greeting", "hi", 1);
  CAF_CHECK(cas_ok.get<0>());
  CAF_CHECK_EQUAL(get(follower, "greeting").value_or("?"), "hi");
}

CAF_TEST(the survivors elect a new leader and keep every acknowledged write) {
  auto l = elect();
  CAF_REQUIRE_NOT_EQUAL(l, r::no_node);
  for (int i = 0; i < 30; ++i) // past snapshot_every: the log gets compacted on the way
    CAF_REQUIRE(put(l, "k" + std::to_string(i), "v" + std::to_string(i)).get<0>());
  stop(l);
  auto l2 = elect();
  CAF_REQUIRE_NOT_EQUAL(l2, r::no_node);
  CAF_CHECK_NOT_EQUAL(l2, l);
  CAF_CHECK(put(l2, "after", "failover").get<0>());
  for (int i = 0; i < 30; ++i)
    CAF_CHECK_EQUAL(get(l2, "k" + std::to_string(i)).value_or("?"), "v" + std::to_string(i));
  // The old leader comes back from its disk and catches up (from a snapshot if needed).
  start(l);
  step(milliseconds(2000));
  CAF_CHECK_EQUAL(status(l).applied_index, status(l2).applied_index);
}

CAF_TEST(without a quorum a write fails fast with no quorum) {
  auto l = elect();
  CAF_REQUIRE_NOT_EQUAL(l, r::no_node);
  CAF_REQUIRE(put(l, "before", "ok").get<0>());
  for (r::node_id id = 1; id <= 3; ++id)
    if (id != l)
      stop(id);
  // The lone leader steps down within two election timeouts (check quorum); from then on a
  // write is refused at once instead of hanging.
  step(milliseconds(1200));
  auto m = put(l, "after", "nope");
  CAF_CHECK(m.error.find("no quorum") != std::string::npos);
}

CAF_TEST(every replica restarts from disk with every acknowledged write) {
  auto l = elect();
  CAF_REQUIRE_NOT_EQUAL(l, r::no_node);
  for (int i = 0; i < 45; ++i)
    CAF_REQUIRE(put(l, "key" + std::to_string(i), std::to_string(i)).get<0>());
  for (r::node_id id = 1; id <= 3; ++id)
    stop(id);
  for (r::node_id id = 1; id <= 3; ++id)
    start(id);
  auto l2 = elect();
  CAF_REQUIRE_NOT_EQUAL(l2, r::no_node);
  for (int i = 0; i < 45; ++i)
    CAF_CHECK_EQUAL(get(l2, "key" + std::to_string(i)).value_or("?"), std::to_string(i));
}

CAF_TEST_FIXTURE_SCOPE_END()

CAF_TEST_FIXTURE_SCOPE(raft_watch_tests, fixture)

CAF_TEST(a watch waits for the next change and resumes after a revision) {
  auto l = elect();
  CAF_REQUIRE_NOT_EQUAL(l, r::no_node);
  CAF_REQUIRE(put(l, "w/a", "1").get<0>());
  CAF_REQUIRE(put(l, "x/other", "1").get<0>());
  auto follower = l == 1 ? r::node_id{2} : r::node_id{1};
  // Everything after revision 0 under w/: one event, at once.
  auto first = ask<std::vector<std::string>, std::vector<std::string>, std::vector<std::string>,
                   std::vector<uint64_t>, uint64_t>(nodes[follower], kv_watch_atom::value,
                                                    std::string{"w/"}, uint64_t{0});
  CAF_REQUIRE(first.values.has_value());
  CAF_CHECK_EQUAL(std::get<1>(*first.values), std::vector<std::string>{"w/a"});
  auto seen = std::get<4>(*first.values);
  CAF_CHECK_EQUAL(seen, 2u);
  // Nothing new yet: the watch is parked until the next change under w/ arrives.
  auto hdl = self->request(nodes[follower], caf::infinite, kv_watch_atom::value,
                           std::string{"w/"}, seen);
  step(milliseconds(500));
  CAF_CHECK(self->mailbox().empty());
  CAF_REQUIRE(put(l, "w/b", "2").get<0>()); // ask() runs time: the parked watch answers too
  std::vector<std::string> keys;
  hdl.receive([&](std::vector<std::string>&, std::vector<std::string>& ks,
                  std::vector<std::string>&, std::vector<uint64_t>&, uint64_t) { keys = ks; },
              [&](caf::error& e) { CAF_FAIL(sys.render(e)); });
  CAF_CHECK_EQUAL(keys, std::vector<std::string>{"w/b"});
}

CAF_TEST_FIXTURE_SCOPE_END()
