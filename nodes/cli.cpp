#include "nodes/cli.hpp"

#include "nodes/exit_codes.hpp"

#include <CLI/CLI.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/config_value.hpp>

#include <arpa/inet.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <ostream>

namespace troupe {

namespace {

/// Applies a textual value to the config; returns the problem, or "" when the value is fine.
using setter = std::function<std::string(node_config&, const std::string&)>;

struct option_spec {
  std::string name;        // --name on the command line, name in [troupe]
  std::string value_name;  // "PORT"; empty for flags
  std::string help;
  std::string default_text;
  setter set;              // for flags: called with "true"
  bool internal = false;   // set by a coordinator for its local workers, not shown in --help
};

template <class T>
std::string parse_uint(const std::string& v, T min, T max, T& out) {
  uint64_t n = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc{} || ptr != v.data() + v.size() || v.empty())
    return "'" + v + "' is not a whole number";
  if (n < min || n > max)
    return "'" + v + "' is out of range (" + std::to_string(min) + "-" + std::to_string(max) + ")";
  out = static_cast<T>(n);
  return {};
}

setter uint_setter(uint32_t node_config::*field, uint32_t min, uint32_t max) {
  return [=](node_config& c, const std::string& v) { return parse_uint(v, min, max, c.*field); };
}

setter duration_setter(duration node_config::*field, duration min, duration max) {
  return [=](node_config& c, const std::string& v) -> std::string {
    duration d{};
    if (!parse_duration(v, d))
      return "'" + v + "' is not a duration (a whole number with ns, us, ms, s, min or h, e.g. 200ms)";
    if (d < min || d > max)
      return "'" + v + "' is out of range (" + format_duration(min) + "-" + format_duration(max)
             + ")";
    c.*field = d;
    return {};
  };
}

setter endpoints_setter(std::vector<endpoint> node_config::*field) {
  return [=](node_config& c, const std::string& v) -> std::string {
    std::vector<endpoint> out;
    size_t start = 0;
    while (start <= v.size()) {
      auto comma = v.find(',', start);
      auto item = v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      auto ep = parse_endpoint(item);
      if (!ep)
        return "'" + item + "' is not HOST:PORT (port 1-65535; IPv6 as [::1]:8139)";
      out.push_back(*ep);
      if (comma == std::string::npos)
        break;
      start = comma + 1;
    }
    c.*field = std::move(out);
    return {};
  };
}

bool valid_name(const std::string& v) {
  if (v.empty() || v.size() > 64)
    return false;
  for (char ch : v)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_' && ch != '.')
      return false;
  return true;
}

const std::vector<option_spec>& option_table() {
  static const std::vector<option_spec> table = {
    {"name", "NAME", "node name, unique in the cluster (letters, digits, '-', '_', '.')",
     "<hostname>-<cluster port>",
     [](node_config& c, const std::string& v) -> std::string {
       if (!valid_name(v))
         return "'" + v + "' is not a node name (1-64 letters, digits, '-', '_', '.')";
       c.name = v;
       return {};
     }},
    {"bind", "ADDR", "IP address to listen on (cluster and HTTP ports)", "127.0.0.1",
     [](node_config& c, const std::string& v) -> std::string {
       unsigned char buf[16];
       if (v != "localhost" && inet_pton(AF_INET, v.c_str(), buf) != 1
           && inet_pton(AF_INET6, v.c_str(), buf) != 1)
         return "'" + v + "' is not an IP address (or localhost)";
       c.bind = v;
       return {};
     }},
    {"cluster-port", "PORT", "port of the cluster protocol (0: any free port)", "8139",
     [](node_config& c, const std::string& v) {
       return parse_uint<uint16_t>(v, 0, 65535, c.cluster_port);
     }},
    {"http-port", "PORT", "port of /api/status (0: no HTTP)", "cluster port + 1",
     [](node_config& c, const std::string& v) {
       uint16_t p = 0;
       auto problem = parse_uint<uint16_t>(v, 0, 65535, p);
       if (problem.empty())
         c.http_port = p;
       return problem;
     }},
    {"data-dir", "DIR", "folder for this node's data", "./troupe-data/<name>",
     [](node_config& c, const std::string& v) -> std::string {
       if (v.empty())
         return "must not be empty";
       c.data_dir = v;
       return {};
     }},
    {"log-level", "LEVEL", "trace, debug, info, warn, error, critical or off", "info",
     [](node_config& c, const std::string& v) -> std::string {
       static const char* levels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
       for (auto* l : levels)
         if (v == l) {
           c.log_level = v;
           return {};
         }
       return "'" + v + "' is not a log level (trace, debug, info, warn, error, critical, off)";
     }},
    {"pid-file", "FILE", "write the process id here while running (top-level process only)", "none",
     [](node_config& c, const std::string& v) -> std::string {
       if (v.empty())
         return "must not be empty";
       c.pid_file = v;
       return {};
     }},
    {"workers", "N", "start N local worker processes and supervise them; this node is then a "
                     "coordinator only", "0",
     uint_setter(&node_config::workers, 0, 64)},
    {"coordinator", "", "run as a coordinator of a multi-host cluster (needs --peers)", "off",
     [](node_config& c, const std::string&) -> std::string {
       c.coordinator = true;
       return {};
     }},
    {"worker", "", "run as a worker of a multi-host cluster (needs --coordinators)", "off",
     [](node_config& c, const std::string&) -> std::string {
       c.worker = true;
       return {};
     }},
    {"peers", "HOST:PORT,...", "the coordinator group of 1, 3, 5 or 7, this node included",
     "none",
     endpoints_setter(&node_config::peers)},
    {"coordinators", "HOST:PORT,...", "coordinators a worker joins (any one is enough)", "none",
     endpoints_setter(&node_config::coordinators)},
    {"heartbeat-interval", "DURATION", "how often members send heartbeats", "200ms",
     duration_setter(&node_config::heartbeat_interval, milliseconds(10), std::chrono::seconds(10))},
    {"failure-timeout", "DURATION", "silence after which a member is marked down", "1500ms",
     duration_setter(&node_config::failure_timeout, milliseconds(100), std::chrono::minutes(10))},
    {"restart-max", "N", "local worker restarts allowed within --restart-period", "5",
     uint_setter(&node_config::restart_max, 0, 1000)},
    {"restart-period", "DURATION", "window of --restart-max", "60s",
     duration_setter(&node_config::restart_period, std::chrono::seconds(1), std::chrono::hours(24))},
    {"restart-backoff", "DURATION", "first delay before restarting a crashed local worker", "100ms",
     duration_setter(&node_config::restart_backoff, milliseconds(1), std::chrono::minutes(1))},
    {"restart-backoff-max", "DURATION", "longest delay before restarting a local worker", "5s",
     duration_setter(&node_config::restart_backoff_max, milliseconds(1), std::chrono::minutes(10))},
    {"shutdown-timeout", "DURATION", "how long local workers get to stop before SIGKILL", "5s",
     duration_setter(&node_config::shutdown_timeout, milliseconds(100), std::chrono::minutes(5))},
    {"threads", "N", "actor scheduler threads (0: one per core, at least 2)", "0",
     uint_setter(&node_config::threads, 0, 256)},
    {"raft-tick", "DURATION", "Raft tick: the leader heartbeats every tick", "25ms",
     duration_setter(&node_config::raft_tick, milliseconds(5), std::chrono::seconds(1))},
    {"election-ticks", "N", "Raft election timeout in ticks, randomized in [N, 2N)", "10",
     uint_setter(&node_config::election_ticks, 4, 100)},
    {"vnodes", "N", "vnodes of the cluster, fixed when it is created; every node must give the same", "64",
     uint_setter(&node_config::vnodes, 1, 65536)},
    {"console-token", "TOKEN",
     "console and ctl commands that change anything need this token (also read from "
     "$TROUPE_CONSOLE_TOKEN; local workers inherit it)", "none",
     [](node_config& c, const std::string& v) -> std::string {
       if (v.empty() || v.size() > 256)
         return "must be 1-256 characters";
       for (char ch : v)
         if (std::isspace(static_cast<unsigned char>(ch)) || !std::isprint(static_cast<unsigned char>(ch)))
           return "must be printable, without spaces";
       c.console_token = v;
       return {};
     }},
    {"log-file", "FILE",
     "write the log here, through one log-roller that local workers ship their lines to; "
     "rotated by size (FILE.1, FILE.2, ...) and on `troupe ctl logs rotate`", "none: stderr",
     [](node_config& c, const std::string& v) -> std::string {
       if (v.empty())
         return "must not be empty";
       c.log_file = v;
       return {};
     }},
    {"log-max-bytes", "N", "rotate the log file when it reaches this size", "10485760",
     [](node_config& c, const std::string& v) {
       return parse_uint<uint64_t>(v, 4096, uint64_t{1} << 40, c.log_max_bytes);
     }},
    {"log-max-files", "N", "rotated log files kept (0: truncate instead)", "5",
     uint_setter(&node_config::log_max_files, 0, 1000)},
    {"ship-logs", "", "internal: ship log lines to the coordinator's log-roller", "off",
     [](node_config& c, const std::string&) -> std::string {
       c.ship_logs = true;
       return {};
     },
     true},
    {"worker-id", "K", "internal: local worker number", "0",
     uint_setter(&node_config::worker_id, 1, 64), true},
    {"supervisor-pid", "PID", "internal: exit when this process is gone", "0",
     [](node_config& c, const std::string& v) {
       uint32_t pid = 0;
       auto problem = parse_uint<uint32_t>(v, 1, 1u << 22, pid);
       c.supervisor_pid = static_cast<int>(pid);
       return problem;
     },
     true},
    {"instance-prefix", "ID", "internal: cluster id of the supervising node", "",
     [](node_config& c, const std::string& v) -> std::string {
       if (!valid_name(v))
         return "'" + v + "' is not a cluster id";
       c.instance_prefix = v;
       return {};
     },
     true},
  };
  return table;
}

const option_spec* find_option(const std::string& name) {
  for (auto& spec : option_table())
    if (spec.name == name)
      return &spec;
  return nullptr;
}

/// Renders a value read from the config file as the text the setters parse. Returns false for
/// values that have no textual form here (a section where a value belongs).
bool config_value_text(const caf::config_value& x, bool flag, std::string& out,
                       std::string& problem) {
  using cv = caf::config_value;
  if (flag) {
    if (auto b = caf::get_if<cv::boolean>(&x)) {
      out = *b ? "true" : "false";
      return true;
    }
    problem = "'" + caf::to_string(x) + "' is not a boolean (true or false)";
    return false;
  }
  if (auto s = caf::get_if<cv::string>(&x)) {
    out = *s;
  } else if (auto i = caf::get_if<cv::integer>(&x)) {
    out = std::to_string(*i);
  } else if (auto t = caf::get_if<cv::timespan>(&x)) {
    out = std::to_string(t->count()) + "ns";
  } else if (auto b = caf::get_if<cv::boolean>(&x)) {
    out = *b ? "true" : "false";
  } else if (auto l = caf::get_if<cv::list>(&x)) {
    out.clear();
    for (auto& item : *l) {
      std::string s;
      if (!config_value_text(item, false, s, problem))
        return false;
      if (!out.empty())
        out += ',';
      out += s;
    }
  } else {
    out = caf::to_string(x);
  }
  return true;
}

std::string hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == '\0')
    return "troupe";
  std::string h = buf;
  if (auto dot = h.find('.'); dot != std::string::npos)
    h.resize(dot);
  for (auto& ch : h)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_')
      ch = '-';
  return h.empty() ? "troupe" : h;
}

