// Rights at a node's entrance (issue 17): Raft messages are taken only from the coordinators
// of the node's Raft group. A client, or a node that says it is a coordinator at an address
// not in --peers, that sends one is refused at the entrance, before the Raft replica decodes
// it, counted in troupe_link_refused_total{reason="not_permitted"} and logged with who it is;
// the Raft state does not change. (Taking the rule away fails the count and log checks; the
// replica of a cluster of one also ignores the forged sender id, so the term would not move
// here either: in a group of three, such a vote with a higher term makes the leader step down.)
#define CAF_SUITE ingress
#include <caf/test/unit_test.hpp>

#include "protocols/membership/codec.hpp"
#include "protocols/raft/codec.hpp"
#include "protocols/wire/frame.hpp"
#include "tests/integration/local_cluster.hpp"
#include "tests/integration/raw_wire.hpp"

#include <unistd.h>

using namespace troupe;
using namespace troupe::it;

namespace {

/// The Raft term the node reports for itself (0: no answer).
uint64_t term_of(uint16_t http, const std::string& name) {
  auto st = http_status(http);
  if (!st)
    return 0;
  auto m = member(*st, name);
  return m && m->at("raft").is_object() ? m->at("raft").at("term").get<uint64_t>() : 0;
}

/// A one-way envelope of `type` holding `body`, the first of its link.
std::string tell(uint64_t incarnation, wire::msg_type type, std::string body) {
  wire::envelope e;
  e.seq = 1;
  e.incarnation = incarnation;
  e.kind = wire::kind::tell;
  e.type = static_cast<uint32_t>(type);
  e.body = std::move(body);
  return wire::make_frame(wire::encode(std::move(e)));
}

/// A Raft vote request that claims a far higher term.
std::string forged_vote(uint64_t incarnation, uint64_t term) {
  raft::message m;
  m.type = raft::msg_type::vote;
  m.from = 2;
  m.to = 1;
  m.term = term;
  m.index = 1000;
  m.log_term = term;
  return tell(incarnation, wire::msg_type::raft, raft::encode(m));
}

/// The hello of a node called `name` that says it is at `address`.
wire::hello node_hello(const std::string& name, const std::string& address, bool coordinator,
                       uint64_t incarnation) {
  wire::hello h;
  h.version = wire::version;
  h.min_version = wire::min_version;
  h.kind = wire::peer_kind::node;
  h.name = name;
  h.address = address;
  h.coordinator = coordinator;
  h.incarnation = incarnation;
  return h;
}

/// A membership message.
std::string membership_tell(uint64_t incarnation, const membership::message& m) {
  return tell(incarnation, wire::msg_type::membership, membership::encode(m));
}

} // namespace

CAF_TEST(raft messages from anyone but a raft peer are refused and change nothing) {
  auto dir = temp_dir("ingress-raft");
  auto port = free_port_pair();
  auto http = static_cast<uint16_t>(port + 1);
  process node{{"run", "--name=n", "--cluster-port=" + std::to_string(port),
                "--data-dir=" + dir + "/n"},
               dir + "/n.log"};
  CAF_REQUIRE(wait_until([&] { return term_of(http, "n") > 0; }, 15s));
  auto term = term_of(http, "n");
  auto refused = [&] {
    return metric_of(http, R"(troupe_link_refused_total{reason="not_permitted"})");
  };
  // From a client.
  int fd = greeted(port, 77);
  CAF_REQUIRE_GREATER_OR_EQUAL(fd, 0);
  send_all(fd, forged_vote(77, term + 100));
  CAF_CHECK(wait_until([&] { return refused() >= 1; }, 5s));
  // From a node that says it is a coordinator, at an address the group does not have.
  int fd2 = greeted(port, 78, node_hello("rogue", "127.0.0.1:1", true, 78));
  CAF_REQUIRE_GREATER_OR_EQUAL(fd2, 0);
  send_all(fd2, forged_vote(78, term + 200));
  CAF_CHECK(wait_until([&] { return refused() >= 2; }, 5s));
  // Both were refused at the entrance: the term is what it was, the node still leads.
  CAF_CHECK_EQUAL(term_of(http, "n"), term);
  auto st = http_status(http);
  CAF_REQUIRE(st);
  CAF_MESSAGE("raft: " << member(*st, "n")->at("raft").dump());
  CAF_CHECK_EQUAL(member(*st, "n")->at("raft").value("role", ""), "leader");
  CAF_CHECK(node.log().find("not_permitted: a Raft message: only the coordinators") != std::string::npos);
  CAF_CHECK(node.log().find("rogue at 127.0.0.1:1 (not in --peers)") != std::string::npos);
  ::close(fd);
  ::close(fd2);
  if (caf::test::engine::current_test()->bad() > 0)
    std::cout << node.log();
}

CAF_TEST(a leave for another member is refused and the member stays up) {
  local_cluster node{"ingress-leave", 1};
  CAF_REQUIRE(node.wait_up(2));
  auto victim = node.worker(1);
  auto st = node.status();
  CAF_REQUIRE(st);
  auto incarnation = member(*st, victim)->at("incarnation").get<uint64_t>();
  auto refused = [&] {
    return metric_of(node.http_port(), R"(troupe_link_refused_total{reason="not_permitted"})");
  };
  membership::message m;
  m = membership::leave{victim, incarnation, false};
  // From a client, and from a node under another name: both speak for the worker.
  int fd = greeted(node.port, 91);
  CAF_REQUIRE_GREATER_OR_EQUAL(fd, 0);
  send_all(fd, membership_tell(91, m));
  CAF_CHECK(wait_until([&] { return refused() >= 1; }, 5s));
  int fd2 = greeted(node.port, 92, node_hello("intruder", "127.0.0.1:2", false, 92));
  CAF_REQUIRE_GREATER_OR_EQUAL(fd2, 0);
  send_all(fd2, membership_tell(92, m));
  CAF_CHECK(wait_until([&] { return refused() >= 2; }, 5s));
  // The worker is still up under the same incarnation, and stays so past its heartbeats.
  st = node.status();
  CAF_REQUIRE(st);
  CAF_CHECK_EQUAL(member(*st, victim)->at("state").get<std::string>(), "up");
  CAF_CHECK_EQUAL(member(*st, victim)->at("incarnation").get<uint64_t>(), incarnation);
  auto log = node.coord->log();
  CAF_CHECK(log.find("a membership message for " + victim + " from a client") != std::string::npos);
  CAF_CHECK(log.find("from intruder: a member speaks only for itself") != std::string::npos);
  ::close(fd);
  ::close(fd2);
}
