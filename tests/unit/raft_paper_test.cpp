// Scenario tests of the Raft state machine, one per case of the Raft paper (Ongaro & Ousterhout,
// "In Search of an Understandable Consensus Algorithm", section numbers cited) and of Ongaro's
// thesis for pre-vote, check-quorum, read-index and leadership transfer. Each reads as a
// transcript: set up, step, look.
#define CAF_SUITE raft_paper
#include <caf/test/unit_test.hpp>

#include "tests/unit/raft_cluster.hpp"

using namespace troupe::raft;
using troupe::raft::testing::cluster;
using troupe::raft::testing::commands;
using strings = std::vector<std::string>;

CAF_TEST(5.2 a single node elects itself at once) {
  cluster c{1};
  c.node(1).campaign();
  c.stabilize();
  CAF_CHECK(c.node(1).current_role() == role::leader);
  CAF_CHECK_EQUAL(c.node(1).term(), 1u);
  c.node(1).propose("x");
  c.stabilize();
  CAF_CHECK_EQUAL(commands(c.applied(1)), strings{"x"});
}

CAF_TEST(5.2 a candidate with a majority of votes becomes leader and the others follow) {
  cluster c{3};
  c.node(1).campaign();
  c.stabilize();
  CAF_CHECK(c.node(1).current_role() == role::leader);
  for (node_id id : {2, 3}) {
    CAF_CHECK(c.node(id).current_role() == role::follower);
    CAF_CHECK_EQUAL(c.node(id).leader(), 1u);
    CAF_CHECK_EQUAL(c.node(id).term(), 1u);
  }
}

CAF_TEST(5.2 an election timeout starts an election without any help) {
  cluster c{3};
  c.tick_all(25); // past the longest randomized timeout (2 x 10 ticks)
  auto l = c.leader();
  CAF_REQUIRE_NOT_EQUAL(l, no_node);
  CAF_CHECK_GREATER_OR_EQUAL(c.node(l).term(), 1u);
}

// The replica actor sleeps through the ticks quiet_ticks() counts: each must change nothing
// but counters, and the one after them must be the one that acts.
CAF_TEST(driver quiet ticks end exactly where a tick acts) {
  cluster c{3, 10, 3};
  c.node(1).campaign();
  c.stabilize();
  CAF_REQUIRE(c.node(1).current_role() == role::leader);
  auto& leader = c.node(1);
  int quiet = leader.quiet_ticks();
  CAF_CHECK_EQUAL(quiet, 2); // heartbeat every 3 ticks
  for (int i = 0; i < quiet; ++i) {
    leader.tick();
    CAF_CHECK(!leader.has_ready());
  }
  leader.tick();
  auto rd = leader.take_ready();
  CAF_CHECK_EQUAL(rd.messages.size(), 2u); // the heartbeats
  auto& follower = c.node(2);
  quiet = follower.quiet_ticks();
  CAF_CHECK_GREATER_OR_EQUAL(quiet, 9); // randomized in [10, 20) ticks
  for (int i = 0; i < quiet; ++i) {
    follower.tick();
    CAF_CHECK(!follower.has_ready());
    CAF_CHECK(follower.current_role() == role::follower);
  }
  follower.tick();
  CAF_CHECK(follower.current_role() == role::pre_candidate);
}

CAF_TEST(5.2 a node votes at most once per term even across a restart) {
  cluster c{3};
  c.isolate(1);
  c.node(2).campaign(); // pre-vote from 2 reaches 3, then the real vote
  c.stabilize();
  auto voted_term = c.node(3).term();
  CAF_REQUIRE(c.node(2).current_role() == role::leader);
  c.restart(3); // the vote is in node 3's hard state
  CAF_CHECK_EQUAL(c.node(3).term(), voted_term);
  // A rival candidate of the same term cannot get 3's vote.
  message vote;
  vote.type = msg_type::vote;
  vote.from = 1;
  vote.to = 3;
  vote.term = voted_term;
  vote.index = 100; // a longer log does not buy a second vote
  vote.log_term = voted_term;
  c.node(3).step(vote);
  auto rd = c.node(3).take_ready();
  CAF_REQUIRE_EQUAL(rd.messages.size(), 1u);
  CAF_CHECK(rd.messages[0].type == msg_type::vote_resp);
  CAF_CHECK(rd.messages[0].reject);
}