/// Reads the [troupe] section of `path` into `cfg` for each option not in `given`.
std::optional<config_error> apply_config_file(const std::string& path,
                                              const std::map<std::string, bool>& given,
                                              node_config& cfg) {
  const std::string where = "--config-file";
  std::ifstream probe{path};
  if (!probe)
    return config_error{where, "cannot read '" + path + "': " + std::strerror(errno)};
  auto parsed = caf::actor_system_config::parse_config_file(path.c_str());
  if (!parsed)
    return config_error{where, "'" + path + "' is not a valid config file: "
                                 + caf::to_string(parsed.error())};
  for (auto& [section, value] : *parsed) {
    if (section != "troupe")
      return config_error{path, "unknown section [" + section
                                  + "] (Troupe reads only its [troupe] section)"};
    auto* entries = caf::get_if<caf::config_value::dictionary>(&value);
    if (!entries)
      return config_error{path, "'troupe' must be a section"};
    for (auto& [key, entry] : *entries) {
      auto setting = "troupe." + key + " in " + path;
      auto* spec = find_option(key);
      if (!spec || spec->internal)
        return config_error{setting, "unknown setting (see troupe run --help)"};
      std::string text;
      std::string problem;
      if (!config_value_text(entry, spec->value_name.empty(), text, problem))
        return config_error{setting, problem};
      if (given.at(key))
        continue; // the command line wins
      if (spec->value_name.empty() && text == "false")
        continue;
      if (auto p = spec->set(cfg, text); !p.empty())
        return config_error{setting, p};
    }
  }
  return std::nullopt;
}

