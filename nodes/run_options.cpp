#include "nodes/run_options.hpp"

#include "actors/names.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/config_value.hpp>
#include <caf/pec.hpp>

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>

namespace troupe {

namespace {

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

/// A file the node reads at start: its path as given (checked when the TLS context loads).
std::string file_setter(std::string& field, const std::string& v) {
  if (v.empty())
    return "must name a file";
  field = v;
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

} // namespace

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
    {"raft-tick", "DURATION", "Raft's logical clock: election timeouts and heartbeats count its ticks", "25ms",
     duration_setter(&node_config::raft_tick, milliseconds(5), std::chrono::seconds(1))},
    {"election-ticks", "N", "Raft election timeout in ticks, randomized in [N, 2N)", "10",
     uint_setter(&node_config::election_ticks, 4, 100)},
    {"heartbeat-ticks", "N",
     "the Raft leader heartbeats every N ticks; at most half of --election-ticks", "3",
     uint_setter(&node_config::heartbeat_ticks, 1, 50)},
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
    {"max-frame-bytes", "N",
     "largest message this node sends or takes on the wire (every node of a cluster should "
     "give the same); a KV value, broadcast or event over it is refused before anything is "
     "written", "4194304",
     [](node_config& c, const std::string& v) {
       return parse_uint<uint32_t>(v, 65536, 256u << 20, c.links.max_frame);
     }},
    {"max-connections", "N", "connections this node accepts that said hello, in total",
     "1024",
     [](node_config& c, const std::string& v) {
       return parse_uint<size_t>(v, 16, 65536, c.links.max_connections);
     }},
    {"max-connections-per-address", "N",
     "connections this node accepts from one address that said hello", "512",
     [](node_config& c, const std::string& v) {
       return parse_uint<size_t>(v, 1, 65536, c.links.max_per_address);
     }},
    {"hello-timeout", "DURATION",
     "a connection that has not said a valid hello by then is closed", "5s",
     [](node_config& c, const std::string& v) -> std::string {
       duration d{};
       if (!parse_duration(v, d) || d < milliseconds(100) || d > std::chrono::minutes(1))
         return "'" + v + "' is not a duration between 100ms and 1min";
       c.links.hello_timeout = std::chrono::duration_cast<milliseconds>(d);
       return {};
     }},
    {"tls-ca", "FILE",
     "the cluster's CA certificate (PEM): with --tls-cert and --tls-key, every link is mutual "
     "TLS and a peer must present a certificate the CA signed (scripts/certs.sh makes them)",
     "none", [](node_config& c, const std::string& v) { return file_setter(c.tls.ca, v); }},
    {"tls-cert", "FILE",
     "this node's certificate (PEM), signed by --tls-ca; it must name the node (--name) as its "
     "common name or a DNS alternative name", "none",
     [](node_config& c, const std::string& v) { return file_setter(c.tls.cert, v); }},
    {"tls-key", "FILE", "the private key of --tls-cert (PEM)", "none",
     [](node_config& c, const std::string& v) { return file_setter(c.tls.key, v); }},
    {"insecure", "",
     "allow plain links on an address beyond loopback (--bind): unencrypted, only the cookie "
     "says who belongs, and whoever sees the traffic can read or take over a link; health "
     "turns yellow", "off",
     [](node_config& c, const std::string&) -> std::string {
       c.insecure = true;
       return {};
     }},
    {"cluster-secret-file", "FILE",
     "without TLS, the cluster's cookie: joining and commands that change anything need it "
     "(also read from $TROUPE_CLUSTER_SECRET_FILE; local workers inherit it)",
     "<data-dir>/cookie, else the one under ./troupe-data/*/cookie, else the first coordinator "
     "makes one",
     [](node_config& c, const std::string& v) { return file_setter(c.cluster_secret_file, v); }},
    {"bus-keep", "N",
     "persisted broadcasts kept per topic: the last N published from this node's actors and "
     "clients (`troupe ctl publish --persist`)", "100",
     uint_setter(&node_config::bus_keep, 1, 100000)},
    {"fault-injection", "", "internal (tests): let a client garble this node's next frame", "off",
     [](node_config& c, const std::string&) -> std::string {
       c.fault_injection = true;
       return {};
     },
     true},
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

namespace {

/// Where and why CAF's config parser stopped, as a sentence: "line 2, column 1: unexpected
/// newline" rather than parser_error(unexpected_newline, ({"column" = 1, "line" = 2})).
std::string parse_error_text(const caf::error& err) {
  if (err.category() != caf::atom("parser"))
    return caf::to_string(err);
  auto what = caf::to_string(static_cast<caf::pec>(err.code()));
  std::replace(what.begin(), what.end(), '_', ' ');
  auto rendered = caf::to_string(err);
  std::smatch line, column;
  std::regex line_re{R"("line" = (\d+))"}, column_re{R"("column" = (\d+))"};
  if (std::regex_search(rendered, line, line_re) && std::regex_search(rendered, column, column_re))
    return "line " + line[1].str() + ", column " + column[1].str() + ": " + what;
  return what;
}

} // namespace

/// Reads the [troupe] section of `path` into `cfg` for each option not in `given`.
std::optional<config_error> apply_config_file(const std::string& path,
                                              const std::map<std::string, bool>& given,
                                              node_config& cfg) {
  const std::string where = "--config-file";
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return config_error{where, "'" + path + "' is a directory: give the config file in it"};
  std::ifstream probe{path};
  if (!probe)
    return config_error{where, "cannot read '" + path + "': " + std::strerror(errno)};
  auto parsed = caf::actor_system_config::parse_config_file(path.c_str());
  if (!parsed)
    return config_error{where, "'" + path + "' is not a valid config file: "
                                 + parse_error_text(parsed.error())};
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

/// True for addresses only this host reaches.
static bool is_loopback(const std::string& bind) {
  return bind == "localhost" || bind == "::1" || bind.rfind("127.", 0) == 0;
}

std::optional<config_error> finish(node_config& c) {
  if (c.console_token.empty())
    if (auto* env = std::getenv("TROUPE_CONSOLE_TOKEN"); env && *env) {
      if (auto problem = find_option("console-token")->set(c, env); !problem.empty())
        return config_error{"$TROUPE_CONSOLE_TOKEN", problem};
    }
  if (c.cluster_secret_file.empty())
    if (auto* env = std::getenv("TROUPE_CLUSTER_SECRET_FILE"); env && *env) {
      if (auto problem = find_option("cluster-secret-file")->set(c, env); !problem.empty())
        return config_error{"$TROUPE_CLUSTER_SECRET_FILE", problem};
    }
  if (!c.cluster_secret_file.empty()) // local workers start elsewhere in the tree
    c.cluster_secret_file = std::filesystem::absolute(c.cluster_secret_file).string();
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
  // A follower must hear at least two heartbeats within its shortest election timeout, or a
  // single late one starts an election against a live leader.
  if (2 * c.heartbeat_ticks > c.election_ticks)
    return config_error{"--heartbeat-ticks", std::to_string(c.heartbeat_ticks)
                                               + " is more than half of --election-ticks ("
                                               + std::to_string(c.election_ticks) + ")"};
  if (c.restart_backoff > c.restart_backoff_max)
    return config_error{"--restart-backoff", format_duration(c.restart_backoff)
                                               + " is longer than --restart-backoff-max ("
                                               + format_duration(c.restart_backoff_max) + ")"};
  if (c.tls.enabled()) // local workers start elsewhere in the tree: paths that hold there too
    for (auto* path : {&c.tls.ca, &c.tls.cert, &c.tls.key})
      if (!path->empty())
        *path = std::filesystem::absolute(*path).string();
  if (c.tls.enabled() && (c.tls.ca.empty() || c.tls.cert.empty() || c.tls.key.empty()))
    return config_error{c.tls.ca.empty() ? "--tls-ca" : c.tls.cert.empty() ? "--tls-cert" : "--tls-key",
                        "TLS needs all three of --tls-ca, --tls-cert and --tls-key"};
  if (!c.tls.enabled() && !c.insecure && !is_loopback(c.bind))
    return config_error{"--bind", c.bind + " reaches beyond this host, and without TLS anyone who "
                                           "reaches the port could join or command the cluster: "
                                           "give --tls-ca, --tls-cert and --tls-key "
                                           "(scripts/certs.sh makes them), or --insecure"};
  if (c.http_port > 0 && c.http_port == c.cluster_port)
    return config_error{"--http-port", "must differ from --cluster-port"};
  if (c.cluster_port == 65535 && c.http_port < 0)
    return config_error{"--http-port", "cluster port 65535 leaves no default HTTP port: set "
                                       "--http-port"};
  return std::nullopt;
}

} // namespace troupe