CAF_TEST(5.3 the leader replicates and commits proposals on every node in order) {
  cluster c{3};
  c.node(1).campaign();
  c.stabilize();
  for (auto x : {"a", "b", "c"})
    CAF_CHECK(c.node(1).propose(x).error == errc::none);
  c.stabilize();
  for (node_id id : {1, 2, 3})
    CAF_CHECK_EQUAL(commands(c.applied(id)), (strings{"a", "b", "c"}));
}

CAF_TEST(5.3 proposals made together travel in one append) {
  cluster c{3};
  c.node(1).campaign();
  c.stabilize();
  for (int i = 0; i < 50; ++i)
    c.node(1).propose("p" + std::to_string(i));
  auto rd = c.node(1).take_ready();
  size_t appends_to_2 = 0;
  for (auto& m : rd.messages)
    if (m.type == msg_type::append && m.to == 2) {
      ++appends_to_2;
      CAF_CHECK_EQUAL(m.entries.size(), 50u);
    }
  CAF_CHECK_EQUAL(appends_to_2, 1u);
}

CAF_TEST(5.3 a follower conflicting uncommitted entries are overwritten) {
  cluster c{3};
  c.node(1).campaign();
  c.stabilize();
  c.node(1).propose("committed");
  c.stabilize();
  // Leader 1 is cut off and takes proposals that can never commit.
  c.isolate(1);
  c.node(1).propose("lost-1");
  c.node(1).propose("lost-2");
  c.stabilize();
  // The others elect a new leader and commit something else.
  c.tick_all(25);
  auto l = c.leader();
  CAF_REQUIRE(l == 2 || l == 3);
  c.node(l).propose("winner");
  c.stabilize();
  c.heal();
  c.tick_all(3);
  for (node_id id : {1, 2, 3})
    CAF_CHECK_EQUAL(commands(c.applied(id)), (strings{"committed", "winner"}));
  CAF_CHECK_EQUAL(c.node(1).log().last_index(), c.node(l).log().last_index());
}

CAF_TEST(5.4.1 a candidate whose log is behind gets no votes) {
  cluster c{3};
  c.node(1).campaign();
  c.stabilize();
  c.isolate(3);
  c.node(1).propose("x");
  c.stabilize();
  c.heal();
  // 3 missed "x". With 1 gone, 2 and 3 campaign on their own timeouts: 3 may ask first, but
  // 2 refuses a candidate whose log lacks "x", so only 2 can win.
  c.stop(1);
  bool three_led = false;
  for (int i = 0; i < 60 && c.node(2).current_role() != role::leader; ++i) {
    c.tick(2);
    c.tick(3);
    three_led |= c.node(3).current_role() == role::leader;
  }
  CAF_CHECK(!three_led);
  CAF_CHECK(c.node(2).current_role() == role::leader);
  CAF_CHECK_EQUAL(c.node(3).leader(), 2u);
}

CAF_TEST(5.4.2 a new leader commits earlier entries through an entry of its own term) {
  cluster c{3};
  c.node(1).campaign();
  c.stabilize();
  c.node(1).propose("x");
  c.stabilize();
  c.stop(1);
  node_id l = no_node;
  for (int i = 0; i < 60 && l == no_node; ++i) {
    c.tick(2);
    c.tick(3);
    l = c.node(2).current_role() == role::leader ? 2 : c.node(3).current_role() == role::leader ? 3 : no_node;
  }
  CAF_REQUIRE_NOT_EQUAL(l, no_node);
  // Its first entry is a no-op of its own term; committing it commits "x" too.
  auto& log = c.node(l).log();
  CAF_CHECK_EQUAL(log.term_at(log.last_index()).value_or(0), c.node(l).term());
  CAF_CHECK(c.node(l).log().range(log.last_index(), log.last_index())[0].type == entry_type::noop);
  CAF_CHECK_EQUAL(c.node(l).commit_index(), log.last_index());
}