std::optional<config_error> finish(node_config& c) {
  if (c.console_token.empty())
    if (auto* env = std::getenv("TROUPE_CONSOLE_TOKEN"); env && *env) {
      if (auto problem = find_option("console-token")->set(c, env); !problem.empty())
        return config_error{"$TROUPE_CONSOLE_TOKEN", problem};
    }
  if (c.name.empty())
    c.name = hostname() + "-"
             + (c.cluster_port != 0 ? std::to_string(c.cluster_port) : std::to_string(getpid()));
  if (c.data_dir.empty())
    c.data_dir = "./troupe-data/" + c.name;
  if (c.coordinator && c.peers.empty())
    return config_error{"--peers", "--coordinator needs --peers HOST:PORT,... naming the "
                                   "coordinator group"};
  if (c.worker && !c.coordinator && c.coordinators.empty())
    return config_error{"--coordinators", "--worker needs --coordinators HOST:PORT,... naming "
                                          "the coordinators to join"};
  if (!c.coordinator && !c.peers.empty())
    return config_error{"--peers", "only a coordinator has peers (add --coordinator)"};
  if (!c.worker && !c.coordinators.empty())
    return config_error{"--coordinators", "only a worker joins coordinators (add --worker)"};
  if (c.workers > 0 && c.worker)
    return config_error{"--workers", "cannot be combined with --worker: a node that starts "
                                     "local workers is their coordinator"};
  if (!c.peers.empty() && c.cluster_port == 0)
    return config_error{"--cluster-port", "a coordinator listed in --peers needs a fixed port"};
  if (!c.peers.empty()) {
    std::optional<config_error> group_error;
    resolve_group(c, group_error);
    if (group_error)
      return group_error;
  }
  if (c.failure_timeout < 2 * c.heartbeat_interval)
    return config_error{"--failure-timeout", format_duration(c.failure_timeout)
                                               + " must be at least twice --heartbeat-interval ("
                                               + format_duration(c.heartbeat_interval) + ")"};
  if (c.restart_backoff > c.restart_backoff_max)
    return config_error{"--restart-backoff", format_duration(c.restart_backoff)
                                               + " is longer than --restart-backoff-max ("
                                               + format_duration(c.restart_backoff_max) + ")"};
  if (c.http_port > 0 && c.http_port == c.cluster_port)
    return config_error{"--http-port", "must differ from --cluster-port"};
  if (c.cluster_port == 65535 && c.http_port < 0)
    return config_error{"--http-port", "cluster port 65535 leaves no default HTTP port: set "
                                       "--http-port"};
  return std::nullopt;
}

} // namespace

