#define CAF_SUITE typed_messages
#include <caf/test/unit_test.hpp>

#include "tests/integration/small_cluster.hpp"

#include <map>

using namespace troupe::it;

namespace {

/// `bank client` of the bank-account example (examples/bank_account): one request from
/// outside the cluster, through `ep`.
run_result bank_client(const std::string& ep, std::vector<std::string> words) {
  std::vector<std::string> argv{TROUPE_BANK_BIN, "client", "--connect=" + ep};
  argv.insert(argv.end(), words.begin(), words.end());
  return run_program(argv);
}

} // namespace

CAF_TEST(typed requests reach instances on other nodes and an unregistered type fails at the sender) {
  small_cluster c{"typed", TROUPE_BANK_BIN};
  CAF_REQUIRE(c.boot({"w1", "w2"}));
  CAF_REQUIRE(wait_until(
    [&] { return run_troupe({"ctl", c.connect, "deploy", "accounts", "bank-account"}).code == 0; },
    10s));
  CAF_REQUIRE(wait_until(
    [&] { return run_troupe({"ctl", c.connect, "request", "accounts", "alice"}).code == 0; }, 15s));
  // A teller on each node asks the instance that holds alice: from at least two of the three
  // nodes that instance is on another one. Each request carries bank::deposit and is answered
  // with bank::balance.
  std::map<std::string, std::string> tellers;
  for (auto node : {"c", "w1", "w2"}) {
    auto r = run_troupe({"ctl", c.connect, "spawn", "teller", "--node", node});
    CAF_REQUIRE_EQUAL(r.code, 0);
    tellers[node] = r.out.substr(0, r.out.find('\n'));
  }
  int expected = 0;
  for (auto& [node, id] : tellers) {
    expected += 10;
    auto r = run_troupe({"ctl", c.connect, "ask", id, "deposit alice 10"});
    CAF_CHECK_EQUAL(r.out, "alice: " + std::to_string(expected) + "\n");
    CAF_MESSAGE("teller on " << node << ": " << r.out << r.err);
  }
  // The example's own client, from outside the cluster.
  auto r = bank_client(c.ep, {"deposit", "alice", "5"});
  CAF_CHECK_EQUAL(r.code, 0);
  CAF_CHECK_EQUAL(r.out, "alice: 35\n");
  r = bank_client(c.ep, {"withdraw", "alice", "100"});
  CAF_CHECK_EQUAL(r.code, 1);
  CAF_CHECK(r.err.find("insufficient funds: alice has 35, asked 100") != std::string::npos);
  r = bank_client(c.ep, {"balance", "bob"});
  CAF_CHECK_EQUAL(r.out, "bob: 0\n");
  // The string form still works beside the typed one.
  CAF_CHECK_EQUAL(run_troupe({"ctl", c.connect, "request", "accounts", "alice"}).out, "35\n");
  // A type registered nowhere fails at the sender, naming it: in the client...
  r = bank_client(c.ep, {"audit", "alice"});
  CAF_CHECK_EQUAL(r.code, 1);
  CAF_CHECK(r.err.find("cannot send bank::audit to another node") != std::string::npos);
  // ... and in an actor, on every node.
  for (auto& [node, id] : tellers) {
    auto a = run_troupe({"ctl", c.connect, "ask", id, "audit alice"});
    CAF_CHECK_NOT_EQUAL(a.code, 0);
    CAF_CHECK(a.err.find("cannot send bank::audit to another node") != std::string::npos);
  }
  // A durable deployment takes troupe::event only: a typed message is refused, saying why.
  CAF_REQUIRE_EQUAL(run_troupe({"ctl", c.connect, "undeploy", "accounts"}).code, 0);
  CAF_REQUIRE(wait_until(
    [&] {
      return run_troupe({"ctl", c.connect, "deploy", "accounts", "bank-account", "--durable",
                         "--delivery", "at-least-once"})
               .code
             == 0;
    },
    10s));
  r = bank_client(c.ep, {"deposit", "alice", "5"});
  CAF_CHECK_EQUAL(r.code, 1);
  CAF_CHECK(r.err.find("is durable") != std::string::npos);
  CAF_CHECK(c.stop_all());
}
