// The broadcast bus across real processes: a coordinator and two workers. Subscribers are
// `troupe ctl subscribe` clients and `bulletin` actors (the C++ API), publishers `troupe ctl
// publish` and bulletins.
#include "tests/integration/small_cluster.hpp"

#define CAF_SUITE bus
#include <caf/test/unit_test.hpp>

#include <httplib.h>

#include <regex>
#include <sstream>

using namespace troupe::it;
using json = nlohmann::json;

namespace {

struct bus_cluster : small_cluster {
  bool ready = false;
  std::string w1, w2;  // --connect to each worker

  explicit bus_cluster(const std::string& test) : small_cluster(test) {
    ready = boot();
  }

  bool boot() {
    if (!small_cluster::boot({"w1", "w2"}))
      return false;
    w1 = "--connect=" + address_of("w1");
    w2 = "--connect=" + address_of("w2");
    return true;
  }

  /// `troupe ctl subscribe` through `node`, as a process: its JSON lines go to a file.
  std::unique_ptr<process> subscriber(const std::string& node, const std::string& topic,
                                      const std::string& name,
                                      std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"ctl", node, "--json", "subscribe", topic, "--wait", "20s"};
    args.insert(args.end(), extra.begin(), extra.end());
    return std::make_unique<process>(args, dir + "/" + name + ".out");
  }

  /// The payloads a subscriber printed so far, in order.
  static std::vector<std::string> received(const process& p) {
    std::vector<std::string> out;
    std::istringstream in{p.log()};
    std::string line;
    while (std::getline(in, line)) {
      auto j = json::parse(line, nullptr, false);
      if (!j.is_discarded() && j.is_object())
        out.push_back(j.value("payload", ""));
    }
    return out;
  }

  static bool has_subscribed(const process& p) {
    return p.log().find("subscribed to") != std::string::npos;
  }
};

using strings = std::vector<std::string>;

/// A metric of the node serving HTTP on `port` (-1: none).
long metric(uint16_t port, const std::string& name) {
  httplib::Client cli{"127.0.0.1", port};
  cli.set_connection_timeout(0, 300'000);
  auto res = cli.Get("/metrics");
  if (!res || res->status != 200)
    return -1;
  std::smatch m;
  if (!std::regex_search(res->body, m, std::regex{"\n" + name + " ([0-9]+)\n"}))
    return -1;
  return std::stol(m[1].str());
}

} // namespace

CAF_TEST(a persisted broadcast reaches later subscribers in order and after a full restart) {
  bus_cluster c{"bus-persist"};
  CAF_REQUIRE(c.ready);
  for (auto p : {"one", "two", "three"}) {
    auto r = run_troupe({"ctl", c.w1, "publish", "news", p, "--persist"});
    CAF_CHECK_EQUAL(r.code, 0);
    CAF_CHECK(r.out.rfind("OK persisted at index ", 0) == 0);
  }
  // Subscribed after the publish, on another node: all three, in publish order.
  auto late = run_troupe({"ctl", c.w2, "--json", "subscribe", "news", "--count", "3", "--wait",
                          "10s"});
  CAF_CHECK_EQUAL(late.code, 0);
  std::vector<std::string> got;
  std::vector<uint64_t> indices;
  std::istringstream in{late.out};
  for (std::string line; std::getline(in, line);) {
    auto j = json::parse(line);
    got.push_back(j.at("payload").get<std::string>());
    indices.push_back(j.at("index").get<uint64_t>());
    CAF_CHECK_EQUAL(j.at("origin").get<std::string>(), "w1");
  }
  CAF_CHECK_EQUAL(got, (strings{"one", "two", "three"}));
  CAF_CHECK(std::is_sorted(indices.begin(), indices.end()));
  // The subscriber exited: its subscription is gone from w2's bus.
  auto st = http_status(c.http);
  auto m2 = st ? member(*st, "w2") : std::nullopt;
  CAF_REQUIRE(m2.has_value());
  auto w2_http = m2->at("http_port").get<uint16_t>();
  CAF_CHECK(wait_until([&] { return metric(w2_http, "troupe_bus_subscriptions") == 0; }, 3s));
  CAF_CHECK_EQUAL(metric(w2_http, "troupe_bus_delivered_total"), 3);

  // Every node stops, then starts again on the same data dirs: the broadcasts are still there.
  CAF_REQUIRE(c.stop_all());
  c.workers.clear();
  CAF_REQUIRE(c.boot());
  auto after = run_troupe({"ctl", c.w2, "--json", "subscribe", "news", "--count", "3", "--wait",
                           "10s"});
  CAF_CHECK_EQUAL(after.code, 0);
  CAF_CHECK_EQUAL(after.out, late.out);
  // Not persisted: only current subscribers get it, so a late one waits in vain.
  CAF_CHECK_EQUAL(run_troupe({"ctl", c.w1, "publish", "gossip", "x"}).code, 0);
  auto none = run_troupe({"ctl", c.w2, "subscribe", "gossip", "--count", "1", "--wait", "1s"});
  CAF_CHECK_EQUAL(none.code, 1);
  CAF_CHECK(none.err.find("received 0 of 1") != std::string::npos);
}

