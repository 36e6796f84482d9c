// Rights at a node's entrance (issue 17). Raft messages are taken only from the coordinators
// of the node's Raft group: a client, or a member (it knows the cookie) that says it is a
// coordinator at an address not in --peers, that sends one is refused at the entrance, before
// the Raft replica decodes it, counted in troupe_link_refused_total{reason="not_permitted"}
// and logged with who it is; the Raft state does not change. (Taking the rule away fails the
// count and log checks; the replica of a cluster of one also ignores the forged sender id, so
// the term would not move here either: in a group of three, such a vote with a higher term
// makes the leader step down.) A member speaks only for itself. Without the cookie no process
// joins (bad_cookie), and a client changes nothing and sends nothing only members send.
#define CAF_SUITE ingress
#include <caf/test/unit_test.hpp>

#include "actors/bus/bus_actor.hpp"
#include "actors/link/cookie.hpp"
#include "actors/raft/raft_actor.hpp"
#include "actors/vnodes/vnodes.hpp"
#include "nodes/remote_node.hpp"
#include "protocols/membership/codec.hpp"
#include "protocols/raft/codec.hpp"
#include "protocols/wire/frame.hpp"
#include "tests/integration/local_cluster.hpp"
#include "tests/integration/raw_wire.hpp"

#include <caf/scoped_actor.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

using namespace troupe;
using namespace troupe::it;

