// Real troupe processes for integration tests: started on free loopback ports, every wait
// bounded, every process reaped. The test process is a child subreaper, so workers orphaned
// by a killed coordinator are reparented to it and reaped here too; nothing outlives a test.
#pragma once

#include <nlohmann/json.hpp>

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace troupe::it {

using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;
using ms = std::chrono::milliseconds;

/// Returns a port on 127.0.0.1 that is free now, and whose successor is free too (the
/// default HTTP port is the cluster port + 1).
uint16_t free_port_pair();

/// TROUPE_TEST_TLS=1 (the `.tls` variants of some suites, tests/CMakeLists.txt): a CA made
/// for this test process, every node started with a certificate of its --name
/// (with_test_tls), every client with the operator's ($TROUPE_TLS_*). "" when off.
std::string test_tls_dir();

/// The cookie file every node and client of this test process shares, as a cluster's do: made
/// on first use and given to them all as $TROUPE_CLUSTER_SECRET_FILE (tests of the cookie
/// itself unset or replace it for one command).
std::string test_cookie_file();

/// The cookie in test_cookie_file().
std::string test_cookie();

/// `args` of a troupe command with the TLS flags of the node it starts, in TLS test mode.
std::vector<std::string> with_test_tls(std::vector<std::string> args);

/// Returns a new empty folder under the build tree for one test's data and logs.
std::string temp_dir(const std::string& test_name);

/// Polls `pred` every `poll` until it holds or `timeout` passes. Returns whether it held.
bool wait_until(const std::function<bool()>& pred, ms timeout, ms poll = 20ms);

/// True while `pid` exists and is not a zombie.
bool pid_alive(pid_t pid);

/// The lines of a text file (none when it cannot be read).
std::vector<std::string> lines_of(const std::string& path);

/// How often `what` occurs in `text`.
size_t count_of(const std::string& text, const std::string& what);

/// Reaps any exited children (e.g. orphaned workers reparented to this subreaper).
void reap_strays();

class process {
public:
  /// Starts the troupe binary (or `binary`) with `args` in `cwd` (empty: this process's);
  /// stdout and stderr go to `log_path`.
  process(std::vector<std::string> args, std::string log_path, std::string cwd = {},
          std::string in_path = "/dev/null", std::string binary = {});
  ~process();  // SIGKILLs and reaps the process if it is still running

  process(const process&) = delete;
  process& operator=(const process&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig) const;
  /// True once the process is stopped (SIGSTOP takes effect asynchronously).
  bool stopped() const;

  /// Waits for the exit; returns the exit code (128+signal when killed), nullopt on timeout.
  std::optional<int> wait_exit(ms timeout);

  bool running();
  std::string log() const;

private:
  pid_t pid_ = 0;
  std::optional<int> exit_code_;
  std::string log_path_;
};

/// Runs the troupe binary to completion with a bound; returns exit code and output.
struct run_result {
  int code = -1;
  std::string out;
  std::string err;
};
run_result run_troupe(const std::vector<std::string>& args, ms timeout = 10s);

/// The same, with stdin read from the file at `in_path`.
run_result run_troupe_input(const std::vector<std::string>& args, const std::string& in_path,
                            ms timeout = 10s);

/// Runs another program (argv[0] looked up in PATH) to completion with a bound.
run_result run_program(const std::vector<std::string>& argv, ms timeout = 10s);

/// GET /api/status from 127.0.0.1:`http_port`; nullopt when there is no valid answer.
std::optional<nlohmann::json> http_status(uint16_t http_port);

/// The Raft term member `name` reports in the status of the node at `http_port` (0: no answer,
/// or it runs no Raft replica).
uint64_t raft_term_of(uint16_t http_port, const std::string& name);

/// The value of `name_and_labels` (e.g. `troupe_link_refused_total{reason="bad_magic"}`) in the
/// node's GET /metrics at 127.0.0.1:`http_port`; -1 when it is not there or nothing answers.
double metric_of(uint16_t http_port, const std::string& name_and_labels);

/// The same, in a Prometheus text already fetched.
double metric_in(const std::string& text, const std::string& name_and_labels);

/// Returns the member called `name` in a status JSON, or nullopt.
std::optional<nlohmann::json> member(const nlohmann::json& status, const std::string& name);

/// Counts the members in `state`.
size_t count_state(const nlohmann::json& status, const std::string& state);

} // namespace troupe::it
