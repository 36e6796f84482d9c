#include "nodes/inspect_client.hpp"

#include "actors/inspect/console_handler.hpp"
#include "actors/log_roller.hpp"
#include "actors/wire.hpp"
#include "nodes/error_text.hpp"
#include "nodes/exit_codes.hpp"
#include "nodes/interrupts.hpp"
#include "nodes/remote_node.hpp"
#include "nodes/text_table.hpp"
#include "protocols/membership/codec.hpp"

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/common.h>

#include <atomic>
#include <csignal>
#include <iostream>
#include <optional>
#include <thread>

namespace troupe {

namespace {

namespace ms = troupe::membership;
using json = nlohmann::json;

struct member_ref {
  std::string name;
  std::string address;
  std::string state;
};

/// What went wrong with a command, as the one line and exit code the user gets.
struct failure {
  std::string text;
  int code = exit_code::failure;
};

std::vector<member_ref> fetch_members(caf::scoped_actor& self, const caf::actor& node,
                                      duration timeout, std::optional<failure>& fail,
                                      caf::actor_system& sys) {
  std::vector<member_ref> out;
  std::string problem;
  auto r = request_status(sys, self, node, timeout, &problem);
  if (!r) {
    fail = failure{"cannot list the members: " + problem, exit_code::unavailable};
    return out;
  }
  for (auto& m : r->members.members)
    out.push_back({m.name, m.address, ms::to_string(m.state)});
  return out;
}

bool live(const member_ref& m) {
  return m.state == "up" || m.state == "suspect" || m.state == "leaving" || m.state == "joining";
}

/// A session's view of the cluster: the members, and connections to them made on demand.
class cluster_link {
public:
  cluster_link(caf::actor_system& sys, caf::scoped_actor& self, caf::actor node, duration timeout)
    : sys_(sys), self_(self), node_(std::move(node)), timeout_(timeout) {}

  bool load(std::optional<failure>& fail) {
    members_ = fetch_members(self_, node_, timeout_, fail, sys_);
    return !fail;
  }

  const std::vector<member_ref>& members() const { return members_; }

  const member_ref* find(const std::string& name) const {
    for (auto& m : members_)
      if (m.name == name)
        return &m;
    return nullptr;
  }

  /// The inspector-facing actor of member `name`.
  caf::actor connect(const std::string& name, std::optional<failure>& fail) {
    auto* m = find(name);
    if (!m) {
      std::string names;
      for (auto& x : members_)
        names += (names.empty() ? "" : ", ") + x.name;
      fail = failure{"no member named '" + name + "' (members: " + names + ")",
                     exit_code::failure};
      return nullptr;
    }
    if (!live(*m)) {
      fail = failure{"member " + name + " is " + m->state, exit_code::unavailable};
      return nullptr;
    }
    if (auto it = conns_.find(name); it != conns_.end())
      return it->second;
    auto ep = parse_endpoint(m->address);
    std::string problem = "its address '" + m->address + "' is not HOST:PORT";
    caf::actor a = ep ? connect_node(sys_, self_, *ep, timeout_, problem) : caf::actor{};
    if (!a) {
      fail = failure{"cannot reach " + name + " at " + m->address + ": " + problem,
                     exit_code::unavailable};
      return nullptr;
    }
    conns_[name] = a;
    return a;
  }

  /// The members a whole-cluster command asks: `only`, or every live member.
  std::vector<std::string> targets(const std::string& only) const {
    std::vector<std::string> out;
    for (auto& m : members_)
      if (only.empty() ? live(m) : m.name == only)
        out.push_back(m.name);
    if (out.empty() && !only.empty())
      out.push_back(only); // connect() says why it is not there
    return out;
  }

  /// Sends `msg` to member `name` and returns the JSON text it answers.
  std::optional<std::string> ask(const std::string& name, const caf::message& msg,
                                 duration timeout, std::optional<failure>& fail) {
    auto a = name.empty() ? node_ : connect(name, fail);
    if (!a)
      return std::nullopt;
    std::optional<std::string> out;
    self_->request(a, timeout, msg)
      .receive([&](std::string& text) { out = std::move(text); },
               [&](const caf::error& err) {
                 fail = failure{error_text(sys_, err), exit_code_for(err)};
               });
    return out;
  }

