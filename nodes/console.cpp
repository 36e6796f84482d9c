#include "nodes/console.hpp"

#include "actors/inspect/inspector.hpp"
#include "actors/raft/raft_actor.hpp"
#include "actors/wire.hpp"
#include "nodes/cluster_queries.hpp"
#include "nodes/ctl_client.hpp"
#include "nodes/exit_codes.hpp"
#include "nodes/remote_node.hpp"
#include "protocols/cluster_state/commands.hpp"
#include "protocols/membership/codec.hpp"

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <editline/readline.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <set>

namespace troupe {

namespace {

namespace ms = troupe::membership;

const std::vector<std::string>& command_names() {
  static const std::vector<std::string> names = {
    "actors",  "ask",     "deploy",  "deployments", "help",      "inspect", "jobs",
    "kill",    "kv",      "logs",    "members",     "migrations", "publish", "queue",
    "queues",  "quit",    "request", "send",        "set",       "snapshots", "spawn",
    "status",
    "subscribe", "tasks", "tell",    "tree",        "undeploy",  "vnodes",
  };
  return names;
}

/// The options each command takes, for completion after a '-'.
const std::map<std::string, std::vector<std::string>>& command_options() {
  static const std::map<std::string, std::vector<std::string>> opts = {
    {"actors", {"--node", "--offset", "--limit", "--all", "--json"}},
    {"inspect", {"--node", "--json"}},
    {"tree", {"--node", "--json"}},
    {"spawn", {"--node", "--name", "--count", "--json"}},
    {"tell", {"--node", "--json"}},
    {"ask", {"--node", "--json", "--timeout"}},
    {"kill", {"--node", "--reason", "--stop", "--json"}},
    {"logs", {"--node", "--follow", "--level", "--lines", "--json"}},
    {"deploy", {"--routing", "--delivery", "--durable", "--config", "--json"}},
    {"snapshots", {"--json"}},
    {"send", {"--stdin", "--json"}},
    {"members", {"--json"}},
    {"status", {"--json"}},
    {"vnodes", {"--json"}},
    {"deployments", {"--json"}},
    {"publish", {"--namespace", "--persist", "--send-to-self", "--json"}},
    {"subscribe", {"--namespace", "--count", "--wait", "--json"}},
    {"migrations", {"--json"}},
    {"queue", {"--slots-per-worker", "--timeout", "--max-attempts", "--backoff", "--keep-done",
               "--json"}},
    {"queues", {"--json"}},
    {"jobs", {"--id", "--stdin", "--json"}},
    {"tasks", {"--instances", "--config", "--json"}},
    {"set", {"--json"}},
  };
  return opts;
}

/// What completion offers besides commands: refreshed from the cluster at most every 2 s.
struct completion_cache {
  caf::actor_system* sys = nullptr;
  const console_command* cmd = nullptr;
  std::chrono::steady_clock::time_point fetched{};
  bool valid = false;
  std::vector<std::string> members;
  std::vector<std::string> actors;       // ids and names
  std::vector<std::string> deployments;
  std::vector<std::string> queues;
  std::vector<std::string> candidates;   // of the completion under way
};

completion_cache cache;

void refresh_cache() {
  auto now = std::chrono::steady_clock::now();
  if (cache.valid && now - cache.fetched < std::chrono::seconds(2))
    return;
  cache.fetched = now;
  cache.valid = true;
  auto& sys = *cache.sys;
  auto timeout = std::chrono::milliseconds(1500);
  caf::scoped_actor self{sys};
  std::string problem;
  size_t next = 0;
  auto node = connect_any(sys, self, cache.cmd->targets, timeout, &next, problem);
  if (!node)
    return;
  std::vector<std::pair<std::string, std::string>> live; // name, address
  if (auto r = request_status(sys, self, node, timeout)) {
    cache.members.clear();
    for (auto& m : r->members.members) {
      cache.members.push_back(m.name);
      if (m.state == ms::member_state::up || m.state == ms::member_state::suspect)
        live.emplace_back(m.name, m.address);
    }
  }
  self->request(node, timeout, deployments_atom::value)
    .receive(
      [&](const std::vector<std::string>& encoded, uint64_t) {
        cache.deployments.clear();
        for (auto& e : encoded) {
          state::deployment_spec d;
          if (state::decode_deployment(e, d))
            cache.deployments.push_back(d.name);
        }
      },
      [](const caf::error&) {});
  if (auto q = jobs_query(sys, self, node, timeout, "", "")) {
    cache.queues.clear();
    for (auto& row : q.value["queues"])
      cache.queues.push_back(row.value("name", ""));
  }
  std::set<std::string> actors;
  for (auto& [name, address] : live) {
    auto ep = parse_endpoint(address);
    if (!ep)
      continue;
    std::string why;
    auto a = connect_node(sys, self, *ep, timeout, why);
    if (!a)
      continue;
    self->request(a, timeout, actors_atom::value, uint64_t{0}, uint64_t{1000})
      .receive(
        [&](const std::string& text) {
          auto page = nlohmann::json::parse(text, nullptr, false);
          if (page.is_discarded())
            return;
          for (auto& r : page["actors"]) {
            actors.insert(r.value("id", ""));
            if (!r.value("name", "").empty())
              actors.insert(r.value("name", ""));
          }
        },
        [](const caf::error&) {});
  }
  cache.actors.assign(actors.begin(), actors.end());
}

char* next_candidate(const char* text, int state) {
  static size_t index = 0;
  if (state == 0)
    index = 0;
  auto len = std::strlen(text);
  while (index < cache.candidates.size()) {
    auto& c = cache.candidates[index++];
    if (c.compare(0, len, text) == 0)
      return ::strdup(c.c_str());
  }
  return nullptr;
}

char** complete(const char* text, int start, int) {
  rl_attempted_completion_over = 1; // never fall back to file names
  std::vector<std::string> words;
  std::string problem;
  split_words(std::string{rl_line_buffer, static_cast<size_t>(start)}, words, problem);
  auto& c = cache.candidates;
  c.clear();
  if (words.empty()) {
    c = command_names();
  } else {
    auto& cmd = words.front();
    auto& prev = words.back();
    if (text[0] == '-') {
      if (auto it = command_options().find(cmd); it != command_options().end())
        c = it->second;
    } else if (prev == "--node") {
      refresh_cache();
      c = cache.members;
    } else if (prev == "--level") {
      c = {"trace", "debug", "info", "warn", "error", "critical"};
    } else if (cmd == "help") {
      c = command_names();
    } else if (cmd == "kv" && words.size() == 1) {
      c = {"put", "get", "del", "list", "watch"};
    } else if (cmd == "queue" && words.size() == 1) {
      c = {"create", "delete"};
    } else if ((cmd == "jobs" && words.size() == 1)
               || (cmd == "queue" && words.size() == 2 && prev == "delete")) {
      refresh_cache();
      c = cache.queues;
    } else if (cmd == "jobs" && words.size() == 2) {
      c = {"show", "submit", "dead", "retry", "list"};
    } else if (cmd == "tasks" && words.size() == 1) {
      c = {"start", "stop"};
    } else if (cmd == "set" && words.size() == 1) {
      c = {"add", "remove", "contains", "list"};
    } else if (cmd == "jobs" && words.size() == 3 && prev == "list") {
      c = {"pending", "running", "done", "dead"};
    } else if ((cmd == "inspect" || cmd == "tell" || cmd == "ask" || cmd == "kill")
               && words.size() == 1) {
      refresh_cache();
      c = cache.actors;
    } else if ((cmd == "undeploy" || cmd == "send" || cmd == "request") && words.size() == 1) {
      refresh_cache();
      c = cache.deployments;
    }
  }
  return rl_completion_matches(text, next_candidate);
}

std::string history_path() {
  auto* home = std::getenv("HOME");
  if (!home || !*home)
    return {};
  return std::string{home} + "/.troupe_history";
}

volatile std::sig_atomic_t prompt_interrupted = 0;

extern "C" void on_prompt_interrupt(int) {
  // Ctrl-C at the prompt clears the line (as bash and psql do); a running command that follows
  // (logs --follow, subscribe, kv watch) catches it itself and ends, back to the prompt.
  prompt_interrupted = 1;
}

void print_help() {
  std::cout << "Commands (each as `troupe ctl` has them; `help COMMAND` for its options):\n"
               "  members, status, vnodes             the cluster\n"
               "  deployments, deploy, undeploy       deployments\n"
               "  send, request                       events to deployments\n"
               "  actors [--node N]                   actors: mailbox, handled, restarts, state\n"
               "  inspect ACTOR                       one actor, with its state dump\n"
               "  tree [--node N]                     the supervision tree\n"
               "  spawn TYPE [--node N] [--name X]    start an actor under a user supervisor\n"
               "  tell ACTOR PAYLOAD, ask ACTOR PAYLOAD\n"
               "  kill ACTOR [--reason R] [--stop]    its supervisor restarts it unless --stop\n"
               "  kv put|get|del|list|watch ...       the KV namespace\n"
               "  logs [--node N] [--follow] [--level L]\n"
               "  publish TOPIC PAYLOAD [--persist]   broadcast on the bus\n"
               "  subscribe TOPIC [--count N]         print a topic's broadcasts\n"
               "  migrations [retry [ID]]             the run-once migrations\n"
               "  help [COMMAND], quit\n"
               "ACTOR is an id (node/n) or a name. Tab completes; history is in ~/.troupe_history.\n";
}

/// Runs one line; false when the console should end.
bool run_line(const std::string& line, const console_command& con, caf::actor_system& sys) {
  std::vector<std::string> words;
  std::string problem;
  if (!split_words(line, words, problem)) {
    std::cerr << "troupe console: " << problem << "\n";
    return true;
  }
  if (words.empty())
    return true;
  if (words.front() == "quit" || words.front() == "exit")
    return false;
  if (words.front() == "help" && words.size() == 1) {
    print_help();
    return true;
  }
  std::vector<std::string> args{"troupe", "ctl", "--connect=" + con.connect,
                                "--timeout=" + con.timeout_text};
  if (!con.token.empty())
    args.push_back("--token=" + con.token);
  bool has_json = std::find(words.begin(), words.end(), "--json") != words.end();
  if (con.json && !has_json)
    args.emplace_back("--json");
  args.insert(args.end(), words.begin(), words.end());
  auto parsed = parse_command_line(args, std::cout, std::cerr);
  if (auto* c = std::get_if<ctl_command>(&parsed))
    run_ctl(*c, sys);
  std::cout.flush();
  cache.valid = false; // the command may have changed what completion offers
  return true;
}

} // namespace

bool split_words(const std::string& line, std::vector<std::string>& words,
                 std::string& problem) {
  words.clear();
  std::string cur;
  bool in_word = false;
  char quote = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    char ch = line[i];
    if (quote) {
      if (ch == quote)
        quote = 0;
      else if (ch == '\\' && quote == '"' && i + 1 < line.size())
        cur += line[++i];
      else
        cur += ch;
    } else if (ch == '\'' || ch == '"') {
      quote = ch;
      in_word = true;
    } else if (ch == '\\' && i + 1 < line.size()) {
      cur += line[++i];
      in_word = true;
    } else if (std::isspace(static_cast<unsigned char>(ch))) {
      if (in_word)
        words.push_back(std::move(cur));
      cur.clear();
      in_word = false;
    } else {
      cur += ch;
      in_word = true;
    }
  }
  if (quote) {
    problem = std::string{"unterminated "} + quote + " quote";
    return false;
  }
  if (in_word)
    words.push_back(std::move(cur));
  return true;
}