command parse_command_line(const std::vector<std::string>& args, std::ostream& out,
                           std::ostream& err) {
  CLI::App app{"Troupe: a clustering runtime for CAF actors.", "troupe"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "print help for every command");

  auto* run = app.add_subcommand("run", "start a node (a cluster of one unless told otherwise)");
  std::map<std::string, std::string> values;
  std::map<std::string, bool> flags;
  std::map<std::string, CLI::Option*> cli_opts;
  for (auto& spec : option_table()) {
    auto help = spec.help + " [default: " + spec.default_text + "]";
    CLI::Option* opt = nullptr;
    if (spec.value_name.empty()) {
      opt = run->add_flag("--" + spec.name, flags[spec.name], help);
    } else {
      opt = run->add_option("--" + spec.name, values[spec.name], help);
      opt->type_name(spec.value_name);
    }
    if (spec.internal)
      opt->group("");
    cli_opts[spec.name] = opt;
  }
  std::string config_file;
  run->add_option("--config-file", config_file,
                  "read settings from the [troupe] section of this CAF-format file; the command "
                  "line wins [default: none; caf-application.ini is never read]")
    ->type_name("FILE");

  auto* status = app.add_subcommand("status", "print the members of a running cluster");
  std::string connect;
  status_command st;
  std::string timeout_text = "3s";
  status->add_option("--connect", connect, "any node of the cluster")
    ->type_name("HOST:PORT")
    ->required();
  status->add_flag("--json", st.json, "print one JSON object");
  status->add_option("--timeout", timeout_text, "give up after this long [default: 3s]")
    ->type_name("DURATION");

  auto* kv = app.add_subcommand("kv", "read and write the cluster's KV namespace (linearizable)");
  kv->require_subcommand(1);
  kv_command kc;
  std::string kv_connect;
  std::string kv_timeout = "5s";
  int64_t expect_revision = -1;
  kv->add_option("--connect", kv_connect, "nodes of the cluster, tried in turn")
    ->type_name("HOST:PORT,...")
    ->required();
  kv->add_flag("--json", kc.json, "print JSON");
  kv->add_option("--token", kc.token,
                 "the cluster's console token, for put and del [default: $TROUPE_CONSOLE_TOKEN]")
    ->type_name("TOKEN");
  kv->add_option("--timeout", kv_timeout, "give up after this long [default: 5s]")
    ->type_name("DURATION");
  auto* kv_put = kv->add_subcommand("put", "set KEY to VALUE");
  kv_put->add_option("key", kc.key, "the key")->required();
  kv_put->add_option("value", kc.value, "the value")->required();
  kv_put->add_option("--expect-revision", expect_revision,
                     "only if KEY is at this mod revision (0: only if KEY does not exist)")
    ->type_name("N");
  auto* kv_get = kv->add_subcommand("get", "print the value of KEY");
  kv_get->add_option("key", kc.key, "the key")->required();
  auto* kv_del = kv->add_subcommand("del", "delete KEY");
  kv_del->add_option("key", kc.key, "the key")->required();
  kv_del->add_option("--expect-revision", expect_revision, "only if KEY is at this mod revision")
    ->type_name("N");
  auto* kv_list = kv->add_subcommand("list", "print the keys starting with PREFIX and their values");
  kv_list->add_option("prefix", kc.key, "the prefix (empty: every key)");
  kv_list->add_option("--limit", kc.limit, "at most this many [default: 1000]")->type_name("N");
  auto* kv_watch = kv->add_subcommand(
    "watch", "print every change of keys starting with PREFIX, in order, as it happens");
  kv_watch->add_option("prefix", kc.key, "the prefix (empty: every key)");
  uint64_t after = 0;
  auto* after_opt = kv_watch->add_option(
    "--after", after, "start after this revision, to resume without a gap [default: now]");
  after_opt->type_name("REV");
  kv_watch->add_option("--count", kc.count, "exit after this many events [default: never]")
    ->type_name("N");
  for (auto* sub : {kv_put, kv_get, kv_del, kv_list, kv_watch})
    sub->fallthrough(); // --connect, --json and --timeout may follow the operation

  auto* ctl = app.add_subcommand("ctl", "operate and inspect the cluster, one command per call");
  ctl->require_subcommand(0, 1);
  ctl->allow_extras(); // an unknown command is reported below, by name
  ctl_command cc;
  std::string ctl_connect;
  std::string ctl_timeout = "5s";
  auto* connect_opt = ctl->add_option("--connect", ctl_connect, "nodes of the cluster, tried in turn")
    ->type_name("HOST:PORT,...");
  ctl->add_flag("--json", cc.json, "print JSON");
  ctl->add_option("--timeout", ctl_timeout, "give up after this long [default: 5s]")
    ->type_name("DURATION");
  ctl->add_option("--token", cc.token,
                  "the cluster's console token, for commands that change anything "
                  "[default: $TROUPE_CONSOLE_TOKEN]")
    ->type_name("TOKEN");
  auto* ctl_deploy = ctl->add_subcommand("deploy", "run actor TYPE once per vnode as NAME");
  ctl_deploy->add_option("name", cc.name, "the deployment's name")->required();
  ctl_deploy->add_option("type", cc.type, "a registered actor type (e.g. echo, word-count)")
    ->required();
  ctl_deploy->add_option("--routing", cc.routing, "hash (by key) or round-robin [default: hash]")
    ->check(CLI::IsMember({"hash", "round-robin"}));
  ctl_deploy->add_option("--delivery", cc.delivery,
                         "at-most-once or at-least-once [default: at-most-once]")
    ->check(CLI::IsMember({"at-most-once", "at-least-once"}));
  ctl_deploy->add_option("--config", cc.config, "KEY=VALUE given to every instance")
    ->type_name("KEY=VALUE ...");
  auto* ctl_undeploy = ctl->add_subcommand("undeploy", "stop and remove deployment NAME");
  ctl_undeploy->add_option("name", cc.name, "the deployment's name")->required();
  auto* ctl_list = ctl->add_subcommand("deployments", "list the deployments");
  auto* ctl_send = ctl->add_subcommand(
    "send", "send an event to deployment NAME (routed by KEY), or one per stdin line");
  ctl_send->add_option("name", cc.name, "the deployment")->required();
  ctl_send->add_option("key", cc.key, "the event's key");
  ctl_send->add_option("payload", cc.payload, "the event's payload");
  ctl_send->add_flag("--stdin", cc.from_stdin,
                     "read events from stdin, one per line: KEY<tab>PAYLOAD (batched)");
  auto* ctl_request = ctl->add_subcommand(
    "request", "send an event to deployment NAME and print the instance's reply");
  ctl_request->add_option("name", cc.name, "the deployment")->required();
  ctl_request->add_option("key", cc.key, "the event's key")->required();
  ctl_request->add_option("payload", cc.payload, "the event's payload [default: empty]");
  auto* ctl_members = ctl->add_subcommand("members", "list the members of the cluster");
  auto* ctl_status = ctl->add_subcommand("status", "the cluster's status (as troupe status)");
  auto* ctl_vnodes = ctl->add_subcommand("vnodes", "which worker owns each vnode");
  auto* ctl_kv = ctl->add_subcommand("kv", "the KV namespace, as troupe kv (put, get, del, list, watch)");
  ctl_kv->allow_extras();
  ctl_kv->prefix_command();
  auto node_opt = [&](CLI::App* sub, const char* what) {
    sub->add_option("--node", cc.node, what)->type_name("NODE");
  };
  auto* ctl_actors = ctl->add_subcommand(
    "actors", "list actors: id, name, type, node, mailbox, handled, restarts, supervisor, state");
  node_opt(ctl_actors, "only this member's actors [default: every member]");
  ctl_actors->add_option("--offset", cc.offset, "skip this many per node [default: 0]")
    ->type_name("N");
  ctl_actors->add_option("--limit", cc.limit, "at most this many per node (with --all: per page), 1-10000 [default: 1000; 10000 with --all]")
    ->type_name("N")
    ->check(CLI::Range(uint64_t{1}, uint64_t{10000}));
  ctl_actors->add_flag("--all", cc.all, "every actor, fetched page by page");
  auto* ctl_inspect = ctl->add_subcommand(
    "inspect", "everything about one actor, with its own state dump when it gives one");
  ctl_inspect->add_option("actor", cc.actor, "an actor id (node/n) or name")->required();
  node_opt(ctl_inspect, "look only on this member");
  auto* ctl_tree = ctl->add_subcommand("tree", "the supervision tree of each node");
  node_opt(ctl_tree, "only this member [default: every member]");
  auto* ctl_spawn = ctl->add_subcommand(
    "spawn", "start a registered actor TYPE under a node's user supervisor; prints its id");
  ctl_spawn->add_option("type", cc.type, "a registered actor type")->required();
  ctl_spawn->add_option("args", cc.args, "arguments given to the actor (context.args)");
  node_opt(ctl_spawn, "the member to run it on [default: the node connected to]");
  ctl_spawn->add_option("--name", cc.name, "its name, unique on the node (with --count: NAME-k)")
    ->type_name("NAME");
  ctl_spawn->add_option("--count", cc.count, "start this many [default: 1]")
    ->type_name("N")
    ->check(CLI::Range(1u, 1000000u));
  auto* ctl_tell = ctl->add_subcommand("tell", "send an event with PAYLOAD to ACTOR (fire and forget)");
  ctl_tell->add_option("actor", cc.actor, "an actor id (node/n) or name")->required();
  ctl_tell->add_option("payload", cc.payload, "the event's payload")->required();
  node_opt(ctl_tell, "look only on this member");
  auto* ctl_ask = ctl->add_subcommand("ask", "send an event with PAYLOAD to ACTOR and print its reply");
  ctl_ask->add_option("actor", cc.actor, "an actor id (node/n) or name")->required();
  ctl_ask->add_option("payload", cc.payload, "the event's payload [default: empty]");
  node_opt(ctl_ask, "look only on this member");
  auto* ctl_kill = ctl->add_subcommand(
    "kill", "kill ACTOR; its supervisor restarts it (unless --stop)");
  ctl_kill->add_option("actor", cc.actor, "an actor id (node/n) or name")->required();
  ctl_kill->add_option("--reason", cc.reason, "the exit reason it gets [default: kill]")
    ->type_name("TEXT");
  ctl_kill->add_flag("--stop", cc.stop, "stop a spawned actor for good: no restart");
  node_opt(ctl_kill, "look only on this member");
  auto* ctl_logs = ctl->add_subcommand(
    "logs", "recent log lines of a node; `logs rotate`: rotate the log file (--log-file) now");
  ctl_logs->add_option("action", cc.type, "rotate")->check(CLI::IsMember({"rotate"}));
  node_opt(ctl_logs, "the member [default: the node connected to]");
  ctl_logs->add_flag("--follow", cc.follow, "keep printing new lines until interrupted");
  ctl_logs->add_option("--level", cc.level, "the lowest level shown [default: trace]")
    ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical"}));
  ctl_logs->add_option("--lines", cc.lines, "how many recent lines, 1-5000 [default: 100]")
    ->type_name("N")
    ->check(CLI::Range(uint64_t{1}, uint64_t{5000}));
  auto* ctl_help = ctl->add_subcommand("help", "explain the commands, or COMMAND");
  ctl_help->add_option("command", cc.name, "a command");
  // Commands whose issue has not landed yet: say so, clearly.
  std::vector<CLI::App*> not_yet;
  for (auto name : {"publish", "subscribe", "migrations"}) {
    auto* sub = ctl->add_subcommand(name, std::string{"(not available yet) "} + name);
    sub->allow_extras();
    not_yet.push_back(sub);
  }
  for (auto* sub : {ctl_deploy, ctl_undeploy, ctl_list, ctl_send, ctl_request, ctl_members,
                    ctl_status, ctl_vnodes, ctl_actors, ctl_inspect, ctl_tree, ctl_spawn,
                    ctl_tell, ctl_ask, ctl_kill, ctl_logs, ctl_help})
    sub->fallthrough();

  auto* console = app.add_subcommand(
    "console", "an interactive prompt over the ctl commands (history, tab completion)");
  console_command con;
  console->add_option("--connect", con.connect, "nodes of the cluster, tried in turn")
    ->type_name("HOST:PORT,...")
    ->required();
  console->add_option("--token", con.token,
                      "the cluster's console token, for commands that change anything "
                      "[default: $TROUPE_CONSOLE_TOKEN]")
    ->type_name("TOKEN");
  console->add_flag("--json", con.json, "every command prints JSON");
  console->add_option("--timeout", con.timeout_text, "each command gives up after this long [default: 5s]")
    ->type_name("DURATION");

  std::vector<std::string> rev(args.rbegin(), args.rend() - (args.empty() ? 0 : 1));
  try {
    app.parse(rev);
  } catch (const CLI::CallForHelp& e) {
    app.exit(e, out, err);
    return exit_now{exit_code::ok};
  } catch (const CLI::CallForAllHelp& e) {
    app.exit(e, out, err);
    return exit_now{exit_code::ok};
  } catch (const CLI::ParseError& e) {
    bool is_run = run->parsed();
    err << "troupe"
        << (is_run              ? " run"
            : status->parsed() ? " status"
            : kv->parsed()     ? " kv"
            : ctl->parsed()    ? " ctl"
            : console->parsed() ? " console"
                               : "")
        << ": " << e.what()
        << (is_run ? "" : " (see troupe --help)") << "\n";
    return exit_now{is_run ? exit_code::config : exit_code::usage};
  }

  if (status->parsed()) {
    auto ep = parse_endpoint(connect);
    if (!ep) {
      err << "troupe status: --connect: '" << connect << "' is not HOST:PORT\n";
      return exit_now{exit_code::usage};
    }
    if (!parse_duration(timeout_text, st.timeout) || st.timeout.count() <= 0) {
      err << "troupe status: --timeout: '" << timeout_text << "' is not a duration (e.g. 3s)\n";
      return exit_now{exit_code::usage};
    }
    st.target = *ep;
    return st;
  }

  if (kv->parsed()) {
    node_config scratch;
    if (auto problem = endpoints_setter(&node_config::coordinators)(scratch, kv_connect);
        !problem.empty()) {
      err << "troupe kv: --connect: " << problem << "\n";
      return exit_now{exit_code::usage};
    }
    if (!parse_duration(kv_timeout, kc.timeout) || kc.timeout.count() <= 0) {
      err << "troupe kv: --timeout: '" << kv_timeout << "' is not a duration (e.g. 5s)\n";
      return exit_now{exit_code::usage};
    }
    kc.targets = scratch.coordinators;
    if (kc.token.empty())
      if (auto* env = std::getenv("TROUPE_CONSOLE_TOKEN"))
        kc.token = env;
    kc.op = kv_put->parsed()   ? kv_command::put
            : kv_get->parsed() ? kv_command::get
            : kv_del->parsed() ? kv_command::del
            : kv_list->parsed() ? kv_command::list
                                : kv_command::watch;
    if (after_opt->count() > 0)
      kc.after = after;
    if (expect_revision >= 0)
      kc.expected = expect_revision;
    if (kc.op != kv_command::list && kc.op != kv_command::watch && kc.key.empty()) {
      err << "troupe kv: the key must not be empty\n";
      return exit_now{exit_code::usage};
    }
    return kc;
  }

  if (console->parsed()) {
    node_config scratch;
    if (auto problem = endpoints_setter(&node_config::coordinators)(scratch, con.connect);
        !problem.empty()) {
      err << "troupe console: --connect: " << problem << "\n";
      return exit_now{exit_code::usage};
    }
    if (!parse_duration(con.timeout_text, con.timeout) || con.timeout.count() <= 0) {
      err << "troupe console: --timeout: '" << con.timeout_text << "' is not a duration (e.g. 5s)\n";
      return exit_now{exit_code::usage};
    }
    con.targets = scratch.coordinators;
    if (con.token.empty())
      if (auto* env = std::getenv("TROUPE_CONSOLE_TOKEN"))
        con.token = env;
    return con;
  }

  if (ctl->parsed() && ctl->get_subcommands().empty()) {
    auto extra = ctl->remaining();
    if (extra.empty())
      err << "troupe ctl: give a command (see troupe ctl --help)\n";
    else
      err << "troupe ctl: unknown command '" << extra.front() << "' (see troupe ctl --help)\n";
    return exit_now{exit_code::usage};
  }
  if (ctl->parsed()) {
    if (ctl_help->parsed()) {
      cc.op = ctl_command::help;
      if (cc.name.empty()) {
        out << ctl->help();
        return exit_now{exit_code::ok};
      }
      for (auto* sub : ctl->get_subcommands([](CLI::App*) { return true; }))
        if (sub->get_name() == cc.name) {
          out << sub->help();
          return exit_now{exit_code::ok};
        }
      err << "troupe ctl help: unknown command '" << cc.name << "' (see troupe ctl help)\n";
      return exit_now{exit_code::usage};
    }
    if (connect_opt->count() == 0) {
      err << "troupe ctl: --connect is required (see troupe ctl --help)\n";
      return exit_now{exit_code::usage};
    }
    node_config scratch;
    if (auto problem = endpoints_setter(&node_config::coordinators)(scratch, ctl_connect);
        !problem.empty()) {
      err << "troupe ctl: --connect: " << problem << "\n";
      return exit_now{exit_code::usage};
    }
    if (!parse_duration(ctl_timeout, cc.timeout) || cc.timeout.count() <= 0) {
      err << "troupe ctl: --timeout: '" << ctl_timeout << "' is not a duration (e.g. 5s)\n";
      return exit_now{exit_code::usage};
    }
    if (cc.token.empty())
      if (auto* env = std::getenv("TROUPE_CONSOLE_TOKEN"))
        cc.token = env;
    cc.targets = scratch.coordinators;
    cc.op = ctl_deploy->parsed()      ? ctl_command::deploy
            : ctl_undeploy->parsed()  ? ctl_command::undeploy
            : ctl_send->parsed()      ? ctl_command::send
            : ctl_request->parsed()   ? ctl_command::request
            : ctl_members->parsed()   ? ctl_command::members
            : ctl_status->parsed()    ? ctl_command::status
            : ctl_vnodes->parsed()    ? ctl_command::vnodes
            : ctl_kv->parsed()        ? ctl_command::kv
            : ctl_actors->parsed()    ? ctl_command::actors
            : ctl_inspect->parsed()   ? ctl_command::inspect
            : ctl_tree->parsed()      ? ctl_command::tree
            : ctl_spawn->parsed()     ? ctl_command::spawn
            : ctl_tell->parsed()      ? ctl_command::tell
            : ctl_ask->parsed()       ? ctl_command::ask
            : ctl_kill->parsed()      ? ctl_command::kill
            : ctl_logs->parsed()      ? ctl_command::logs
                                      : ctl_command::deployments;
    for (auto* sub : not_yet)
      if (sub->parsed()) {
        cc.op = ctl_command::not_yet;
        cc.name = sub->get_name();
      }
    if (cc.op == ctl_command::spawn && !cc.name.empty() && !valid_name(cc.name)) {
      err << "troupe ctl spawn: --name: '" << cc.name
          << "' is not an actor name (1-64 letters, digits, '-', '_', '.')\n";
      return exit_now{exit_code::usage};
    }
    if (cc.op == ctl_command::kv) {
      // Run it as `troupe kv ARGS --connect ...`, with this command's --json and --timeout.
      cc.kv_args = {"troupe", "kv"};
      for (auto& a : ctl_kv->remaining())
        cc.kv_args.push_back(a);
      cc.kv_args.push_back("--connect=" + ctl_connect);
      cc.kv_args.push_back("--timeout=" + ctl_timeout);
      if (!cc.token.empty())
        cc.kv_args.push_back("--token=" + cc.token);
      if (cc.json)
        cc.kv_args.push_back("--json");
    }
    if (cc.op == ctl_command::send && cc.from_stdin == !cc.key.empty()) {
      err << "troupe ctl send: give either KEY [PAYLOAD] or --stdin\n";
      return exit_now{exit_code::usage};
    }
    for (auto& kv : cc.config)
      if (kv.find('=') == std::string::npos || kv.front() == '=') {
        err << "troupe ctl deploy: --config: '" << kv << "' is not KEY=VALUE\n";
        return exit_now{exit_code::usage};
      }
    return cc;
  }

  node_config cfg;
  std::map<std::string, bool> given;
  for (auto& spec : option_table()) {
    given[spec.name] = cli_opts[spec.name]->count() > 0;
    if (!given[spec.name])
      continue;
    auto problem = spec.set(cfg, spec.value_name.empty() ? "true" : values[spec.name]);
    if (!problem.empty()) {
      err << "troupe run: --" << spec.name << ": " << problem << "\n";
      return exit_now{exit_code::config};
    }
  }
  if (!config_file.empty()) {
    cfg.config_file = config_file;
    if (auto e = apply_config_file(config_file, given, cfg)) {
      err << "troupe run: " << e->message() << "\n";
      return exit_now{exit_code::config};
    }
  }
  if (auto e = finish(cfg)) {
    err << "troupe run: " << e->message() << "\n";
    return exit_now{exit_code::config};
  }
  return run_command{std::move(cfg)};
}

