// The troupe command line: `troupe run [options]`, `troupe status --connect HOST:PORT`.
#pragma once

#include "actors/endpoint.hpp"
#include "nodes/node_config.hpp"

#include <iosfwd>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace troupe {

struct run_command {
  node_config cfg;
};

struct status_command {
  endpoint target;
  bool json = false;
  duration timeout = std::chrono::seconds(3);
};

struct kv_command {
  enum op_t : uint8_t { put, get, del, list, watch } op = get;
  std::vector<endpoint> targets;  // tried in turn until one answers
  bool json = false;
  duration timeout = std::chrono::seconds(5);
  std::string key;                  // or prefix, for list
  std::string value;
  std::optional<int64_t> expected;  // --expect-revision (0: must not exist)
  uint64_t limit = 1000;
  std::optional<uint64_t> after;    // watch: events after this revision (default: from now)
  uint64_t count = 0;               // watch: stop after this many events (0: never)
  std::string token;                // the console token, for put and del
};

/// `troupe ctl --connect HOST:PORT,... <command>`: operate the cluster, one command per call.
struct ctl_command {
  enum op_t : uint8_t {
    deploy,
    undeploy,
    deployments,
    send,
    request,
    members,
    status,
    vnodes,
    kv,         // `ctl kv ...`: the arguments in kv_args, run as `troupe kv ...`
    actors,     // the console's inspection commands (see nodes/inspect_client.hpp)
    inspect,
    tree,
    spawn,
    tell,
    ask,
    kill,
    logs,
    help,       // `name`: the command to explain ("" for all)
    publish,    // the bus: key is the topic
    subscribe,
    migrations, // type "retry": retry `name` ("" : every failed one)
    queue_change,  // `queue ACTION`: action create|delete
    queues,
    snapshots,
    jobs,       // action show|submit|dead|retry
    tasks,      // action list|start|stop: name, type, instances, config
    set,        // action add|remove|contains|list: name, payload (the member)
  } op = deployments;
  std::vector<endpoint> targets;  // tried in turn until one answers
  bool json = false;
  duration timeout = std::chrono::seconds(5);
  std::string name;               // deploy, undeploy
  std::string type;               // deploy
  std::string routing = "hash";
  std::string delivery = "at-most-once";
  bool durable = false;             // deploy: log the instances' events (needs at-least-once)
  std::vector<std::string> config;  // k=v
  std::string key;                  // send, request
  std::string payload;
  bool from_stdin = false;          // send: one event per input line "<key>\t<payload>"
  std::vector<std::string> kv_args;
  std::string token;                // the console token ($TROUPE_CONSOLE_TOKEN by default)
  std::string node;                 // --node: the member to ask ("" : every member, or the
                                    // one the actor id names)
  std::string actor;                // inspect, tell, ask, kill: an id or a name
  uint64_t offset = 0;              // actors: paging
  uint64_t limit = 0;               // 0: 1,000 (10,000 per page with --all)
  bool all = false;                 // actors: every page
  std::string reason;               // kill --reason
  bool stop = false;                // kill --stop: not restarted
  uint32_t count = 1;               // spawn --count
  std::vector<std::string> args;    // spawn TYPE ARGS...
  bool follow = false;              // logs --follow
  std::string level = "trace";      // logs --level: the lowest level shown
  uint64_t lines = 100;             // logs --lines
  std::string bus_namespace = "default";  // publish, subscribe --namespace
  bool persist = false;             // publish --persist
  bool send_to_self = false;        // publish --send-to-self
  uint64_t messages = 0;            // subscribe --count (0: until interrupted)
  duration wait{0};                 // subscribe --wait (0: no bound)
  // Shared work: queue ACTION QUEUE [HANDLER], jobs [ACTION] QUEUE [PAYLOAD|ID]
  std::string action;
  std::string queue;
  std::string handler;              // queue create
  uint32_t slots_per_worker = 1;
  int64_t job_timeout_ms = 30000;
  uint32_t max_attempts = 3;
  int64_t backoff_ms = 1000;
  uint64_t keep_done = 100000;      // queue create --keep-done
  std::string job_id;               // jobs submit --id, jobs retry ID
  uint32_t instances = 1;           // tasks start --instances
};

/// `troupe console --connect HOST:PORT,...`: the interactive prompt over the ctl commands.
struct console_command {
  std::string connect;            // as given, handed to every command
  std::vector<endpoint> targets;
  std::string token;
  bool json = false;              // every command prints JSON
  duration timeout = std::chrono::seconds(5);
  std::string timeout_text = "5s";
};

/// The process should exit now with `code` (help was printed, or an error line was).
struct exit_now {
  int code = 0;
};

using command = std::variant<run_command, status_command, kv_command, ctl_command,
                             console_command, exit_now>;

/// Parses the command line (args[0] is the program), reads the config file when one is named,
/// validates everything, and returns what to run. Help goes to `out`; an error is one line on
/// `err` and gives exit_code::config (run) or exit_code::usage (other commands).
command parse_command_line(const std::vector<std::string>& args, std::ostream& out,
                           std::ostream& err);

/// Returns the arguments (without the program) that start local worker `k` of a coordinator
/// listening on `parent_port`: a worker-only node that joins it on loopback, listens on free
/// ports and exits when process `parent_pid` is gone.
std::vector<std::string> local_worker_args(const node_config& parent, uint16_t parent_port,
                                           uint32_t k, const std::string& cluster_id,
                                           int parent_pid);

} // namespace troupe
