// Every inspection command of `troupe ctl` in JSON against a coordinator and two workers
// started with a console token: what they answer, how they fail, and what the token guards.
#define CAF_SUITE inspect_ctl
#include <caf/test/unit_test.hpp>

#include "tests/integration/local_cluster.hpp"

#include <csignal>

using namespace troupe::it;
using json = nlohmann::json;

namespace {

std::optional<json> parse(const run_result& r) {
  auto j = json::parse(r.out, nullptr, false);
  if (j.is_discarded())
    return std::nullopt;
  return j;
}

/// A copy of field `key` of the JSON output (null when there is none): CAF_CHECK_EQUAL keeps
/// references to its arguments, so a reference into a temporary would dangle.
json field(const run_result& r, const char* key) {
  auto j = json::parse(r.out, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains(key))
    return nullptr;
  return j.at(key);
}

size_t lines(const std::string& s) {
  return static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
}

} // namespace

CAF_TEST(ctl inspects in JSON and the console token guards every write) {
  local_cluster node{"inspect", 2, {"--console-token=s3cret"}};
  CAF_REQUIRE(node.wait_up(3));
  auto connect = "--connect=127.0.0.1:" + std::to_string(node.port);
  auto w1 = node.worker(1);
  std::vector<std::string> tok{"--token=s3cret"};
  auto ctl = [&](std::vector<std::string> args, bool with_token = false) {
    std::vector<std::string> a{"ctl", connect};
    if (with_token)
      a.insert(a.end(), tok.begin(), tok.end());
    a.insert(a.end(), args.begin(), args.end());
    return run_troupe(a);
  };

  // Without the token every write is refused, with one line that says why, and nothing changes.
  for (auto& write : std::vector<std::vector<std::string>>{
         {"spawn", "echo", "--node", w1, "--name", "e1"},
         {"deploy", "d1", "echo"},
         {"kv", "put", "k", "v"},
         {"send", "d1", "k", "p"},
         {"publish", "t", "x", "--persist"},
         {"publish", "t", "x"},
         {"migrations", "retry"}}) {
    auto r = ctl(write);
    CAF_CHECK_EQUAL(r.code, 77);
    CAF_CHECK(r.err.find("console token") != std::string::npos);
    CAF_CHECK_EQUAL(lines(r.err), 1u);
  }
  auto wrong = run_troupe({"ctl", connect, "--token=nope", "spawn", "echo", "--node", w1});
  CAF_CHECK_EQUAL(wrong.code, 77);
  CAF_CHECK(wrong.err.find("wrong console token") != std::string::npos);
  auto none = ctl({"--json", "actors", "--node", w1});
  CAF_REQUIRE_EQUAL(none.code, 0);
  for (auto& a : field(none, "actors"))
    CAF_CHECK_NOT_EQUAL(a.at("kind"), "user");
  CAF_CHECK_EQUAL(ctl({"kv", "get", "k"}).code, 1); // not written
  CAF_CHECK_EQUAL(parse(ctl({"--json", "deployments"}))->at("deployments").size(), 0u);
  // Reading needs no token.
  CAF_CHECK_EQUAL(ctl({"--json", "members"}).code, 0);
  // A persisted broadcast with the token; subscribing (reading) without it: only the one
  // published with the token is there.
  CAF_CHECK_EQUAL(ctl({"publish", "t", "with-token", "--persist", "--send-to-self"}, true).code, 0);
  auto sub = ctl({"--json", "subscribe", "t", "--count", "1", "--wait", "5s"});
  CAF_CHECK_EQUAL(sub.code, 0);
  CAF_CHECK(sub.out.find("with-token") != std::string::npos);
  CAF_CHECK_EQUAL(lines(sub.out), 1u);

  // spawn, with the token.
  auto sp = ctl({"--json", "spawn", "echo", "--node", w1, "--name", "e1"}, true);
  CAF_REQUIRE_EQUAL(sp.code, 0);
  auto id = parse(sp)->at("ids").at(0).get<std::string>();
  CAF_CHECK_EQUAL(id.rfind(w1 + "/", 0), 0u);
  CAF_CHECK_EQUAL(ctl({"kv", "put", "k", "v"}, true).code, 0); // through the worker's relay too
  auto taken = ctl({"spawn", "echo", "--node", w1, "--name", "e1"}, true);
  CAF_CHECK_EQUAL(taken.code, 1);
  CAF_CHECK(taken.err.find("already runs") != std::string::npos);
  auto bad_type = ctl({"spawn", "nosuchtype", "--node", w1}, true);
  CAF_CHECK_EQUAL(bad_type.code, 1);
  CAF_CHECK(bad_type.err.find("no actor type 'nosuchtype'") != std::string::npos);

  // actors: every field, from every node, and paging.
  auto all = ctl({"--json", "actors"});
  CAF_REQUIRE_EQUAL(all.code, 0);
  auto aj = *parse(all);
  CAF_CHECK_EQUAL(aj.at("nodes").size(), 3u);
  std::optional<json> e1;
  for (auto& a : aj.at("actors"))
    if (a.at("id") == id)
      e1 = a;
  CAF_REQUIRE(e1);
  CAF_CHECK_EQUAL(e1->at("name"), "e1");
  CAF_CHECK_EQUAL(e1->at("type"), "echo");
  CAF_CHECK_EQUAL(e1->at("node"), w1);
  CAF_CHECK_EQUAL(e1->at("supervisor"), "user-supervisor");
  CAF_CHECK_EQUAL(e1->at("state"), "running");
  CAF_CHECK_EQUAL(e1->at("restarts"), 0);
  CAF_CHECK_EQUAL(e1->at("mailbox"), 0);
  CAF_CHECK(e1->at("handled").is_number());
  auto page = *parse(ctl({"--json", "actors", "--node", w1, "--limit", "2"}));
  auto total = page.at("nodes").at(w1).at("total").get<size_t>();
  CAF_CHECK_EQUAL(page.at("actors").size(), 2u);
  CAF_CHECK_GREATER(total, 2u);
  auto rest = *parse(ctl({"--json", "actors", "--node", w1, "--limit", "2", "--all"}));
  CAF_CHECK_EQUAL(rest.at("actors").size(), total);

  // inspect, by name and by id.
  auto in = ctl({"--json", "inspect", "e1"});
  CAF_REQUIRE_EQUAL(in.code, 0);
  CAF_CHECK_EQUAL(field(in, "id"), id);
  CAF_CHECK_EQUAL(field(ctl({"--json", "inspect", id}), "name"), "e1");

  // tree: the root supervisor "node" holds the user supervisor, which holds e1.
  auto tr = ctl({"--json", "tree", "--node", w1});
  CAF_REQUIRE_EQUAL(tr.code, 0);
  bool under = false;
  auto tree = *parse(tr);
  auto& tops = tree.at("nodes").at(0).at("children");
  CAF_REQUIRE_EQUAL(tops.size(), 1u);
  CAF_CHECK_EQUAL(tops.at(0).at("name"), "node");
  for (auto& top : tops.at(0).at("children"))
    if (top.at("name") == "user-supervisor")
      for (auto& c : top.at("children"))
        under = under || c.at("id") == id;
  CAF_CHECK(under);

  // tell and ask.
  auto te = ctl({"--json", "tell", "e1", "ping"}, true);
  CAF_CHECK_EQUAL(te.code, 0);
  CAF_CHECK_EQUAL(field(te, "ok"), true);
  auto as = ctl({"--json", "ask", id, "hello"}, true);
  CAF_CHECK_EQUAL(as.code, 0);
  CAF_CHECK_EQUAL(field(as, "reply"), "hello");
  // The event's key is the payload unless --key says otherwise: word-count counts by key.
  CAF_CHECK_EQUAL(ctl({"spawn", "word-count", "--node", w1, "--name", "wcx"}, true).code, 0);
  CAF_CHECK_EQUAL(ctl({"ask", "wcx", "apple"}, true).out, "1\n");
  CAF_CHECK_EQUAL(ctl({"ask", "wcx", "apple"}, true).out, "2\n");
  CAF_CHECK_EQUAL(ctl({"ask", "wcx", "apple", "--key", "pear"}, true).out, "1\n");
  CAF_CHECK(wait_until(
    [&] {
      auto j = parse(ctl({"--json", "inspect", "e1"}));
      return j && j->at("handled").get<uint64_t>() >= 2;
    },
    5s));
  CAF_CHECK_EQUAL(ctl({"ask", "e1", "x"}).code, 77); // a write: needs the token

  // kill: restarted once, with the reason kept; --stop: gone for good.
  auto k = ctl({"--json", "kill", "e1", "--reason", "operator test"}, true);
  CAF_CHECK_EQUAL(k.code, 0);
  CAF_CHECK(wait_until(
    [&] {
      auto j = parse(ctl({"--json", "inspect", "e1"}));
      return j && j->at("restarts") == 1 && j->at("state") == "running"
             && j->at("last_exit").get<std::string>().find("operator test") != std::string::npos;
    },
    5s));
  CAF_CHECK_EQUAL(field(ctl({"--json", "inspect", "e1"}), "id"), id); // same id
  // A service is killed like any actor, and its supervisor starts it again.
  CAF_CHECK_EQUAL(ctl({"kill", "router", "--node", w1}).code, 77); // needs the token
  auto sys_kill = ctl({"kill", "router", "--node", w1}, true);
  CAF_CHECK_EQUAL(sys_kill.code, 0);
  CAF_CHECK(wait_until(
    [&] {
      auto j = parse(ctl({"--json", "inspect", "router", "--node", w1}));
      return j && j->at("restarts") == 1 && j->at("state") == "running"
             && j->at("supervisor") == "services";
    },
    5s));
  // The root cannot be killed: the node is stopped instead.
  auto root_kill = ctl({"kill", "node", "--node", w1}, true);
  CAF_CHECK_EQUAL(root_kill.code, 1);
  CAF_CHECK(root_kill.err.find("root of the node's tree") != std::string::npos);
  CAF_CHECK_EQUAL(ctl({"kill", "e1", "--stop"}, true).code, 0);
  CAF_CHECK(wait_until([&] { return ctl({"inspect", "e1"}).code == 1; }, 5s));

  // logs: the worker's recent lines, filtered by level.
  auto lg = ctl({"--json", "logs", "--node", w1, "--lines", "200"});
  CAF_REQUIRE_EQUAL(lg.code, 0);
  CAF_CHECK(lg.out.find("spawned e1 (echo)") != std::string::npos);
  auto warn = ctl({"--json", "logs", "--node", w1, "--level", "warn"});
  CAF_CHECK(warn.out.find("spawned e1 (echo)") == std::string::npos);
  CAF_CHECK(warn.out.find("killed from the console") != std::string::npos);

  // logs --follow prints new lines as they come, until interrupted (then exit 0).
  {
    process follow{{"ctl", connect, "logs", "--node", w1, "--follow", "--lines", "1"},
                   node.dir + "/follow.log"};
    CAF_CHECK(wait_until([&] { return !follow.log().empty(); }, 5s));
    CAF_CHECK_EQUAL(ctl({"spawn", "echo", "--node", w1, "--name", "late"}, true).code, 0);
    CAF_CHECK(wait_until(
      [&] { return follow.log().find("spawned late (echo)") != std::string::npos; }, 5s));
    follow.signal(SIGINT);
    auto code = follow.wait_exit(5s);
    CAF_CHECK(code && *code == 0);
  }

  // The other commands answer in JSON too.
  for (auto cmd : {"members", "status", "vnodes", "deployments"}) {
    auto r = ctl({"--json", cmd});
    CAF_CHECK_EQUAL(r.code, 0);
    CAF_CHECK(parse(r));
  }
  auto help = run_troupe({"ctl", "help", "spawn"});
  CAF_CHECK_EQUAL(help.code, 0);
  CAF_CHECK(help.out.find("--count") != std::string::npos);

  // Errors: one clear line and a non-zero exit.
  auto unknown = ctl({"inspect", "nope"});
  CAF_CHECK_EQUAL(unknown.code, 1);
  CAF_CHECK(unknown.err.find("unknown actor 'nope'") != std::string::npos);
  CAF_CHECK_EQUAL(lines(unknown.err), 1u);
  auto ghost = ctl({"actors", "--node", "ghost"});
  CAF_CHECK_EQUAL(ghost.code, 1);
  CAF_CHECK(ghost.err.find("no member named 'ghost'") != std::string::npos);
  auto bad = ctl({"frobnicate"});
  CAF_CHECK_EQUAL(bad.code, 64);
  auto away = run_troupe({"ctl", "--connect=127.0.0.1:1", "actors"});
  CAF_CHECK_EQUAL(away.code, 69);
  CAF_CHECK_EQUAL(lines(away.err), 1u);
}
