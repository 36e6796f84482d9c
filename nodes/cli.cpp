#include "nodes/cli.hpp"
#include "nodes/ctl_arguments.hpp"

#include "actors/link/cookie.hpp"
#include "actors/names.hpp"
#include "nodes/did_you_mean.hpp"
#include "nodes/exit_codes.hpp"
#include "nodes/run_options.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <ostream>

namespace troupe {

namespace {

/// A client's TLS files: the flags given become $TROUPE_TLS_* (which the client's links read),
/// and whatever those name is checked now, so a bad file is one line and exit 78 before any
/// connection. Returns the problem, or "".
std::string use_client_tls(const tls_files& flags) {
  export_tls_files(flags);
  auto files = tls_files_from_env();
  if (!files.enabled())
    return {};
  std::string problem;
  make_tls_context(files, problem);
  return problem;
}

/// A client's cookie file: the flag given becomes $TROUPE_CLUSTER_SECRET_FILE (which the
/// client's links read), and the file it names is checked now. Returns the problem, or "".
std::string use_client_cookie(const std::string& flag) {
  if (!flag.empty())
    ::setenv(cookie_env, flag.c_str(), 1);
  auto* path = std::getenv(cookie_env);
  if (!path || !*path)
    return {};
  std::string problem;
  read_cookie_file(path, problem);
  return problem;
}

} // namespace

namespace {

/// Where a client command connects when not told: $TROUPE_CONNECT, else this host's default
/// cluster port.
std::string default_connect() {
  if (auto* env = std::getenv("TROUPE_CONNECT"); env && *env)
    return env;
  return "127.0.0.1:8139";
}

/// The names of `app`'s subcommands.
std::vector<std::string> command_names(CLI::App* app) {
  std::vector<std::string> out;
  for (auto* sub : app->get_subcommands([](CLI::App*) { return true; }))
    out.push_back(sub->get_name());
  return out;
}

/// The long option names of `app` (and, with fallthrough, its parent's), "--name".
std::vector<std::string> option_names(CLI::App* app) {
  std::vector<std::string> out;
  for (auto* a = app; a != nullptr; a = a->get_parent())
    for (auto* opt : a->get_options())
      for (auto& name : opt->get_lnames())
        out.push_back("--" + name);
  return out;
}

/// A mistyped top-level command, found before CLI11 (which would only say that a command is
/// required): its error line, or "" when the first word is a command (or an option).
std::string unknown_command(CLI::App& app, const std::vector<std::string>& args) {
  if (args.size() < 2 || args[1].empty() || args[1][0] == '-')
    return {};
  auto names = command_names(&app);
  if (std::find(names.begin(), names.end(), args[1]) != names.end())
    return {};
  return "troupe: unknown command '" + args[1] + "'" + did_you_mean_hint(args[1], names)
         + " (see troupe --help)";
}

} // namespace

command parse_command_line(const std::vector<std::string>& args, std::ostream& out,
                           std::ostream& err) {
  CLI::App app{"Troupe: a clustering runtime for CAF actors.", "troupe"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "print help for every command");
  app.set_version_flag("--version", std::string{"troupe "} + TROUPE_VERSION);

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
  status->add_option("--connect", connect,
                     "any node of the cluster [default: $TROUPE_CONNECT, else 127.0.0.1:8139]")
    ->type_name("HOST:PORT");
  status->add_flag("--json", st.json, "print one JSON object");
  status->add_option("--timeout", timeout_text, "give up after this long [default: 3s]")
    ->type_name("DURATION");

  auto* kv = app.add_subcommand("kv", "read and write the cluster's KV namespace (linearizable)");
  kv->require_subcommand(1);
  kv_command kc;
  std::string kv_connect;
  std::string kv_timeout = "5s";
  int64_t expect_revision = -1;
  kv->add_option("--connect", kv_connect,
                 "nodes of the cluster, tried in turn [default: $TROUPE_CONNECT, else "
                 "127.0.0.1:8139]")
    ->type_name("HOST:PORT,...");
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
  ctl->add_option("--connect", ctl_connect,
                  "nodes of the cluster, tried in turn [default: $TROUPE_CONNECT, else "
                  "127.0.0.1:8139]")
    ->type_name("HOST:PORT,...");
  ctl->add_flag("--json", cc.json, "print JSON");
  auto* ctl_timeout_opt
    = ctl->add_option("--timeout", ctl_timeout,
                      "give up after this long [default: 5s; send and request: 35s]")
        ->type_name("DURATION");
  ctl->add_option("--token", cc.token,
                  "the cluster's console token, for commands that change anything "
                  "[default: $TROUPE_CONSOLE_TOKEN]")
    ->type_name("TOKEN");
  auto* ctl_deploy = ctl->add_subcommand("deploy", "run actor TYPE once per vnode as NAME");
  ctl_deploy->add_option("name", cc.name, "the deployment's name")->required();
  ctl_deploy->add_option("type", cc.type, "a registered actor type (e.g. echo, word-count)")
    ->required();
  ctl_deploy->add_option("--routing", cc.routing,
                         "hash (by key), round-robin, or singleton (one instance in the cluster, "
                         "on the main worker) [default: hash]")
    ->check(CLI::IsMember({"hash", "round-robin", "singleton"}));
  ctl_deploy->add_option("--delivery", cc.delivery,
                         "at-most-once or at-least-once [default: at-most-once]")
    ->check(CLI::IsMember({"at-most-once", "at-least-once"}));
  ctl_deploy->add_flag("--durable", cc.durable,
                       "log every event before its instance handles it: a crash loses no "
                       "acknowledged event (needs --delivery at-least-once; README, Durable "
                       "deployments)");
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
  ctl_tell->add_option("--key", cc.key, "the event's key [default: the payload]")
    ->type_name("KEY");
  node_opt(ctl_tell, "look only on this member");
  auto* ctl_ask = ctl->add_subcommand("ask", "send an event with PAYLOAD to ACTOR and print its reply");
  ctl_ask->add_option("actor", cc.actor, "an actor id (node/n) or name")->required();
  ctl_ask->add_option("payload", cc.payload, "the event's payload [default: empty]");
  ctl_ask->add_option("--key", cc.key, "the event's key [default: the payload]")
    ->type_name("KEY");
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
  auto* ctl_publish = ctl->add_subcommand(
    "publish", "broadcast PAYLOAD on TOPIC to the subscribers on every other node");
  ctl_publish->add_option("topic", cc.key, "the topic")->required();
  ctl_publish->add_option("payload", cc.payload, "the message")->required();
  ctl_publish->add_option("--namespace", cc.bus_namespace,
                          "the topic's namespace: only its subscribers see it [default: default]")
    ->type_name("NS");
  ctl_publish->add_flag("--persist", cc.persist,
                        "commit it through Raft: later subscribers get it too, even after a "
                        "restart of the whole cluster (the last --bus-keep per topic)");
  ctl_publish->add_flag("--send-to-self", cc.send_to_self,
                        "also deliver it to the subscribers on the node connected to");
  auto* ctl_subscribe = ctl->add_subcommand(
    "subscribe", "print the broadcasts on TOPIC (kept persisted ones first) until interrupted");
  ctl_subscribe->add_option("topic", cc.key, "the topic")->required();
  ctl_subscribe->add_option("--namespace", cc.bus_namespace, "the topic's namespace [default: default]")
    ->type_name("NS");
  ctl_subscribe->add_option("--count", cc.messages, "exit after this many broadcasts")
    ->type_name("N")
    ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40));
  std::string subscribe_wait;
  ctl_subscribe->add_option("--wait", subscribe_wait,
                            "stop after this long (with --count: exit 1 if fewer arrived)")
    ->type_name("DURATION");
  auto* ctl_migrations = ctl->add_subcommand(
    "migrations", "the registered migrations and their state; `migrations retry [ID]`: run a "
                  "failed one again");
  ctl_migrations->add_option("action", cc.type, "retry")->check(CLI::IsMember({"retry"}));
  ctl_migrations->add_option("id", cc.name, "the migration to retry [default: every failed one]");
  auto* ctl_queue = ctl->add_subcommand(
    "queue", "`queue create QUEUE HANDLER [options]`: a durable queue of jobs run by actor type "
             "HANDLER on the workers; `queue delete QUEUE`");
  ctl_queue->add_option("action", cc.action, "create or delete")
    ->required()
    ->check(CLI::IsMember({"create", "delete"}));
  ctl_queue->add_option("queue", cc.queue, "the queue's name")->required();
  ctl_queue->add_option("handler", cc.handler, "create: the actor type that runs its jobs");
  ctl_queue->add_option("--slots-per-worker", cc.slots_per_worker,
                        "jobs of this queue one worker runs at once, 1-1024 [default: 1]")
    ->type_name("N")
    ->check(CLI::Range(1u, 1024u));
  std::string job_timeout = "30s";
  std::string job_backoff = "1s";
  ctl_queue->add_option("--timeout", job_timeout,
                        "an attempt running longer goes back to the queue [default: 30s] (the "
                        "ctl's own --timeout goes before `queue`)")
    ->type_name("DURATION");
  ctl_queue->add_option("--max-attempts", cc.max_attempts,
                        "attempts before a job is a dead letter, 1-1000 [default: 3]")
    ->type_name("N")
    ->check(CLI::Range(1u, 1000u));
  ctl_queue->add_option("--backoff", job_backoff,
                        "wait before the 2nd attempt, doubled for each next one [default: 1s]")
    ->type_name("DURATION");
  ctl_queue->add_option("--keep-done", cc.keep_done,
                        "done jobs kept, 1-10000000; the oldest beyond are forgotten (their ids "
                        "can be submitted again) [default: 100000]")
    ->type_name("N");
  auto* ctl_queues = ctl->add_subcommand("queues", "the job queues with their counts");
  auto* ctl_snapshots = ctl->add_subcommand(
    "snapshots", "the instance records the cluster keeps: per deployment and vnode, the size "
                 "of the last snapshot and the events logged since (durable deployments)");
  ctl_snapshots->add_option("name", cc.name, "only this deployment's");
  auto* ctl_jobs = ctl->add_subcommand(
    "jobs", "`jobs QUEUE`: pending, running (by worker), done, dead; `jobs submit QUEUE PAYLOAD "
            "[--id ID]` or `--stdin` (one payload per line); `jobs dead QUEUE`; `jobs retry "
            "QUEUE [ID]`; `jobs list QUEUE [STATE]`: the jobs in STATE (default done)");
  std::vector<std::string> jobs_args;
  ctl_jobs->add_option("args", jobs_args, "[show|submit|dead|retry|list] QUEUE [PAYLOAD|ID|STATE]")
    ->required();
  ctl_jobs->add_option("--id", cc.job_id, "submit: the job's id [default: a new unique one]")
    ->type_name("ID");
  ctl_jobs->add_flag("--stdin", cc.from_stdin, "submit: one job per input line (batched)");
  auto* ctl_tasks = ctl->add_subcommand(
    "tasks", "`tasks`: the long-running tasks and where their instances run; `tasks start NAME "
             "TYPE --instances N [--config K=V]...`: N instances of actor type TYPE, placed over "
             "the workers and moved when workers come and go; `tasks stop NAME`");
  std::vector<std::string> tasks_args;
  ctl_tasks->add_option("args", tasks_args, "[list | start NAME TYPE | stop NAME]");
  ctl_tasks->add_option("--instances", cc.instances, "start: how many, 1-1024 [default: 1]")
    ->type_name("N");
  ctl_tasks->add_option("--config", cc.config, "start: KEY=VALUE given to every instance")
    ->type_name("K=V");
  auto* ctl_set = ctl->add_subcommand(
    "set", "a replicated, linearizable set (e.g. the files already processed): `set add|remove|"
           "contains NAME MEMBER`, `set list NAME`");
  std::vector<std::string> set_args;
  ctl_set->add_option("args", set_args, "add|remove|contains|list NAME [MEMBER]")->required();
  for (auto* sub : {ctl_deploy, ctl_undeploy, ctl_list, ctl_send, ctl_request, ctl_members,
                    ctl_status, ctl_vnodes, ctl_actors, ctl_inspect, ctl_tree, ctl_spawn,
                    ctl_tell, ctl_ask, ctl_kill, ctl_logs, ctl_help, ctl_publish, ctl_subscribe,
                    ctl_migrations, ctl_queue, ctl_queues, ctl_snapshots, ctl_jobs, ctl_tasks,
                    ctl_set})
    sub->fallthrough();

  auto* console = app.add_subcommand(
    "console", "an interactive prompt over the ctl commands (history, tab completion)");
  console_command con;
  // Every client command takes the TLS files of a cluster with TLS (they stand for, and win
  // over, $TROUPE_TLS_CA, $TROUPE_TLS_CERT and $TROUPE_TLS_KEY).
  tls_files client_tls;
  std::string client_cookie_file;
  for (auto* c : {status, kv, ctl, console}) {
    c->add_option("--cluster-secret-file", client_cookie_file,
                  "without TLS, the cluster's cookie, for commands that change anything "
                  "[default: $TROUPE_CLUSTER_SECRET_FILE, else ./troupe-data/*/cookie]")
      ->type_name("FILE");
    c->add_option("--tls-ca", client_tls.ca,
                  "the cluster's CA certificate (PEM) [default: $TROUPE_TLS_CA]")
      ->type_name("FILE");
    c->add_option("--tls-cert", client_tls.cert,
                  "this client's certificate (PEM), signed by the CA, e.g. the operator's of "
                  "scripts/certs.sh [default: $TROUPE_TLS_CERT]")
      ->type_name("FILE");
    c->add_option("--tls-key", client_tls.key, "its private key [default: $TROUPE_TLS_KEY]")
      ->type_name("FILE");
  }
  console->add_option("--connect", con.connect,
                      "nodes of the cluster, tried in turn [default: $TROUPE_CONNECT, else "
                      "127.0.0.1:8139]")
    ->type_name("HOST:PORT,...");
  console->add_option("--token", con.token,
                      "the cluster's console token, for commands that change anything "
                      "[default: $TROUPE_CONSOLE_TOKEN]")
    ->type_name("TOKEN");
  console->add_flag("--json", con.json, "every command prints JSON");
  console->add_option("--timeout", con.timeout_text, "each command gives up after this long [default: 5s]")
    ->type_name("DURATION");

  if (auto problem = unknown_command(app, args); !problem.empty()) {
    err << problem << "\n";
    return exit_now{exit_code::usage};
  }
  std::vector<std::string> rev(args.rbegin(), args.rend() - (args.empty() ? 0 : 1));
  try {
    app.parse(rev);
  } catch (const CLI::CallForVersion& e) {
    out << e.what() << "\n";
    return exit_now{exit_code::ok};
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

  if (status->parsed() || kv->parsed() || ctl->parsed() || console->parsed()) {
    auto cmd = std::string{"troupe "} + (status->parsed() ? "status"
                                         : kv->parsed()   ? "kv"
                                         : ctl->parsed()  ? "ctl"
                                                          : "console");
    if (auto problem = use_client_tls(client_tls); !problem.empty()) {
      err << cmd << ": TLS: " << problem << "\n";
      return exit_now{exit_code::config};
    }
    if (auto problem = use_client_cookie(client_cookie_file); !problem.empty()) {
      err << cmd << ": --cluster-secret-file: " << problem << "\n";
      return exit_now{exit_code::config};
    }
  }
  if (connect.empty())
    connect = default_connect();
  if (kv_connect.empty())
    kv_connect = default_connect();
  if (ctl_connect.empty())
    ctl_connect = default_connect();
  if (con.connect.empty())
    con.connect = default_connect();
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
    else if (!extra.front().empty() && extra.front()[0] == '-')
      err << "troupe ctl: unknown option '" << extra.front() << "'"
          << did_you_mean_hint(extra.front(), option_names(ctl)) << " (see troupe ctl --help)\n";
    else
      err << "troupe ctl: unknown command '" << extra.front() << "'"
          << did_you_mean_hint(extra.front(), command_names(ctl)) << " (see troupe ctl --help)\n";
    return exit_now{exit_code::usage};
  }
  // An option or argument a ctl command does not take falls through to ctl, which keeps it
  // (to name an unknown command): it is an error, not something to ignore.
  if (ctl->parsed() && !ctl_kv->parsed() && !ctl->remaining().empty()) {
    auto* sub = ctl->get_subcommands().front();
    auto extra = ctl->remaining().front();
    bool is_option = !extra.empty() && extra[0] == '-';
    err << "troupe ctl " << sub->get_name() << ": unknown " << (is_option ? "option" : "argument")
        << " '" << extra << "'" << (is_option ? did_you_mean_hint(extra, option_names(sub)) : "")
        << " (see troupe ctl help " << sub->get_name() << ")\n";
    return exit_now{exit_code::usage};
  }
  if (ctl->parsed()) {
    if (ctl_help->parsed()) {
      cc.op = ctl_command::help;
      // App::help() would describe the command that was parsed (help itself).
      auto help_of = [](CLI::App* a, const std::string& name) {
        return a->get_formatter()->make_help(a, name, CLI::AppFormatMode::Normal);
      };
      if (cc.name.empty()) {
        out << help_of(ctl, "troupe ctl");
        return exit_now{exit_code::ok};
      }
      for (auto* sub : ctl->get_subcommands([](CLI::App*) { return true; }))
        if (sub->get_name() == cc.name) {
          out << help_of(sub, "troupe ctl " + cc.name);
          return exit_now{exit_code::ok};
        }
      err << "troupe ctl help: unknown command '" << cc.name << "'"
          << did_you_mean_hint(cc.name, command_names(ctl)) << " (see troupe ctl help)\n";
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
            : ctl_publish->parsed()   ? ctl_command::publish
            : ctl_subscribe->parsed() ? ctl_command::subscribe
            : ctl_migrations->parsed() ? ctl_command::migrations
            : ctl_queue->parsed()     ? ctl_command::queue_change
            : ctl_queues->parsed()    ? ctl_command::queues
            : ctl_snapshots->parsed() ? ctl_command::snapshots
            : ctl_jobs->parsed()      ? ctl_command::jobs
            : ctl_tasks->parsed()     ? ctl_command::tasks
            : ctl_set->parsed()       ? ctl_command::set
                                      : ctl_command::deployments;
    if (cc.op == ctl_command::queue_change) {
      duration t{}, b{};
      if (!parse_duration(job_timeout, t) || t.count() <= 0) {
        err << "troupe ctl queue: --timeout: '" << job_timeout << "' is not a duration (e.g. 30s)\n";
        return exit_now{exit_code::usage};
      }
      if (!parse_duration(job_backoff, b) || b.count() < 0) {
        err << "troupe ctl queue: --backoff: '" << job_backoff << "' is not a duration (e.g. 1s)\n";
        return exit_now{exit_code::usage};
      }
      cc.job_timeout_ms = std::max<int64_t>(
        1, std::chrono::duration_cast<std::chrono::milliseconds>(t).count());
      cc.backoff_ms = std::chrono::duration_cast<std::chrono::milliseconds>(b).count();
      if (cc.action == "create" && cc.handler.empty()) {
        err << "troupe ctl queue create: give the handler (an actor type): queue create QUEUE "
               "HANDLER\n";
        return exit_now{exit_code::usage};
      }
      if (cc.action == "delete" && !cc.handler.empty()) {
        err << "troupe ctl queue delete: unknown argument '" << cc.handler << "'\n";
        return exit_now{exit_code::usage};
      }
    }
    if (cc.op == ctl_command::jobs) {
      if (auto problem = jobs_arguments(jobs_args, cc); !problem.empty()) {
        err << "troupe ctl jobs: " << problem << " (see troupe ctl help jobs)\n";
        return exit_now{exit_code::usage};
      }
    }
    if (cc.op == ctl_command::tasks || cc.op == ctl_command::set) {
      auto problem = cc.op == ctl_command::tasks ? tasks_arguments(tasks_args, cc)
                                                 : set_arguments(set_args, cc);
      if (!problem.empty()) {
        auto what = cc.op == ctl_command::tasks ? "tasks" : "set";
        err << "troupe ctl " << what << ": " << problem << " (see troupe ctl help " << what
            << ")\n";
        return exit_now{exit_code::usage};
      }
    }
    // The router keeps an at-least-once event for up to 30 s (router_config's
    // delivery_deadline) while its vnode moves, and answers once it was handled or given up:
    // the client waits longer than that unless told otherwise, so that it hears the answer.
    if ((cc.op == ctl_command::send || cc.op == ctl_command::request)
        && ctl_timeout_opt->count() == 0)
      cc.timeout = std::chrono::seconds(35);
    if (!subscribe_wait.empty()
        && (!parse_duration(subscribe_wait, cc.wait) || cc.wait.count() <= 0)) {
      err << "troupe ctl subscribe: --wait: '" << subscribe_wait
          << "' is not a duration (e.g. 10s)\n";
      return exit_now{exit_code::usage};
    }
    if (cc.op == ctl_command::migrations && cc.type.empty() && !cc.name.empty()) {
      err << "troupe ctl migrations: '" << cc.name << "' is not a command (retry [ID])\n";
      return exit_now{exit_code::usage};
    }
    if (cc.op == ctl_command::spawn && !cc.name.empty() && !valid_name(cc.name)) {
      err << "troupe ctl spawn: --name: '" << cc.name
          << "' is not an actor name (1-64 letters, digits, '-', '_', '.')\n";
      return exit_now{exit_code::usage};
    }
    if (cc.op == ctl_command::kv) {
      // Run it as `troupe kv ARGS --connect ...`, with this command's --json and --timeout.
      // Options given after `kv` are the kv command's own and win.
      cc.kv_args = {"troupe", "kv"};
      for (auto& a : ctl_kv->remaining())
        cc.kv_args.push_back(a);
      auto given = [&](const std::string& opt) {
        return std::any_of(cc.kv_args.begin(), cc.kv_args.end(), [&](const std::string& a) {
          return a == opt || a.rfind(opt + "=", 0) == 0;
        });
      };
      if (!given("--connect"))
        cc.kv_args.push_back("--connect=" + ctl_connect);
      if (!given("--timeout"))
        cc.kv_args.push_back("--timeout=" + ctl_timeout);
      if (!cc.token.empty() && !given("--token"))
        cc.kv_args.push_back("--token=" + cc.token);
      if (cc.json && !given("--json"))
        cc.kv_args.push_back("--json");
    }
    if (cc.op == ctl_command::send && cc.from_stdin == !cc.key.empty()) {
      err << "troupe ctl send: give either KEY [PAYLOAD] or --stdin\n";
      return exit_now{exit_code::usage};
    }
    for (auto& kv : cc.config)
      if (kv.find('=') == std::string::npos || kv.front() == '=') {
        err << "troupe ctl " << (cc.op == ctl_command::tasks ? "tasks" : "deploy")
            << ": --config: '" << kv << "' is not KEY=VALUE\n";
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
    "--bus-keep=" + std::to_string(parent.bus_keep),
    "--max-frame-bytes=" + std::to_string(parent.links.max_frame),
    "--worker-id=" + std::to_string(k),
    "--supervisor-pid=" + std::to_string(parent_pid),
    "--instance-prefix=" + cluster_id,
  };
  if (parent.http_port == 0) // no HTTP on the coordinator: none on its workers either
    out.emplace_back("--http-port=0");
  if (!parent.log_file.empty()) // one writer per log file: the coordinator's log-roller
    out.emplace_back("--ship-logs");
  if (parent.fault_injection)
    out.emplace_back("--fault-injection");
  if (parent.tls.enabled()) { // a local worker shows its coordinator's certificate
    out.emplace_back("--tls-ca=" + parent.tls.ca);
    out.emplace_back("--tls-cert=" + parent.tls.cert);
    out.emplace_back("--tls-key=" + parent.tls.key);
  }
  if (parent.insecure)
    out.emplace_back("--insecure");
  return out;
}

} // namespace troupe