namespace {

/// A Raft vote request that claims a far higher term, envelope `seq` of its link.
std::string forged_vote(uint64_t incarnation, uint64_t term, uint64_t seq = 1) {
  raft::message m;
  m.type = raft::msg_type::vote;
  m.from = 2;
  m.to = 1;
  m.term = term;
  m.index = 1000;
  m.log_term = term;
  return tell(incarnation, wire::msg_type::raft, raft::encode(m), seq);
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

/// A membership message, envelope `seq` of its link.
std::string membership_tell(uint64_t incarnation, const membership::message& m,
                            uint64_t seq = 1) {
  return tell(incarnation, wire::msg_type::membership, membership::encode(m), seq);
}

/// Waits until `node`'s coordinator and worker are up; returns `name`'s incarnation.
uint64_t up_incarnation(const local_cluster& node, const std::string& name) {
  CAF_REQUIRE(node.wait_up(2));
  auto st = node.status();
  CAF_REQUIRE(st);
  return member(*st, name)->at("incarnation").get<uint64_t>();
}

} // namespace

CAF_TEST(raft messages from anyone but a raft peer are refused and change nothing) {
  auto dir = temp_dir("ingress-raft");
  auto port = free_port_pair();
  auto http = static_cast<uint16_t>(port + 1);
  process node{{"run", "--name=n", "--cluster-port=" + std::to_string(port),
                "--data-dir=" + dir + "/n"},
               dir + "/n.log"};
  CAF_REQUIRE(wait_until([&] { return raft_term_of(http, "n") > 0; }, 15s));
  auto term = raft_term_of(http, "n");
  auto refused = [&] {
    return metric_of(http, R"(troupe_link_refused_total{reason="not_permitted"})");
  };
  // From a client.
  int fd = greeted(port, 77);
  CAF_REQUIRE_GREATER_OR_EQUAL(fd, 0);
  send_all(fd, forged_vote(77, term + 100));
  CAF_CHECK(wait_until([&] { return refused() >= 1; }, 5s));
  // From a node that knows the cookie (a member) and says it is a coordinator, at an address
  // the group does not have.
  int fd2 = greeted(port, 78, node_hello("rogue", "127.0.0.1:1", true, 78), test_cookie());
  CAF_REQUIRE_GREATER_OR_EQUAL(fd2, 0);
  send_all(fd2, forged_vote(78, term + 200, 2));
  CAF_CHECK(wait_until([&] { return refused() >= 2; }, 5s));
  // Both were refused at the entrance: the term is what it was, the node still leads.
  CAF_CHECK_EQUAL(raft_term_of(http, "n"), term);
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
  auto victim = node.worker(1);
  auto incarnation = up_incarnation(node, victim);
  std::optional<nlohmann::json> st;
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
  int fd2 = greeted(node.port, 92, node_hello("intruder", "127.0.0.1:2", false, 92),
                    test_cookie());
  CAF_REQUIRE_GREATER_OR_EQUAL(fd2, 0);
  send_all(fd2, membership_tell(92, m, 2));
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

CAF_TEST(without the cookie no process joins and no client changes anything) {
  local_cluster node{"ingress-cookie", 1};
  CAF_REQUIRE(node.wait_up(2));
  auto target = "127.0.0.1:" + std::to_string(node.port);
  auto counted = [&](const char* reason) {
    return metric_of(node.http_port(),
                     std::string{"troupe_link_refused_total{reason=\""} + reason + "\"}");
  };
  CAF_REQUIRE_EQUAL(counted("bad_cookie"), 0.);
  auto refused_before = counted("not_permitted");
  // A node's hello that never proves the cookie: its first envelope closes the link.
  membership::message m;
  m = membership::leave{"stray", 1, false};
  int fd = greeted(node.port, 93, node_hello("stray", "127.0.0.1:3", false, 93));
  CAF_REQUIRE_GREATER_OR_EQUAL(fd, 0);
  send_all(fd, membership_tell(93, m));
  CAF_CHECK(wait_until([&] { return counted("bad_cookie") >= 1; }, 5s));
  CAF_CHECK(!read_frame(fd));
  ::close(fd);
  // A node that proves another cookie.
  int fd2 = greeted(node.port, 94, node_hello("stray", "127.0.0.1:3", false, 94),
                    "another-clusters-cookie-0123456789");
  CAF_REQUIRE_GREATER_OR_EQUAL(fd2, 0);
  send_all(fd2, membership_tell(94, m, 2));
  CAF_CHECK(wait_until([&] { return counted("bad_cookie") >= 2; }, 5s));
  ::close(fd2);
  // A real worker with another cluster's cookie: it sees the coordinator's proof is not of its
  // cookie and says so; the coordinator counts the link it closed. It never becomes a member.
  std::string problem;
  auto other = node.dir + "/other-cookie";
  CAF_REQUIRE(!create_cookie_file(other, problem).empty());
  process stray{{"run", "--worker", "--name=stray", "--coordinators=" + target,
                 "--cluster-port=0", "--http-port=0", "--data-dir=" + node.dir + "/stray",
                 "--cluster-secret-file=" + other},
                node.dir + "/stray.log"};
  CAF_CHECK(wait_until([&] { return counted("bad_cookie") >= 3; }, 10s));
  CAF_CHECK(wait_until(
    [&] { return stray.log().find("the node has another cookie") != std::string::npos; }, 10s));
  auto st = node.status();
  CAF_REQUIRE(st);
  CAF_CHECK(!member(*st, "stray"));
  CAF_CHECK_EQUAL(count_state(*st, "up"), 2u);
  CAF_CHECK(node.coord->log().find("bad_cookie") != std::string::npos);
  // A client without the cookie reads but changes nothing: the same put with it is taken.
  auto bin = std::string{TROUPE_BIN};
  auto without = [&](std::vector<std::string> args) {
    std::vector<std::string> argv{"env", "-u", cookie_env, "-C", node.dir, bin};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_program(argv, 10s);
  };
  auto put = without({"kv", "put", "cookie/k", "v", "--connect", target});
  CAF_CHECK_EQUAL(put.code, 77);
  CAF_CHECK(put.err.find("need the cluster's cookie") != std::string::npos);
  CAF_CHECK(wait_until([&] { return counted("not_permitted") >= refused_before + 1; }, 5s));
  CAF_CHECK(node.coord->log().find("(without the cookie): not_permitted: a command that changes "
                                   "something, without the cluster's cookie")
            != std::string::npos);
  auto list = without({"kv", "list", "cookie/", "--connect", target});
  CAF_CHECK_EQUAL(list.code, 0);
  CAF_CHECK(list.out.find("cookie/k") == std::string::npos);
  CAF_CHECK_EQUAL(without({"status", "--connect", target}).code, 0);
  CAF_CHECK_EQUAL(run_troupe({"kv", "put", "cookie/k", "v", "--connect", target}).code, 0);
  // Through a handle of its own (an in-process client without the cookie): a KV put is
  // refused, and deliveries and handoff, which only members send, are refused and counted.
  CAF_REQUIRE(default_cookie_files().empty()); // nothing in this directory to find instead
  ::unsetenv(cookie_env);
  client_config cfg;
  troupe_system sys{cfg};
  caf::scoped_actor self{sys};
  auto door = connect_node(sys, self, endpoint{"127.0.0.1", node.port}, 2s, problem);
  ::setenv(cookie_env, test_cookie_file().c_str(), 1);
  CAF_REQUIRE(door);
  std::string err;
  self
    ->request(door, 5s, kv_put_atom::value, std::string{"cookie/h"}, std::string{"v"},
              int64_t{-1}, uint64_t{9}, uint64_t{1})
    .receive([](bool, uint64_t) {}, [&](const caf::error& e) { err = sys.render(e); });
  CAF_MESSAGE(err);
  CAF_CHECK(err.find("need the cluster's cookie") != std::string::npos);
  err.clear();
  self
    ->request(door, 5s, deliver_batch_atom::value, std::string{"echo"},
              std::vector<uint32_t>{0}, std::vector<uint64_t>{1}, std::vector<std::string>{"k"},
              std::vector<std::string>{"p"})
    .receive([](const caf::message&) {}, [&](const caf::error& e) { err = sys.render(e); });
  CAF_MESSAGE(err);
  CAF_CHECK(err.find("only members send them") != std::string::npos);
  self->send(door, vnode_state_atom::value, uint32_t{0}, uint64_t{1}, std::vector<std::string>{},
             std::vector<std::string>{}, std::vector<std::string>{});
  CAF_CHECK(wait_until([&] { return counted("not_permitted") >= refused_before + 4; }, 5s));
  list = run_troupe({"kv", "list", "cookie/", "--connect", target});
  CAF_CHECK(list.out.find("cookie/h") == std::string::npos);
  CAF_CHECK(node.coord->log().find("a batch of deliveries: only members of the cluster send "
                                   "them") != std::string::npos);
}

CAF_TEST(an unproved link can neither get a member evicted nor reflect the challenge of a node) {
  local_cluster node{"ingress-unproved", 1};
  auto victim = node.worker(1);
  auto incarnation = up_incarnation(node, victim);
  std::optional<nlohmann::json> st;
  // A hello that says it is the worker, then a frame out of step: refused, and since the link
  // never proved the cookie, nobody is evicted for it.
  int fd = greeted(node.port, 96, node_hello(victim, "127.0.0.1:4", false, 96));
  CAF_REQUIRE_GREATER_OR_EQUAL(fd, 0);
  membership::message m;
  m = membership::leave{victim, incarnation, false};
  send_all(fd, membership_tell(96, m, 5)); // frame 5 of a link at frame 1: a gap
  CAF_CHECK(wait_until(
    [&] { return metric_of(node.http_port(), R"(troupe_link_refused_total{reason="gap"})") >= 1; },
    5s));
  ::close(fd);
  // Proving that nothing happens takes a while: an eviction would show within a heartbeat or two.
  std::this_thread::sleep_for(500ms);
  st = node.status();
  CAF_REQUIRE(st);
  CAF_CHECK_EQUAL(member(*st, victim)->at("state").get<std::string>(), "up");
  CAF_CHECK_EQUAL(member(*st, victim)->at("incarnation").get<uint64_t>(), incarnation);
  // A worker dials a "coordinator" this test plays; its hello's challenge, sent back to the
  // worker in a hello of our own to have it signed, is refused.
  auto fake = free_port_pair();
  int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(fake);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CAF_REQUIRE_EQUAL(::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  CAF_REQUIRE_EQUAL(::listen(lfd, 4), 0);
  auto wport = free_port_pair();
  process w{{"run", "--worker", "--name=dialer", "--coordinators=127.0.0.1:" + std::to_string(fake),
             "--cluster-port=" + std::to_string(wport), "--data-dir=" + node.dir + "/dialer"},
            node.dir + "/dialer.log"};
  pollfd p{lfd, POLLIN, 0};
  CAF_REQUIRE_GREATER(::poll(&p, 1, 10000), 0);
  int in = ::accept(lfd, nullptr, nullptr);
  CAF_REQUIRE_GREATER_OR_EQUAL(in, 0);
  timeval tv{5, 0};
  ::setsockopt(in, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  auto body = read_frame(in);
  CAF_REQUIRE(body);
  wire::hello theirs;
  CAF_REQUIRE_EQUAL(wire::decode(*body, theirs), wire::wire_errc::none);
  auto reflect = node_hello("mallory", "127.0.0.1:9", false, 97);
  reflect.nonce = theirs.nonce;
  int fd2 = dial(wport);
  CAF_REQUIRE_GREATER_OR_EQUAL(fd2, 0);
  send_all(fd2, hello_frame(reflect));
  CAF_CHECK(!read_frame(fd2)); // no hello, no proof: closed
  CAF_CHECK(wait_until(
    [&] { return w.log().find("a reflected handshake") != std::string::npos; }, 5s));
  ::close(fd2);
  ::close(in);
  ::close(lfd);
}

CAF_TEST(a client cannot end a bus subscription that is not its own) {
  local_cluster node{"ingress-unsub", 1};
  CAF_REQUIRE(node.wait_up(2));
  auto refused = [&] {
    return metric_of(node.http_port(), R"(troupe_link_refused_total{reason="not_permitted"})");
  };
  auto subscriptions = [&] { return metric_of(node.http_port(), "troupe_bus_subscriptions"); };
  auto refused_before = refused();
  // Two clients, each with a connection of its own (the cookie from the harness).
  client_config owner_cfg;
  troupe_system owner_sys{owner_cfg};
  caf::scoped_actor owner{owner_sys};
  std::string problem;
  auto owner_door = connect_node(owner_sys, owner, endpoint{"127.0.0.1", node.port}, 2s, problem);
  CAF_REQUIRE(owner_door);
  client_config other_cfg;
  troupe_system other_sys{other_cfg};
  caf::scoped_actor other{other_sys};
  auto other_door = connect_node(other_sys, other, endpoint{"127.0.0.1", node.port}, 2s, problem);
  CAF_REQUIRE(other_door);
  uint64_t id = 0;
  owner->request(owner_door, 5s, bus_subscribe_atom::value, std::string{"app"}, std::string{"news"})
    .receive([&](uint64_t x) { id = x; },
             [&](const caf::error& e) { CAF_FAIL(owner_sys.render(e)); });
  CAF_REQUIRE_GREATER(id, 0u);
  CAF_REQUIRE(wait_until([&] { return subscriptions() == 1; }, 5s));
  // The other client ends the owner's subscription by its id: refused, counted, logged.
  other->send(other_door, bus_unsubscribe_atom::value, id);
  CAF_CHECK(wait_until([&] { return refused() >= refused_before + 1; }, 5s));
  CAF_CHECK(node.coord->log().find("an unsubscribe from subscription " + std::to_string(id)
                                   + " that is not its own")
            != std::string::npos);
  CAF_CHECK_EQUAL(subscriptions(), 1); // counted after the decision: it still stands
  // Its owner ends it.
  owner->send(owner_door, bus_unsubscribe_atom::value, id);
  CAF_CHECK(wait_until([&] { return subscriptions() == 0; }, 5s));
  CAF_CHECK_EQUAL(refused(), refused_before + 1);
}
