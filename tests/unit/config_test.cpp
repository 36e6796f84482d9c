#define CAF_SUITE config
#include <caf/test/unit_test.hpp>

#include "nodes/cli.hpp"
#include "nodes/exit_codes.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

using namespace troupe;
using std::chrono::milliseconds;

namespace {

struct parsed {
  command cmd;
  std::string out;
  std::string err;

  int exit_code() const {
    auto* e = std::get_if<exit_now>(&cmd);
    return e ? e->code : -1;
  }
  const node_config& cfg() const {
    auto* r = std::get_if<run_command>(&cmd);
    CAF_REQUIRE(r != nullptr);
    return r->cfg;
  }
};

parsed parse(std::vector<std::string> args) {
  args.insert(args.begin(), "troupe");
  std::ostringstream out;
  std::ostringstream err;
  auto cmd = parse_command_line(args, out, err);
  return {std::move(cmd), out.str(), err.str()};
}

struct temp_file {
  std::string path;
  explicit temp_file(const std::string& text) {
    char tmpl[] = "/tmp/troupe-config-test-XXXXXX";
    int fd = mkstemp(tmpl);
    CAF_REQUIRE(fd >= 0);
    close(fd);
    path = tmpl;
    std::ofstream{path} << text;
  }
  ~temp_file() {
    std::remove(path.c_str());
  }
};

bool mentions(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

} // namespace

CAF_TEST(defaults make a cluster of one) {
  auto p = parse({"run"});
  auto& c = p.cfg();
  CAF_CHECK_EQUAL(c.cluster_port, 8139);
  CAF_CHECK_EQUAL(c.bind, "127.0.0.1");
  CAF_CHECK_EQUAL(c.http_port, -1);
  CAF_CHECK(c.has_coordinator_role());
  CAF_CHECK(c.has_worker_role());
  CAF_CHECK(mentions(c.name, "-8139"));
  CAF_CHECK_EQUAL(c.data_dir, "./troupe-data/" + c.name);
  CAF_CHECK(c.heartbeat_interval == milliseconds(200));
  CAF_CHECK(c.failure_timeout == milliseconds(1500));
  CAF_CHECK_EQUAL(c.restart_max, 5u);
}

CAF_TEST(roles follow the mode) {
  auto local = parse({"run", "--workers", "3"});
  CAF_CHECK(local.cfg().has_coordinator_role());
  CAF_CHECK(!local.cfg().has_worker_role());
  auto coord = parse({"run", "--coordinator", "--peers", "127.0.0.1:8139"});
  CAF_CHECK(coord.cfg().has_coordinator_role());
  CAF_CHECK(!coord.cfg().has_worker_role());
  auto w = parse({"run", "--worker", "--coordinators", "10.0.0.1:8139,[::1]:9000"});
  CAF_CHECK(!w.cfg().has_coordinator_role());
  CAF_CHECK(w.cfg().has_worker_role());
  CAF_REQUIRE_EQUAL(w.cfg().coordinators.size(), 2u);
  CAF_CHECK_EQUAL(w.cfg().coordinators[1].host, "::1");
  CAF_CHECK_EQUAL(w.cfg().coordinators[1].port, 9000);
}

CAF_TEST(missing companion flags name the flag) {
  auto a = parse({"run", "--coordinator"});
  CAF_CHECK_EQUAL(a.exit_code(), exit_code::config);
  CAF_CHECK(mentions(a.err, "--peers"));
  auto b = parse({"run", "--worker"});
  CAF_CHECK_EQUAL(b.exit_code(), exit_code::config);
  CAF_CHECK(mentions(b.err, "--coordinators"));
  auto c = parse({"run", "--workers", "2", "--worker", "--coordinators", "h:1"});
  CAF_CHECK_EQUAL(c.exit_code(), exit_code::config);
  CAF_CHECK(mentions(c.err, "--workers"));
}

CAF_TEST(bad values give one line naming the setting and exit 78) {
  struct bad {
    std::vector<std::string> args;
    std::string names;
  };
  std::vector<bad> cases = {
    {{"run", "--cluster-port", "70000"}, "--cluster-port"},
    {{"run", "--cluster-port", "x"}, "--cluster-port"},
    {{"run", "--bind", "not an ip"}, "--bind"},
    {{"run", "--heartbeat-interval", "200"}, "--heartbeat-interval"},
    {{"run", "--heartbeat-interval", "1ms"}, "--heartbeat-interval"},
    {{"run", "--failure-timeout", "300ms"}, "--failure-timeout"},
    {{"run", "--log-level", "loud"}, "--log-level"},
    {{"run", "--workers", "1000"}, "--workers"},
    {{"run", "--name", "a b"}, "--name"},
    {{"run", "--no-such-option"}, "--no-such-option"},
    {{"run", "--worker", "--coordinators", "nohostport"}, "--coordinators"},
    {{"run", "--restart-backoff", "10s", "--restart-backoff-max", "1s"}, "--restart-backoff"},
  };
  for (auto& c : cases) {
    auto p = parse(c.args);
    CAF_CHECK_EQUAL(p.exit_code(), exit_code::config);
    CAF_CHECK(mentions(p.err, c.names));
    CAF_CHECK_EQUAL(std::count(p.err.begin(), p.err.end(), '\n'), 1);
  }
}

CAF_TEST(the config file fills what the command line does not give) {
  temp_file f{"; a comment\n[troupe]\nname = \"from-file\"\ncluster-port = 9100\n"
              "heartbeat-interval = 100ms\nfailure-timeout = 1s\nworkers = 2\n"};
  auto p = parse({"run", "--config-file", f.path, "--cluster-port", "9200"});
  auto& c = p.cfg();
  CAF_CHECK_EQUAL(c.name, "from-file");
  CAF_CHECK_EQUAL(c.cluster_port, 9200); // the command line wins
  CAF_CHECK(c.heartbeat_interval == milliseconds(100));
  CAF_CHECK(c.failure_timeout == milliseconds(1000));
  CAF_CHECK_EQUAL(c.workers, 2u);
}

CAF_TEST(type errors in the config file are not ignored) {
  // CAF itself silently keeps the default for `port = "x"`; Troupe must not.
  temp_file f{"[troupe]\ncluster-port = \"x\"\n"};
  auto p = parse({"run", "--config-file", f.path});
  CAF_CHECK_EQUAL(p.exit_code(), exit_code::config);
  CAF_CHECK(mentions(p.err, "troupe.cluster-port"));
  temp_file g{"[troupe]\ncoordinator = 3\n"};
  auto q = parse({"run", "--config-file", g.path});
  CAF_CHECK_EQUAL(q.exit_code(), exit_code::config);
  CAF_CHECK(mentions(q.err, "troupe.coordinator"));
}

CAF_TEST(unknown keys sections and unreadable files are errors) {
  temp_file f{"[troupe]\nclusterport = 1\n"};
  auto p = parse({"run", "--config-file", f.path});
  CAF_CHECK_EQUAL(p.exit_code(), exit_code::config);
  CAF_CHECK(mentions(p.err, "troupe.clusterport"));
  temp_file g{"[scheduler]\nmax-threads = 2\n"};
  auto q = parse({"run", "--config-file", g.path});
  CAF_CHECK_EQUAL(q.exit_code(), exit_code::config);
  CAF_CHECK(mentions(q.err, "[scheduler]"));
  auto r = parse({"run", "--config-file", "/nonexistent/troupe.ini"});
  CAF_CHECK_EQUAL(r.exit_code(), exit_code::config);
  CAF_CHECK(mentions(r.err, "--config-file"));
  temp_file h{"[troupe\nname = \"x\"\n"};
  auto s = parse({"run", "--config-file", h.path});
  CAF_CHECK_EQUAL(s.exit_code(), exit_code::config);
  CAF_CHECK(mentions(s.err, "line 2, column 1: unexpected newline"));
  CAF_CHECK(!mentions(s.err, "parser_error"));
  auto d = parse({"run", "--config-file", "/tmp"});
  CAF_CHECK_EQUAL(d.exit_code(), exit_code::config);
  CAF_CHECK(mentions(d.err, "is a directory"));
}

CAF_TEST(list values work in the config file) {
  temp_file f{"[troupe]\nworker = true\ncoordinators = [\"127.0.0.1:1\", \"127.0.0.1:2\"]\n"};
  auto p = parse({"run", "--config-file", f.path});
  CAF_REQUIRE_EQUAL(p.cfg().coordinators.size(), 2u);
  CAF_CHECK_EQUAL(p.cfg().coordinators[1].port, 2);
}

CAF_TEST(help lists every option with its default and exits 0) {
  auto p = parse({"run", "--help"});
  CAF_CHECK_EQUAL(p.exit_code(), exit_code::ok);
  for (auto opt : {"--name", "--bind", "--cluster-port", "--http-port", "--data-dir",
                   "--log-level", "--pid-file", "--workers", "--coordinator", "--worker",
                   "--peers", "--coordinators", "--heartbeat-interval", "--failure-timeout",
                   "--restart-max", "--restart-period", "--config-file"})
    CAF_CHECK(mentions(p.out, opt));
  CAF_CHECK(mentions(p.out, "[default: 8139]"));
  CAF_CHECK(!mentions(p.out, "--supervisor-pid")); // internal options stay hidden
}

CAF_TEST(status parses its target and connects to this host by default) {
  auto p = parse({"status", "--connect", "10.0.0.7:9000", "--json"});
  auto* s = std::get_if<status_command>(&p.cmd);
  CAF_REQUIRE(s != nullptr);
  CAF_CHECK(s->json);
  CAF_CHECK_EQUAL(s->target.port, 9000);
  CAF_CHECK_EQUAL(parse({"status", "--connect", "nope"}).exit_code(), exit_code::usage);
  CAF_CHECK_EQUAL(parse({}).exit_code(), exit_code::usage);
  unsetenv("TROUPE_CONNECT");
  auto d = parse({"status"});
  auto* ds = std::get_if<status_command>(&d.cmd);
  CAF_REQUIRE(ds != nullptr);
  CAF_CHECK_EQUAL(ds->target.host, "127.0.0.1");
  CAF_CHECK_EQUAL(ds->target.port, 8139);
  setenv("TROUPE_CONNECT", "10.0.0.8:7000", 1);
  auto e = parse({"ctl", "members"});
  unsetenv("TROUPE_CONNECT");
  auto* c = std::get_if<ctl_command>(&e.cmd);
  CAF_REQUIRE(c != nullptr);
  CAF_REQUIRE_EQUAL(c->targets.size(), 1u);
  CAF_CHECK_EQUAL(c->targets[0].host, "10.0.0.8");
  CAF_CHECK_EQUAL(c->targets[0].port, 7000);
  // kv and console too (kv once required --connect).
  auto k = parse({"kv", "get", "app/color"});
  auto* kc = std::get_if<kv_command>(&k.cmd);
  CAF_REQUIRE(kc != nullptr);
  CAF_REQUIRE_EQUAL(kc->targets.size(), 1u);
  CAF_CHECK_EQUAL(kc->targets[0].port, 8139);
}

CAF_TEST(beyond loopback a node needs tls or insecure) {
  auto open = parse({"run", "--bind", "10.1.2.3"});
  CAF_CHECK_EQUAL(open.exit_code(), exit_code::config);
  CAF_CHECK(mentions(open.err, "--bind: 10.1.2.3 reaches beyond this host"));
  CAF_CHECK(std::holds_alternative<run_command>(parse({"run", "--bind", "10.1.2.3", "--insecure"}).cmd));
  CAF_CHECK(std::holds_alternative<run_command>(parse({"run", "--bind", "127.0.0.5"}).cmd));
  auto part = parse({"run", "--tls-cert", "a.pem"});
  CAF_CHECK_EQUAL(part.exit_code(), exit_code::config);
  CAF_CHECK(mentions(part.err, "TLS needs all three"));
  // Local workers get the files, as absolute paths, and --insecure.
  auto parsed = parse({"run", "--tls-ca", "c.pem", "--tls-cert", "n.pem", "--tls-key", "n.key"});
  auto* r = std::get_if<run_command>(&parsed.cmd);
  CAF_REQUIRE(r != nullptr);
  CAF_CHECK_EQUAL(r->cfg.tls.ca.front(), '/');
  auto args = local_worker_args(r->cfg, 8139, 1, "cid", 1);
  CAF_CHECK(std::find(args.begin(), args.end(), "--tls-cert=" + r->cfg.tls.cert) != args.end());
}

CAF_TEST(version and mistyped commands and options) {
  auto v = parse({"--version"});
  CAF_CHECK_EQUAL(v.exit_code(), exit_code::ok);
  CAF_CHECK(mentions(v.out, "troupe 0."));
  auto typo = parse({"stauts"});
  CAF_CHECK_EQUAL(typo.exit_code(), exit_code::usage);
  CAF_CHECK(mentions(typo.err, "unknown command 'stauts' (did you mean 'status'?)"));
  auto far = parse({"frobnicate"});
  CAF_CHECK_EQUAL(far.exit_code(), exit_code::usage);
  CAF_CHECK(mentions(far.err, "unknown command 'frobnicate'"));
  CAF_CHECK(!mentions(far.err, "did you mean"));
  auto ctl_typo = parse({"ctl", "deplyo", "wc", "word-count"});
  CAF_CHECK_EQUAL(ctl_typo.exit_code(), exit_code::usage);
  CAF_CHECK(mentions(ctl_typo.err, "did you mean 'deploy'?"));
  // An option a ctl command does not take is an error that names it, not silently ignored.
  auto bogus = parse({"ctl", "deploy", "wc", "word-count", "--bogus-flag"});
  CAF_CHECK_EQUAL(bogus.exit_code(), exit_code::usage);
  CAF_CHECK(mentions(bogus.err, "unknown option '--bogus-flag'"));
  auto near = parse({"ctl", "deploy", "wc", "word-count", "--rooting", "hash"});
  CAF_CHECK_EQUAL(near.exit_code(), exit_code::usage);
  CAF_CHECK(mentions(near.err, "did you mean '--routing'?"));
  auto extra = parse({"ctl", "undeploy", "wc", "more"});
  CAF_CHECK_EQUAL(extra.exit_code(), exit_code::usage);
  CAF_CHECK(mentions(extra.err, "unknown argument 'more'"));
}

CAF_TEST(ctl help describes ctl and each command) {
  auto all = parse({"ctl", "help"});
  CAF_CHECK_EQUAL(all.exit_code(), exit_code::ok);
  CAF_CHECK(mentions(all.out, "Usage: troupe ctl"));
  for (auto cmd : {"deploy", "send", "publish", "subscribe", "migrations", "kill"})
    CAF_CHECK(mentions(all.out, cmd));
  auto one = parse({"ctl", "help", "deploy"});
  CAF_CHECK_EQUAL(one.exit_code(), exit_code::ok);
  CAF_CHECK(mentions(one.out, "Usage: troupe ctl deploy"));
  CAF_CHECK(mentions(one.out, "--routing"));
}

CAF_TEST(ctl kv takes the options of the kv command after it) {
  auto p = parse({"ctl", "kv", "put", "a", "b", "--connect", "10.0.0.9:1"});
  auto* c = std::get_if<ctl_command>(&p.cmd);
  CAF_REQUIRE(c != nullptr);
  auto connects = std::count_if(c->kv_args.begin(), c->kv_args.end(), [](const std::string& a) {
    return a.rfind("--connect", 0) == 0;
  });
  CAF_CHECK_EQUAL(connects, 1);
}

CAF_TEST(local worker arguments parse back into a worker of the parent) {
  auto parent = parse({"run", "--workers", "2", "--name", "n1", "--data-dir", "/tmp/d",
                       "--heartbeat-interval", "100ms"})
                  .cfg();
  auto args = local_worker_args(parent, 9000, 2, "cid", 1234);
  args.insert(args.begin(), "troupe");
  std::ostringstream out, err;
  auto cmd = parse_command_line(args, out, err);
  auto* r = std::get_if<run_command>(&cmd);
  CAF_REQUIRE(r != nullptr);
  CAF_CHECK_EQUAL(r->cfg.name, "n1-worker-2");
  CAF_CHECK_EQUAL(r->cfg.data_dir, "/tmp/d/worker-2");
  CAF_CHECK(r->cfg.worker);
  CAF_CHECK(!r->cfg.has_coordinator_role());
  CAF_CHECK_EQUAL(r->cfg.coordinators.at(0).port, 9000);
  CAF_CHECK_EQUAL(r->cfg.supervisor_pid, 1234);
  CAF_CHECK_EQUAL(r->cfg.instance_prefix, "cid");
  CAF_CHECK(r->cfg.heartbeat_interval == milliseconds(100));
}

CAF_TEST(every config sample in the README and the configuration reference starts a node) {
  std::vector<std::string> samples;
  for (auto doc : {"/README.md", "/docs/configuration.md"}) {
    std::ifstream in{std::string{TROUPE_SOURCE_DIR} + doc};
    CAF_REQUIRE(in);
    std::string line;
    std::string* current = nullptr;
    while (std::getline(in, line)) {
      if (line == "```ini") {
        samples.emplace_back();
        current = &samples.back();
      } else if (current && line == "```") {
        current = nullptr;
      } else if (current) {
        *current += line + "\n";
      }
    }
  }
  CAF_REQUIRE(!samples.empty());
  for (auto& text : samples) {
    temp_file f{text};
    auto p = parse({"run", "--config-file", f.path});
    CAF_CHECK(std::holds_alternative<run_command>(p.cmd));
    if (!std::holds_alternative<run_command>(p.cmd))
      CAF_MESSAGE("refused: " << p.err << "the sample:\n" << text);
  }
  CAF_MESSAGE(samples.size() << " config samples parsed");
}