  caf::actor_system& sys() { return sys_; }
  duration timeout() const { return timeout_; }

private:
  caf::actor_system& sys_;
  caf::scoped_actor& self_;
  caf::actor node_;
  duration timeout_;
  std::vector<member_ref> members_;
  std::map<std::string, caf::actor> conns_;
};

std::string count_text(const json& v) {
  return v.is_null() ? "-" : std::to_string(v.get<uint64_t>());
}

void print_actor_table(const std::vector<json>& rows) {
  std::vector<std::vector<std::string>> t{
    {"ID", "NAME", "TYPE", "NODE", "MAILBOX", "HANDLED", "RESTARTS", "SUPERVISOR", "STATE"}};
  for (auto& r : rows)
    t.push_back({r.at("id").get<std::string>(),
                 r.at("name").get<std::string>().empty() ? "-" : r.at("name").get<std::string>(),
                 r.at("type").get<std::string>(), r.at("node").get<std::string>(),
                 count_text(r.at("mailbox")), count_text(r.at("handled")),
                 std::to_string(r.at("restarts").get<uint32_t>()),
                 r.at("supervisor").get<std::string>().empty()
                   ? "-"
                   : r.at("supervisor").get<std::string>(),
                 r.at("state").get<std::string>()});
  std::cout << format_table(t);
}

int report(const failure& f, const std::string& prefix) {
  std::cerr << prefix << f.text << "\n";
  return f.code;
}

int do_actors(cluster_link& link, const ctl_command& cmd, const std::string& prefix) {
  std::vector<json> rows;
  json per_node = json::object();
  std::vector<std::string> unreachable;
  std::optional<failure> first_fail;
  auto limit = cmd.limit != 0 ? cmd.limit : cmd.all ? uint64_t{10000} : uint64_t{1000};
  for (auto& name : link.targets(cmd.node)) {
    uint64_t offset = cmd.offset;
    uint64_t total = 0;
    for (size_t pages = 0; pages < 10000; ++pages) {
      std::optional<failure> fail;
      auto text = link.ask(name, caf::make_message(actors_atom::value, offset, limit),
                           link.timeout(), fail);
      if (!text) {
        if (!cmd.node.empty())
          return report(*fail, prefix);
        unreachable.push_back(name);
        if (!first_fail)
          first_fail = fail;
        break;
      }
      auto page = json::parse(*text);
      total = page.at("total").get<uint64_t>();
      auto& items = page.at("actors");
      for (auto& r : items)
        rows.push_back(r);
      offset += items.size();
      if (!cmd.all || items.empty() || offset >= total)
        break;
    }
    per_node[name] = {{"total", total}};
  }
  for (auto& u : unreachable)
    std::cerr << prefix << "skipped " << u << ": " << first_fail->text << "\n";
  if (cmd.json) {
    std::cout << json{{"actors", rows}, {"nodes", per_node}, {"unreachable", unreachable}}.dump()
              << "\n";
    return exit_code::ok;
  }
  print_actor_table(rows);
  uint64_t total = 0;
  for (auto& [n, v] : per_node.items())
    total += v.at("total").get<uint64_t>();
  if (rows.size() < total)
    std::cout << "(" << rows.size() << " of " << total
              << " actors shown: --offset, --limit or --all for more)\n";
  return exit_code::ok;
}

/// Finds the member that has `who`: from --node, the node part of an id, or by asking all.
std::optional<std::string> locate(cluster_link& link, const ctl_command& cmd,
                                  std::optional<failure>& fail) {
  if (!cmd.node.empty())
    return cmd.node;
  if (auto slash = cmd.actor.rfind('/'); slash != std::string::npos) {
    auto node = cmd.actor.substr(0, slash);
    if (link.find(node))
      return node;
    fail = failure{"unknown actor '" + cmd.actor + "': no member named '" + node + "'",
                   exit_code::failure};
    return std::nullopt;
  }
  std::vector<std::string> found;
  std::vector<std::string> unreachable;
  for (auto& name : link.targets({})) {
    std::optional<failure> f;
    if (link.ask(name, caf::make_message(inspect_atom::value, cmd.actor), link.timeout(), f))
      found.push_back(name);
    else if (f && f->code == exit_code::unavailable)
      unreachable.push_back(name);
  }
  if (found.size() == 1)
    return found.front();
  if (found.empty()) {
    std::string text = "unknown actor '" + cmd.actor + "'";
    if (!unreachable.empty()) {
      text += " (not reachable:";
      for (auto& u : unreachable)
        text += " " + u;
      text += ")";
    }
    fail = failure{text, exit_code::failure};
    return std::nullopt;
  }
  std::string names;
  for (auto& n : found)
    names += (names.empty() ? "" : ", ") + n;
  fail = failure{"'" + cmd.actor + "' names actors on several members (" + names
                   + "): give its id or --node",
                 exit_code::failure};
  return std::nullopt;
}

void print_tree_node(const json& n, const std::string& indent, bool last, bool top) {
  std::string line = top ? "" : indent + (last ? "└─ " : "├─ ");
  auto name = n.at("name").get<std::string>();
  line += name.empty() ? n.at("id").get<std::string>() : name;
  auto kind = n.at("kind").get<std::string>();
  line += "  " + (kind == "supervisor" || kind == "service" ? kind : n.at("type").get<std::string>());
  line += "  " + n.at("id").get<std::string>();
  line += "  " + n.at("state").get<std::string>();
  if (n.contains("strategy"))
    line += "  (" + n.at("strategy").get<std::string>() + ")";
  if (!n.at("mailbox").is_null())
    line += "  mailbox " + count_text(n.at("mailbox"));
  if (!n.at("handled").is_null())
    line += "  handled " + count_text(n.at("handled"));
  if (n.at("restarts").get<uint32_t>() > 0)
    line += "  restarts " + std::to_string(n.at("restarts").get<uint32_t>());
  std::cout << line << "\n";
  auto& kids = n.at("children");
  auto child_indent = top ? indent : indent + (last ? "   " : "│  ");
  for (size_t i = 0; i < kids.size(); ++i)
    print_tree_node(kids[i], child_indent, i + 1 == kids.size(), false);
}

int do_tree(cluster_link& link, const ctl_command& cmd, const std::string& prefix) {
  auto trees = json::array();
  for (auto& name : link.targets(cmd.node)) {
    std::optional<failure> fail;
    auto text = link.ask(name, caf::make_message(tree_atom::value), link.timeout(), fail);
    if (!text) {
      if (!cmd.node.empty())
        return report(*fail, prefix);
      std::cerr << prefix << "skipped " << name << ": " << fail->text << "\n";
      continue;
    }
    trees.push_back(json::parse(*text));
  }
  if (cmd.json) {
    std::cout << json{{"nodes", trees}}.dump() << "\n";
    return exit_code::ok;
  }
  for (auto& t : trees) {
    std::cout << t.at("node").get<std::string>() << "\n";
    auto& kids = t.at("children");
    for (size_t i = 0; i < kids.size(); ++i)
      print_tree_node(kids[i], "", i + 1 == kids.size(), false);
  }
  return exit_code::ok;
}

void print_inspect(const json& r) {
  std::vector<std::vector<std::string>> t;
  for (auto key : {"id", "name", "type", "kind", "node", "supervisor", "state", "restarts",
                   "handled", "mailbox", "last_exit", "started_ms"}) {
    auto& v = r.at(key);
    std::string text = v.is_string() ? v.get<std::string>() : v.is_null() ? "-" : v.dump();
    t.push_back({key, text.empty() ? "-" : text});
  }
  std::cout << format_table(t);
  if (r.contains("dump"))
    std::cout << "state:\n" << r.at("dump").get<std::string>() << "\n";
}

int do_logs(cluster_link& link, const ctl_command& cmd, const std::string& prefix) {
  if (cmd.type == "rotate") {
    std::optional<failure> fail;
    auto text = link.ask(cmd.node, write_message(cmd.token, log_rotate_atom::value), link.timeout(),
                         fail);
    if (!text)
      return report(*fail, prefix);
    auto j = json::parse(*text);
    if (cmd.json)
      std::cout << j.dump() << "\n";
    else
      std::cout << "OK rotated " << j.at("file").get<std::string>() << "\n";
    return exit_code::ok;
  }
  auto level = static_cast<int32_t>(spdlog::level::from_str(cmd.level));
  uint64_t after = 0;
  auto print = [&](const json& page) {
    for (auto& l : page.at("lines")) {
      if (cmd.json)
        std::cout << json{{"node", page.at("node")}, {"seq", l.at("seq")}, {"level", l.at("level")},
                          {"text", l.at("text")}}
                       .dump()
                  << "\n";
      else
        std::cout << l.at("text").get<std::string>() << "\n";
    }
    std::cout.flush();
    after = page.at("next").get<uint64_t>();
  };
  std::optional<failure> fail;
  auto text = link.ask(cmd.node, caf::make_message(logs_atom::value, uint64_t{0}, level, cmd.lines),
                       link.timeout(), fail);
  if (!text)
    return report(*fail, prefix);
  print(json::parse(*text));
  if (!cmd.follow)
    return exit_code::ok;
  interrupt_scope interrupts;
  auto interrupted = [] { return interrupt_scope::interrupted(); };
  int code = exit_code::ok;
  while (!interrupted()) {
    for (int i = 0; i < 5 && !interrupted(); ++i) // polls the log every 250 ms
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (interrupted())
      break;
    auto next = link.ask(cmd.node, caf::make_message(logs_atom::value, after, level, uint64_t{5000}),
                         link.timeout(), fail);
    if (!next) {
      code = report(*fail, prefix);
      break;
    }
    print(json::parse(*next));
  }
  return code;
}

/// The key of the event `tell` and `ask` send: --key, else the payload (an actor that keys its
/// state by the event's key, as word-count does, sees what was typed).
std::string event_key(const ctl_command& cmd) {
  return cmd.key.empty() ? cmd.payload : cmd.key;
}

} // namespace

int run_inspect(caf::actor_system& sys, caf::scoped_actor& self, const caf::actor& node,
                const ctl_command& cmd, const std::string& prefix) {
  cluster_link link{sys, self, node, cmd.timeout};
  std::optional<failure> fail;
  if (!link.load(fail))
    return report(*fail, prefix);
  switch (cmd.op) {
    case ctl_command::actors:
      return do_actors(link, cmd, prefix);
    case ctl_command::tree:
      return do_tree(link, cmd, prefix);
    case ctl_command::logs:
      return do_logs(link, cmd, prefix);
    case ctl_command::spawn: {
      auto text = link.ask(cmd.node,
                           write_message(cmd.token, spawn_atom::value, cmd.type, cmd.name, cmd.args,
                                         cmd.count),
                           cmd.timeout, fail);
      if (!text)
        return report(*fail, prefix);
      auto r = json::parse(*text);
      if (cmd.json)
        std::cout << r.dump() << "\n";
      else if (cmd.count == 1)
        std::cout << r.at("ids").at(0).get<std::string>() << "\n";
      else
        std::cout << "OK spawned " << cmd.count << " actors on " << r.at("node").get<std::string>()
                  << "\n";
      return exit_code::ok;
    }
    default:
      break;
  }
  auto where = locate(link, cmd, fail);
  if (!where)
    return report(*fail, prefix);
  std::optional<std::string> text;
  switch (cmd.op) {
    case ctl_command::inspect:
      text = link.ask(*where, caf::make_message(inspect_atom::value, cmd.actor), cmd.timeout, fail);
      if (text && !cmd.json)
        print_inspect(json::parse(*text));
      break;
    case ctl_command::tell:
      text = link.ask(*where, write_message(cmd.token, tell_atom::value, cmd.actor, event_key(cmd), cmd.payload),
                      cmd.timeout, fail);
      if (text && !cmd.json)
        std::cout << "OK\n";
      break;
    case ctl_command::ask: {
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(cmd.timeout).count();
      // The actor gets the whole timeout less a margin for the way back.
      auto budget = static_cast<uint64_t>(std::max<int64_t>(ms - ms / 10, 1));
      text = link.ask(*where,
                      write_message(cmd.token, ask_atom::value, cmd.actor, event_key(cmd), cmd.payload,
                                    budget),
                      cmd.timeout, fail);
      if (text) {
        if (cmd.json)
          std::cout << json{{"ok", true}, {"reply", *text}}.dump() << "\n";
        else
          std::cout << *text << "\n";
        return exit_code::ok;
      }
      break;
    }
    case ctl_command::kill:
      text = link.ask(*where,
                      write_message(cmd.token, kill_atom::value, cmd.actor, cmd.reason, cmd.stop),
                      cmd.timeout, fail);
      if (text && !cmd.json)
        std::cout << "OK killed " << json::parse(*text).at("id").get<std::string>()
                  << (cmd.stop ? " for good" : "") << "\n";
      break;
    default:
      std::cerr << prefix << "not an inspection command\n";
      return exit_code::software;
  }
  if (!text)
    return report(*fail, prefix);
  if (cmd.json)
    std::cout << *text << "\n";
  return exit_code::ok;
}

} // namespace troupe