CAF_TEST(send_to_self decides whether the publishing node gets its own broadcast) {
  bus_cluster c{"bus-self"};
  CAF_REQUIRE(c.ready);
  auto on_w1 = c.subscriber(c.w1, "t", "sub-w1");
  auto on_w2 = c.subscriber(c.w2, "t", "sub-w2");
  CAF_REQUIRE(wait_until([&] { return c.has_subscribed(*on_w1) && c.has_subscribed(*on_w2); },
                         5s));
  CAF_CHECK_EQUAL(run_troupe({"ctl", c.w1, "publish", "t", "not-to-self"}).code, 0);
  CAF_CHECK_EQUAL(run_troupe({"ctl", c.w1, "publish", "t", "to-self", "--send-to-self"}).code, 0);
  CAF_CHECK_EQUAL(run_troupe({"ctl", c.w1, "publish", "t", "kept", "--persist"}).code, 0);
  CAF_CHECK_EQUAL(
    run_troupe({"ctl", c.w1, "publish", "t", "kept-self", "--persist", "--send-to-self"}).code, 0);
  CAF_CHECK(wait_until([&] { return c.received(*on_w2).size() == 4; }, 5s));
  CAF_CHECK(wait_until([&] { return c.received(*on_w1).size() == 2; }, 5s));
  std::this_thread::sleep_for(300ms); // nothing more arrives
  auto w1_got = c.received(*on_w1);
  auto w2_got = c.received(*on_w2);
  CAF_CHECK_EQUAL(w1_got, (strings{"to-self", "kept-self"}));
  CAF_CHECK_EQUAL(w2_got, (strings{"not-to-self", "to-self", "kept", "kept-self"}));
  // The C++ API: a bulletin on w1 publishes; the bulletin on w2 gets it, itself only with
  // send_to_self.
  for (auto [node, name] : {std::pair{c.w1, "b1"}, std::pair{c.w2, "b2"}})
    CAF_REQUIRE_EQUAL(
      run_troupe({"ctl", node, "spawn", "bulletin", "--name", name, "cafe", "menu"}).code, 0);
  auto board = [&](const std::string& node, const std::string& name) {
    auto r = run_troupe({"ctl", node, "ask", name, "show"});
    return r.out.empty() ? r.out : r.out.substr(0, r.out.size() - 1);
  };
  auto published = [&](const std::string& what) {
    return run_troupe({"ctl", c.w1, "ask", "b1", what}).out == "published\n";
  };
  std::this_thread::sleep_for(200ms); // both subscriptions reached their bus
  CAF_CHECK(published("publish soup"));
  CAF_CHECK(wait_until([&] { return board(c.w2, "b2") == "w1:soup"; }, 5s));
  CAF_CHECK(published("publish-self tea"));
  CAF_CHECK(wait_until([&] { return board(c.w2, "b2") == "w1:soup,w1:tea"; }, 5s));
  CAF_CHECK(wait_until([&] { return board(c.w1, "b1") == "w1:tea"; }, 5s));
  CAF_CHECK(published("persist cake"));
  CAF_CHECK(wait_until([&] { return board(c.w2, "b2") == "w1:soup,w1:tea,w1:cake"; }, 5s));
  CAF_CHECK_EQUAL(board(c.w1, "b1"), "w1:tea");
}

CAF_TEST(namespaces isolate handlers and drops are counted) {
  bus_cluster c{"bus-namespaces"};
  CAF_REQUIRE(c.ready);
  CAF_REQUIRE_EQUAL(run_troupe({"ctl", c.w2, "spawn", "bulletin", "--name", "a", "alpha",
                                "news"})
                      .code,
                    0);
  CAF_REQUIRE_EQUAL(run_troupe({"ctl", c.w2, "spawn", "bulletin", "--name", "b", "beta",
                                "news"})
                      .code,
                    0);
  auto ns_sub = c.subscriber(c.w2, "news", "sub-beta", {"--namespace", "beta"});
  CAF_REQUIRE(wait_until([&] { return c.has_subscribed(*ns_sub); }, 5s));
  std::this_thread::sleep_for(200ms);
  CAF_CHECK_EQUAL(
    run_troupe({"ctl", c.w1, "publish", "news", "for-alpha", "--namespace", "alpha"}).code, 0);
  CAF_CHECK_EQUAL(
    run_troupe({"ctl", c.w1, "publish", "news", "for-beta", "--namespace", "beta"}).code, 0);
  CAF_CHECK_EQUAL(run_troupe({"ctl", c.w1, "publish", "news", "for-default"}).code, 0);
  auto board = [&](const std::string& name) {
    return run_troupe({"ctl", c.w2, "ask", name, "show"}).out;
  };
  CAF_CHECK(wait_until([&] { return board("a") == "w1:for-alpha\n"; }, 5s));
  CAF_CHECK(wait_until([&] { return board("b") == "w1:for-beta\n"; }, 5s));
  CAF_CHECK(wait_until([&] { return c.received(*ns_sub).size() == 1; }, 5s));
  CAF_CHECK_EQUAL(c.received(*ns_sub), (strings{"for-beta"}));
  // A bad namespace is refused with one line.
  auto bad = run_troupe({"ctl", c.w1, "publish", "news", "x", "--namespace", "no spaces"});
  CAF_CHECK_EQUAL(bad.code, 1);
  CAF_CHECK(bad.err.find("a namespace is") != std::string::npos);

  // w2 dies: a broadcast from w1 cannot reach it, and w1 counts the drop.
  auto st = http_status(c.http);
  CAF_REQUIRE(st);
  auto m1 = member(*st, "w1");
  CAF_REQUIRE(m1);
  auto w1_http = m1->at("http_port").get<uint16_t>();
  auto before = metric(w1_http, "troupe_bus_dropped_total");
  CAF_CHECK_EQUAL(before, 0);
  c.workers["w2"]->signal(SIGKILL);
  CAF_CHECK(wait_until(
    [&] {
      auto s = http_status(c.http);
      auto m = s ? member(*s, "w2") : std::nullopt;
      return m && m->value("state", "") == "down";
    },
    5s));
  CAF_CHECK_EQUAL(run_troupe({"ctl", c.w1, "publish", "news", "lost"}).code, 0);
  CAF_CHECK(wait_until([&] { return metric(w1_http, "troupe_bus_dropped_total") >= 1; }, 3s));
}