CAF_TEST(thesis 9.6 pre-vote keeps a partitioned node from disrupting the leader) {
  cluster c{3};
  c.node(1).campaign();
  c.stabilize();
  auto term = c.node(1).term();
  c.isolate(3);
  c.tick(3, 100); // many election timeouts alone: pre-votes fail, its term stays
  CAF_CHECK_EQUAL(c.node(3).term(), term);
  c.heal();
  c.tick_all(3);
  CAF_CHECK(c.node(1).current_role() == role::leader);
  CAF_CHECK_EQUAL(c.node(1).term(), term);
}

CAF_TEST(thesis 6.2 check quorum makes a leader cut off from its majority step down) {
  cluster c{3};
  c.node(1).campaign();
  c.stabilize();
  c.isolate(1);
  // Followers count as active until the next check, so the leader notices at the second
  // check after the cut: within two election timeouts.
  c.tick(1, 19);
  CAF_CHECK(c.node(1).current_role() == role::leader || c.node(1).current_role() == role::follower);
  c.tick(1, 1);
  CAF_CHECK(c.node(1).current_role() == role::follower);
  CAF_CHECK(c.node(1).propose("late").error == errc::not_leader);
}

CAF_TEST(thesis 6.4 read index confirms leadership with a heartbeat round) {
  cluster c{3};
  c.node(1).campaign();
  c.stabilize();
  c.node(1).propose("x");
  c.stabilize();
  CAF_CHECK(c.node(1).read_index(7) == errc::none);
  c.stabilize();
  CAF_REQUIRE_EQUAL(c.reads(1).size(), 1u);
  CAF_CHECK_EQUAL(c.reads(1)[0].context, 7u);
  CAF_CHECK_EQUAL(c.reads(1)[0].index, c.node(1).commit_index());
  CAF_CHECK(c.node(2).read_index(8) == errc::not_leader);
}

CAF_TEST(thesis 6.4 a leader cut off from its majority never confirms a read) {
  cluster c{3};
  c.node(1).campaign();
  c.stabilize();
  c.isolate(1);
  CAF_CHECK(c.node(1).read_index(9) == errc::none);
  c.stabilize();
  c.tick(1, 9); // still believes it leads, heartbeats go nowhere
  CAF_CHECK(c.reads(1).empty());
  // Meanwhile the majority moves on; the old leader's read would have been stale.
  c.tick_all(25);
  c.stabilize();
  CAF_CHECK(c.reads(1).empty());
}

CAF_TEST(thesis 3.10 leadership transfer hands over to an up-to-date follower) {
  cluster c{3};
  c.node(1).campaign();
  c.stabilize();
  c.node(1).propose("x");
  c.stabilize();
  auto term = c.node(1).term();
  c.node(1).transfer_leadership(3);
  CAF_CHECK(c.node(1).propose("during").error == errc::transfer_in_progress);
  c.stabilize();
  CAF_CHECK(c.node(3).current_role() == role::leader);
  CAF_CHECK_EQUAL(c.node(3).term(), term + 1);
  CAF_CHECK(c.node(1).current_role() == role::follower);
  c.node(3).propose("after");
  c.stabilize();
  CAF_CHECK_EQUAL(commands(c.applied(1)), (strings{"x", "after"}));
}

CAF_TEST(7 a follower behind the compacted log catches up from a snapshot) {
  cluster c{3};
  c.node(1).campaign();
  c.stabilize();
  c.isolate(3);
  for (int i = 0; i < 20; ++i)
    c.node(1).propose("e" + std::to_string(i));
  c.stabilize();
  c.compact(1); // the entries node 3 needs are gone from the leader's log
  c.heal();
  // The appends sent while it was cut off were lost: after half an election timeout without
  // an acknowledgement the leader probes again, finds the gap, and sends the snapshot.
  c.tick_all(6);
  auto snap = c.installed_snapshot(3);
  CAF_REQUIRE(snap.has_value());
  CAF_CHECK_EQUAL(snap->meta.index, c.node(1).log().snapshot_boundary().index);
  CAF_CHECK_EQUAL(c.node(3).commit_index(), c.node(1).commit_index());
  c.node(1).propose("after-snapshot");
  c.stabilize();
  CAF_CHECK_EQUAL(commands(c.applied(3)), strings{"after-snapshot"});
}