std::vector<std::string> local_worker_args(const node_config& parent, uint16_t parent_port,
                                           uint32_t k, const std::string& cluster_id,
                                           int parent_pid) {
  auto name = parent.name + "-worker-" + std::to_string(k);
  auto loopback = parent.bind == "::1" ? "[::1]" : "127.0.0.1";
  auto coord_host = parent.bind == "0.0.0.0" || parent.bind == "::" ? std::string{loopback}
                                                                     : parent.bind;
  if (coord_host.find(':') != std::string::npos && coord_host.front() != '[')
    coord_host = "[" + coord_host + "]";
  std::vector<std::string> out = {
    "run",
    "--worker",
    "--coordinators=" + coord_host + ":" + std::to_string(parent_port),
    "--name=" + name,
    "--bind=" + parent.bind,
    "--cluster-port=0",
    "--data-dir=" + parent.data_dir + "/worker-" + std::to_string(k),
    "--log-level=" + parent.log_level,
    "--heartbeat-interval=" + format_duration(parent.heartbeat_interval),
    "--failure-timeout=" + format_duration(parent.failure_timeout),
    "--threads=" + std::to_string(parent.threads),
    "--vnodes=" + std::to_string(parent.vnodes),
    "--worker-id=" + std::to_string(k),
    "--supervisor-pid=" + std::to_string(parent_pid),
    "--instance-prefix=" + cluster_id,
  };
  if (parent.http_port == 0) // no HTTP on the coordinator: none on its workers either
    out.emplace_back("--http-port=0");
  if (!parent.log_file.empty()) // one writer per log file: the coordinator's log-roller
    out.emplace_back("--ship-logs");
  return out;
}

} // namespace troupe