int run_console(const console_command& con) {
  client_config sc;
  troupe_system sys{sc};
  {
    // Say at once when the cluster is not there, rather than at the first command.
    caf::scoped_actor self{sys};
    std::string problem;
    size_t next = 0;
    if (!connect_any(sys, self, con.targets, con.timeout, &next, problem)) {
      std::cerr << "troupe console: cannot reach the cluster: " << problem << "\n";
      return exit_code::unavailable;
    }
  }
  cache.sys = &sys;
  cache.cmd = &con;
  rl_readline_name = "troupe";
  rl_attempted_completion_function = complete;
  auto history = history_path();
  using_history();
  stifle_history(1000);
  if (!history.empty())
    read_history(history.c_str());
  // Without SA_RESTART: the read under readline() returns, and readline() with it.
  struct sigaction sa {};
  sa.sa_handler = on_prompt_interrupt;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  bool tty = isatty(STDIN_FILENO) != 0;
  if (tty)
    std::cout << "Connected to " << con.connect << ". Type help for the commands, quit to leave.\n";
  for (;;) {
    prompt_interrupted = 0;
    char* raw = readline(tty ? "troupe> " : "");
    if (!raw && prompt_interrupted) {
      std::cout << "^C" << std::endl; // Ctrl-C: the line is dropped, a fresh prompt follows
      continue;
    }
    if (!raw)
      break; // end of input (Ctrl-D)
    std::string line{raw};
    std::free(raw);
    std::vector<std::string> words;
    std::string problem;
    if (line.find_first_not_of(" \t") != std::string::npos) {
      add_history(line.c_str());
      if (!history.empty())
        write_history(history.c_str());
    }
    if (!run_line(line, con, sys))
      break;
  }
  if (tty)
    std::cout << "\n";
  return exit_code::ok;
}

} // namespace troupe