CAF_TEST(5.1 a stale leader steps down when it hears a higher term) {
  cluster c{3};
  c.node(1).campaign();
  c.stabilize();
  c.isolate(1);
  c.tick_all(25);
  auto l = c.leader();
  CAF_REQUIRE(l == 2 || l == 3);
  c.heal();
  c.node(1).propose("stale"); // it may still think it leads; the answer tells it otherwise
  c.tick_all(2);
  CAF_CHECK(c.node(1).current_role() == role::follower);
  CAF_CHECK_EQUAL(c.node(1).term(), c.node(l).term());
}

CAF_TEST(figure 2 a restarted node keeps its log term and vote) {
  cluster c{3};
  c.node(1).campaign();
  c.stabilize();
  c.node(1).propose("x");
  c.stabilize();
  auto last = c.node(2).log().last_index();
  auto term = c.node(2).term();
  c.restart(2);
  CAF_CHECK_EQUAL(c.node(2).log().last_index(), last);
  CAF_CHECK_EQUAL(c.node(2).term(), term);
  c.tick_all(2);
  c.node(1).propose("y");
  c.stabilize();
  auto applied = commands(c.applied(2)); // by value: keep it for the check
  CAF_REQUIRE(!applied.empty());
  CAF_CHECK_EQUAL(applied.back(), "y");
}

#include "protocols/raft/codec.hpp"

#include <random>

CAF_TEST(wire every message survives the codec and garbage is rejected) {
  // Every message of a busy cluster, including snapshots, goes through encode and decode.
  cluster c{3};
  c.node(1).campaign();
  c.stabilize();
  for (int i = 0; i < 30; ++i)
    c.node(1).propose(std::string("cmd\0", 4) + std::to_string(i));
  auto rd = c.node(1).take_ready();
  CAF_REQUIRE(!rd.messages.empty());
  for (auto& m : rd.messages) {
    message back;
    CAF_REQUIRE(decode(encode(m), back) == troupe::raft::codec_errc::none);
    CAF_CHECK(back.type == m.type);
    CAF_CHECK_EQUAL(back.entries.size(), m.entries.size());
    if (!m.entries.empty())
      CAF_CHECK_EQUAL(back.entries.back().data, m.entries.back().data);
    CAF_CHECK_EQUAL(back.commit, m.commit);
  }
  message snap;
  snap.type = msg_type::snapshot;
  snap.from = 1;
  snap.to = 2;
  snap.term = 4;
  snap.snap = snapshot{{10, 3}, "state"};
  message back;
  CAF_REQUIRE(decode(encode(snap), back) == troupe::raft::codec_errc::none);
  CAF_CHECK_EQUAL(back.snap->data, "state");
  // Invalid fields: entries not following (index, log_term), a future term, no sender.
  message bad = snap;
  bad.type = msg_type::append;
  bad.snap.reset();
  bad.index = 5;
  bad.entries = {entry{4, 7, entry_type::normal, "x"}};
  CAF_CHECK(decode(encode(bad), back) == troupe::raft::codec_errc::invalid_value);
  bad.entries = {entry{5, 6, entry_type::normal, "x"}};
  CAF_CHECK(decode(encode(bad), back) == troupe::raft::codec_errc::invalid_value);
  bad.entries.clear();
  bad.from = 0;
  CAF_CHECK(decode(encode(bad), back) == troupe::raft::codec_errc::invalid_value);
  std::mt19937 rng{7};
  auto good = encode(rd.messages.front());
  for (int i = 0; i < 5000; ++i) {
    auto bytes = good;
    bytes[rng() % bytes.size()] = static_cast<char>(rng());
    decode(bytes, back); // any verdict, never a crash
  }
}
