// Everything a node is told at start, declared once: each setting has one entry in the option
// table of node_config.cpp with its default and help, and can be given on the command line
// (--name) or in the [troupe] section of a CAF-format config file (name = ...); the command
// line wins. validate() runs before anything starts. No CAF in this header: it is widely used.
#pragma once

#include "actors/link/link.hpp"
#include "actors/link/tls_session.hpp"
#include "actors/endpoint.hpp"
#include "protocols/clock.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace troupe {

struct node_config {
  std::string name;              // default: <hostname>-<cluster port>
  std::string bind = "127.0.0.1";
  uint16_t cluster_port = 8139;  // 0: pick a free port
  int http_port = -1;            // -1: cluster port + 1 (any free port when cluster port is 0); 0: off
  std::string data_dir;          // default: ./troupe-data/<name>
  link_settings links;           // the wire's bounds (--max-frame-bytes, ...)
  tls_files tls;                 // --tls-ca, --tls-cert, --tls-key: mutual TLS on every link
  bool insecure = false;         // --insecure: plain links on an address beyond loopback
  std::string cluster_secret_file;  // without TLS: the cluster's cookie (actors/link/cookie.hpp)
  std::string log_level = "info";
  std::string pid_file;
  uint32_t workers = 0;          // local worker processes to start and supervise
  bool coordinator = false;
  bool worker = false;
  std::vector<endpoint> peers;
  std::vector<endpoint> coordinators;
  duration heartbeat_interval = milliseconds(200);
  duration failure_timeout = milliseconds(1500);
  uint32_t restart_max = 5;
  duration restart_period = std::chrono::seconds(60);
  duration restart_backoff = milliseconds(100);
  duration restart_backoff_max = std::chrono::seconds(5);
  duration shutdown_timeout = std::chrono::seconds(5);
  uint32_t threads = 0;          // CAF scheduler threads; 0: one per core, at least 2
  duration raft_tick = milliseconds(25);  // Raft's logical tick: heartbeat period of the leader
  uint32_t election_ticks = 10;  // election timeout: random in [e, 2e) ticks
  // The leader's heartbeat period in ticks: 75 ms keeps three heartbeats in the shortest
  // election timeout, at a third of the idle messages of one per tick.
  uint32_t heartbeat_ticks = 3;
  uint32_t vnodes = 64;          // fixed when the cluster is created; every node must agree
  std::string console_token;     // console commands that change anything need it ("": none)
  std::string log_file;          // the log-roller writes this host's lines here ("": stderr)
  uint64_t log_max_bytes = 10 * 1024 * 1024;  // rotate at this size
  uint32_t log_max_files = 5;    // rotated files kept (FILE.1 ... FILE.N)
  bool fault_injection = false;  // internal (tests): accept (inject_fault_atom, kind)
  bool ship_logs = false;        // internal: a local worker ships its lines to the coordinator
  uint32_t bus_keep = 100;       // persisted broadcasts kept per topic (of those published here)
  std::string config_file;

  // Set by a coordinator for the worker processes it starts (not for users).
  uint32_t worker_id = 0;        // k in <node>-worker-<k>; 0: not a local worker
  int supervisor_pid = 0;        // exit when this process is gone
  std::string instance_prefix;   // <cluster-id> of the supervising node

  /// True when this process hosts vnodes and user actors.
  bool has_worker_role() const { return worker || (!coordinator && workers == 0); }

  /// True when this process runs the membership (later: Raft) of the cluster.
  bool has_coordinator_role() const { return !worker || coordinator; }
};

/// A configuration problem: which setting, and what is wrong with it.
struct config_error {
  std::string setting;  // e.g. "--cluster-port" or "troupe.cluster-port in app.ini"
  std::string problem;

  /// Returns the one line printed on stderr.
  std::string message() const { return setting + ": " + problem; }
};

/// The coordinator group: every voter's address in a canonical order (the same on every
/// coordinator, whatever order --peers lists them in), and which one this node is.
struct coordinator_group {
  std::vector<endpoint> members;
  size_t self = 0;
};

/// Returns the group this coordinator belongs to: --peers, or this node alone. Fills `error`
/// when --peers does not name this node or has an unusable size.
coordinator_group resolve_group(const node_config& cfg, std::optional<config_error>& error);

/// Parses a duration like "200ms", "2s", "1min". Returns false when malformed.
bool parse_duration(std::string_view text, duration& out);

/// Returns "200ms", "2s", ... for display.
std::string format_duration(duration d);

} // namespace troupe
