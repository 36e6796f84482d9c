// A rolling upgrade's middle (issue 13): nodes of this wire version and of the next one
// (troupe-wire-next, the stock binary built with TROUPE_WIRE_NEXT: wire version 2, a field
// this release does not know in every hello and envelope, and a message type it does not know)
// form one cluster. Joins, KV writes relayed across versions and events routed between workers
// of both versions work; the unknown field is ignored; the unknown type is answered
// "unsupported" and counted on both sides.
#define CAF_SUITE mixed_version
#include <caf/test/unit_test.hpp>

#include "actors/raft/raft_actor.hpp"
#include "actors/router.hpp"
#include "nodes/remote_node.hpp"
#include "tests/integration/harness.hpp"

#include <caf/scoped_actor.hpp>
#include <httplib.h>

#include <iostream>

using namespace troupe;
using namespace troupe::it;

namespace {

double metric(uint16_t http, const std::string& name_and_labels) {
  httplib::Client cli{"127.0.0.1", http};
  auto res = cli.Get("/metrics");
  if (!res || res->status != 200)
    return -1;
  auto at = res->body.find("\n" + name_and_labels + " ");
  return at == std::string::npos ? -1
                                 : std::stod(res->body.substr(at + name_and_labels.size() + 2));
}

} // namespace

CAF_TEST(nodes of this wire version and the next form one cluster) {
  auto dir = temp_dir("mixed-version");
  auto port = free_port_pair();
  auto http = static_cast<uint16_t>(port + 1);
  auto coord_at = "127.0.0.1:" + std::to_string(port);
  process coord{{"run", "--coordinator", "--peers=" + coord_at, "--name=old-c",
                 "--cluster-port=" + std::to_string(port), "--data-dir=" + dir + "/c",
                 "--threads=2"},
                dir + "/c.log"};
  process next_w{{"run", "--worker", "--name=next-w", "--coordinators=" + coord_at,
                  "--cluster-port=0", "--data-dir=" + dir + "/nw", "--threads=2"},
                 dir + "/nw.log", {}, "/dev/null", TROUPE_WIRE_NEXT_BIN};
  process old_w{{"run", "--worker", "--name=old-w", "--coordinators=" + coord_at,
                 "--cluster-port=0", "--data-dir=" + dir + "/ow", "--threads=2"},
                dir + "/ow.log"};
  std::optional<nlohmann::json> st;
  CAF_REQUIRE(wait_until(
    [&] {
      st = http_status(http);
      return st && count_state(*st, "up") == 3;
    },
    20s, 100ms));
  auto nw = member(*st, "next-w");
  CAF_REQUIRE(nw);
  auto nw_ep = parse_endpoint(nw->at("address").get<std::string>());
  CAF_REQUIRE(nw_ep);
  auto nw_http = nw->at("http_port").get<uint16_t>();
  auto connect = "--connect=" + coord_at;
  CAF_REQUIRE_EQUAL(run_troupe({"ctl", connect, "deploy", "d", "echo"}).code, 0);

  // Through the next-version worker: events to every vnode (so between workers of both
  // versions) and a KV write relayed to the old coordinator.
  client_config cfg;
  troupe_system sys{cfg};
  caf::scoped_actor self{sys};
  std::string problem;
  auto node = connect_node(sys, self, *nw_ep, 2s, problem);
  CAF_REQUIRE(node);
  size_t answered = 0;
  std::string last_error;
  CAF_REQUIRE(wait_until(
    [&] {
      answered = 0;
      for (int i = 0; i < 128; ++i)
        self
          ->request(node, 5s, route_atom::value, std::string{"d"}, "key" + std::to_string(i),
                    "p" + std::to_string(i))
          .receive([&](const std::string&) { ++answered; },
                   [&](const caf::error& e) { last_error = sys.render(e); });
      return answered == 128;
    },
    20s, 200ms));
  CAF_MESSAGE("128 events routed through the next-version worker, all answered");
  bool written = false;
  self
    ->request(node, 5s, kv_put_atom::value, std::string{"mixed/k"}, std::string{"v2"},
              int64_t{-1}, uint64_t{5}, uint64_t{1})
    .receive([&](bool ok, uint64_t) { written = ok; },
             [&](const caf::error& e) { CAF_FAIL("kv put: " << sys.render(e)); });
  CAF_CHECK(written);
  auto got = run_troupe({"kv", "get", "mixed/k", connect});
  CAF_CHECK_EQUAL(got.code, 0);
  CAF_CHECK_EQUAL(got.out, "v2\n");
  // Both workers serve vnodes.
  st = http_status(http);
  CAF_REQUIRE(st);
  for (auto w : {"next-w", "old-w"}) {
    auto m = member(*st, w);
    CAF_REQUIRE(m);
    CAF_MESSAGE(w << " serves " << m->at("vnodes") << " vnodes");
    CAF_CHECK_GREATER(m->at("vnodes").get<uint64_t>(), 0u);
  }
  // The unknown type: answered "unsupported" by the old nodes, counted on both sides.
  auto in_old = metric(http, "troupe_link_unsupported_total{direction=\"in\"}");
  auto out_next = metric(nw_http, "troupe_link_unsupported_total{direction=\"out\"}");
  CAF_MESSAGE("unsupported: " << in_old << " received by the old coordinator, " << out_next
                              << " answered so to the next-version worker");
  CAF_CHECK_GREATER(in_old, 0.0);
  CAF_CHECK_GREATER(out_next, 0.0);
  CAF_CHECK(next_w.log().find("does not know next_ping") != std::string::npos);
  if (caf::test::engine::current_test()->bad() > 0)
    std::cout << "---- old-c ----\n" << coord.log() << "---- next-w ----\n" << next_w.log()
              << "---- end ----\n";
}
