// GET /metrics on real nodes, checked by a strict parser of the Prometheus text format
// (version 0.0.4): every line a comment, HELP, TYPE or sample; names and labels well formed;
// each family typed once, before its samples; counters named *_total; values numbers.
#define CAF_SUITE metrics
#include <caf/test/unit_test.hpp>

#include "tests/integration/local_cluster.hpp"

#include <httplib.h>

#include <map>
#include <regex>
#include <set>
#include <sstream>

using namespace troupe::it;

namespace {

struct parsed {
  std::string problem;                              // empty: valid
  std::map<std::string, double> samples;            // "name{labels}" -> value
  std::map<std::string, std::string> types;
};

parsed parse_exposition(const std::string& text) {
  static const std::regex name_re{"[a-zA-Z_:][a-zA-Z0-9_:]*"};
  static const std::regex sample_re{
    R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*"(,[a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*")*)?\})? ([^ ]+)( -?[0-9]+)?)"};
  parsed out;
  std::set<std::string> helped;
  std::set<std::string> sampled;
  std::istringstream in{text};
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    ++n;
    auto where = "line " + std::to_string(n) + ": ";
    if (line.empty())
      continue;
    if (line[0] == '#') {
      std::istringstream words{line};
      std::string hash, kind, name, rest;
      words >> hash >> kind >> name;
      std::getline(words, rest);
      if (kind == "HELP" || kind == "TYPE") {
        if (!std::regex_match(name, name_re))
          return out.problem = where + "bad metric name '" + name + "'", out;
        if (kind == "HELP" && !helped.insert(name).second)
          return out.problem = where + "second HELP for " + name, out;
        if (kind == "TYPE") {
          auto t = rest.empty() ? rest : rest.substr(1);
          if (t != "counter" && t != "gauge" && t != "histogram" && t != "summary" && t != "untyped")
            return out.problem = where + "bad type '" + t + "'", out;
          if (out.types.count(name) || sampled.count(name))
            return out.problem = where + "TYPE of " + name + " twice or after its samples", out;
          out.types[name] = t;
        }
      }
      continue;
    }
    std::smatch m;
    if (!std::regex_match(line, m, sample_re))
      return out.problem = where + "not a sample: " + line, out;
    auto name = m[1].str();
    auto value = m[7].str();
    char* end = nullptr;
    double v = std::strtod(value.c_str(), &end);
    if (value != "NaN" && value != "+Inf" && value != "-Inf" && *end != '\0')
      return out.problem = where + "bad value '" + value + "'", out;
    if (!out.types.count(name))
      return out.problem = where + "sample of " + name + " without a TYPE before it", out;
    if (out.types[name] == "counter"
        && (name.size() <= 6 || name.compare(name.size() - 6, 6, "_total") != 0))
      return out.problem = where + "counter " + name + " is not named *_total", out;
    sampled.insert(name);
    out.samples[name + m[2].str()] = v;
  }
  return out;
}

std::string get_metrics(uint16_t port) {
  httplib::Client cli{"127.0.0.1", port};
  cli.set_read_timeout(5, 0);
  auto res = cli.Get("/metrics");
  return res && res->status == 200 ? res->body : std::string{};
}

} // namespace

CAF_TEST(the parser refuses what Prometheus would refuse) {
  CAF_CHECK(parse_exposition("# TYPE a gauge\na 1\n").problem.empty());
  CAF_CHECK(!parse_exposition("a 1\n").problem.empty());                        // untyped sample
  CAF_CHECK(!parse_exposition("# TYPE a gauge\na{b=c} 1\n").problem.empty());   // unquoted
  CAF_CHECK(!parse_exposition("# TYPE a counter\na 1\n").problem.empty());      // not *_total
  CAF_CHECK(!parse_exposition("# TYPE a gauge\na one\n").problem.empty());      // not a number
  CAF_CHECK(!parse_exposition("# TYPE 1a gauge\n").problem.empty());            // bad name
}

CAF_TEST(every node serves valid metrics that follow the cluster) {
  local_cluster node{"metrics", 2};
  CAF_REQUIRE(node.wait_up(3));
  auto connect = "--connect=127.0.0.1:" + std::to_string(node.port);
  CAF_REQUIRE_EQUAL(run_troupe({"ctl", connect, "deploy", "e", "echo"}).code, 0);
  CAF_REQUIRE(wait_until(
    [&] { return run_troupe({"ctl", connect, "request", "e", "k", "hi"}).code == 0; }, 10s));
  auto coord = parse_exposition(get_metrics(node.http_port()));
  CAF_REQUIRE(coord.problem.empty());
  CAF_CHECK_EQUAL(coord.samples["troupe_members{state=\"up\"}"], 3);
  CAF_CHECK_EQUAL(coord.samples["troupe_raft_role{role=\"leader\"}"], 1);
  CAF_CHECK_GREATER_OR_EQUAL(coord.samples["troupe_raft_term"], 1);
  CAF_CHECK_GREATER(coord.samples["troupe_raft_commit_index"], 0);
  CAF_CHECK_GREATER(coord.samples["troupe_process_resident_memory_bytes"], 0);
  CAF_CHECK_GREATER(coord.samples["troupe_process_threads"], 1);
  CAF_CHECK_GREATER_OR_EQUAL(coord.samples["troupe_events_routed_total"], 1);
  if (!coord.problem.empty())
    CAF_MESSAGE(coord.problem);
  // Each worker reports its instances; together they run one per vnode.
  auto st = node.status();
  CAF_REQUIRE(st);
  double instances = 0;
  double handled = 0;
  for (auto& m : st->at("members")) {
    if (m.at("name") == node.name)
      continue;
    auto port = m.at("http_port").get<uint16_t>();
    CAF_REQUIRE_GREATER(port, 0);
    auto w = parse_exposition(get_metrics(port));
    CAF_CHECK(w.problem.empty());
    instances += w.samples["troupe_instances{deployment=\"e\"}"];
    // Per actor type: what the echo instances handled, and their mailboxes (empty by now).
    handled += w.samples["troupe_actor_messages_handled_total{type=\"echo\"}"];
    CAF_CHECK(w.samples.count("troupe_actor_mailbox_size{type=\"echo\"}") == 1);
  }
  CAF_CHECK_EQUAL(instances, 64);
  CAF_CHECK_GREATER_OR_EQUAL(handled, 1);
}
