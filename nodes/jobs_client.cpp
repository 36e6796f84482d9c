#include "nodes/jobs_client.hpp"

#include "actors/api/jobs.hpp"
#include "actors/api/set.hpp"
#include "actors/inspect/console_handler.hpp"
#include "actors/raft/raft_actor.hpp"
#include "nodes/cluster_queries.hpp"
#include "nodes/error_text.hpp"
#include "nodes/exit_codes.hpp"
#include "nodes/text_table.hpp"
#include "protocols/cluster_state/commands.hpp"

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <nlohmann/json.hpp>

#include <iostream>
#include <optional>

namespace troupe {

namespace {

using json = nlohmann::json;

struct job_outcomes {
  std::vector<uint64_t> outcomes;
  int code = exit_code::ok;  // not ok: the batch was not applied (the error is printed)
};

/// Proposes `ops` as one batch; the outcome of each once applied.
job_outcomes propose(caf::actor_system& sys, caf::scoped_actor& self, const caf::actor& node,
                     const ctl_command& cmd, const std::string& prefix,
                     std::vector<jobs::command> ops) {
  job_outcomes out;
  auto bytes = state::encode(state::command{0, 0, state::jobs_cmd{std::move(ops)}});
  self->request(node, cmd.timeout, write_message(cmd.token, jobs_cmd_atom::value, bytes))
    .receive([&](std::vector<uint64_t>& o, std::vector<uint64_t>&) { out.outcomes = std::move(o); },
             [&](const caf::error& err) {
               std::cerr << prefix << error_text(sys, err) << "\n";
               out.code = exit_code_for(err);
             });
  return out;
}

/// The first outcome's error on stderr (returns its exit code), or 0.
int refused(caf::actor_system& sys, const job_outcomes& r, const ctl_command& cmd,
            const std::string& prefix, const std::string& id = {}) {
  if (r.code != exit_code::ok)
    return r.code;
  auto err = jobs::refusal(r.outcomes.empty() ? 255 : r.outcomes[0], cmd.queue, id);
  if (!err)
    return exit_code::ok;
  std::cerr << prefix << error_text(sys, err) << "\n";
  return exit_code_for(err);
}

int queue_change(caf::actor_system& sys, caf::scoped_actor& self, const caf::actor& node,
                 const ctl_command& cmd, const std::string& prefix) {
  jobs::command op;
  if (cmd.action == "create") {
    jobs::queue_config q{cmd.queue,      cmd.handler,      cmd.slots_per_worker,
                         cmd.job_timeout_ms, cmd.max_attempts, cmd.backoff_ms, cmd.keep_done};
    if (auto why = jobs::check_config(q); !why.empty()) {
      std::cerr << prefix << why << "\n";
      return exit_code::usage;
    }
    op = jobs::create_queue_cmd{std::move(q)};
  } else {
    op = jobs::delete_queue_cmd{cmd.queue};
  }
  auto r = propose(sys, self, node, cmd, prefix, {std::move(op)});
  if (auto code = refused(sys, r, cmd, prefix))
    return code;
  bool again = r.outcomes[0] == jobs::duplicate_outcome;
  if (cmd.json)
    std::cout << json{{"ok", true}, {"queue", cmd.queue}, {"existed", again}}.dump() << "\n";
  else if (cmd.action == "create")
    std::cout << "OK " << (again ? "queue exists with this configuration: " : "created queue ")
              << cmd.queue << "\n";
  else
    std::cout << "OK deleted queue " << cmd.queue << "\n";
  return exit_code::ok;
}

std::string age_text(int64_t ms) {
  if (ms <= 0)
    return "-";
  if (ms < 10000 && ms % 1000 != 0)
    return std::to_string(ms) + "ms";
  return std::to_string(ms / 1000) + "s";
}

void print_queues(const json& j) {
  std::vector<std::vector<std::string>> rows{{"QUEUE", "HANDLER", "SLOTS", "TIMEOUT", "PENDING",
                                              "RUNNING", "DONE", "DEAD", "OLDEST PENDING"}};
  for (auto& q : j.at("queues"))
    rows.push_back({q.at("name"), q.at("handler"),
                    std::to_string(q.at("slots_per_worker").get<uint32_t>()),
                    age_text(q.at("timeout_ms").get<int64_t>()),
                    std::to_string(q.at("pending").get<size_t>()),
                    std::to_string(q.at("running").get<size_t>()),
                    std::to_string(q.at("done").get<size_t>()),
                    std::to_string(q.at("dead").get<size_t>()),
                    age_text(q.at("oldest_pending_age_ms").get<int64_t>())});
  std::cout << format_table(rows);
}

void print_queue(const json& q) {
  std::cout << "queue      " << q.at("name").get<std::string>() << " (handler "
            << q.at("handler").get<std::string>() << ", " << q.at("slots_per_worker")
            << " slots per worker, timeout " << age_text(q.at("timeout_ms").get<int64_t>())
            << ", " << q.at("max_attempts") << " attempts, backoff "
            << age_text(q.at("backoff_ms").get<int64_t>()) << ")\n"
            << "pending    " << q.at("pending") << " (" << q.at("retrying")
            << " waiting to retry; oldest " << age_text(q.at("oldest_pending_age_ms").get<int64_t>())
            << ")\n"
            << "running    " << q.at("running") << "\n";
  for (auto& [w, n] : q.at("running_by_worker").items())
    std::cout << "  " << w << "  " << n << "\n";
  std::cout << "done       " << q.at("done");
  if (auto pruned = q.value("pruned", size_t{0}); pruned > 0)
    std::cout << " (" << pruned << " no longer kept)";
  std::cout << "\n"
            << "dead       " << q.at("dead") << "\n";
}

void print_dead(const json& j) {
  std::vector<std::vector<std::string>> rows{{"ID", "ATTEMPTS", "LAST ERROR", "PAYLOAD"}};
  for (auto& d : j.at("dead"))
    rows.push_back({d.at("id"), std::to_string(d.at("attempts").get<uint32_t>()),
                    d.value("last_error", std::string{"-"}), d.at("payload")});
  std::cout << format_table(rows);
  auto total = j.at("total").get<size_t>();
  if (total > j.at("dead").size())
    std::cout << "(" << j.at("dead").size() << " of " << total << " shown; --json for all)\n";
}

void print_list(const json& j) {
  std::vector<std::vector<std::string>> rows{{"ID", "ATTEMPTS", "EPOCH", "WORKER", "LAST ERROR"}};
  for (auto& d : j.at("jobs"))
    rows.push_back({d.at("id"), std::to_string(d.at("attempts").get<uint32_t>()),
                    std::to_string(d.at("epoch").get<uint64_t>()), d.value("worker", std::string{"-"}),
                    d.value("last_error", std::string{"-"})});
  std::cout << format_table(rows);
}

/// `jobs submit QUEUE --stdin`: one job per line, in batches of `batch` (one in flight, so
/// they are submitted in order); prints each id once its batch is durable.
int submit_stdin(caf::actor_system& sys, caf::scoped_actor& self, const caf::actor& node,
                 const ctl_command& cmd, const std::string& prefix) {
  constexpr size_t batch = 1000;
  std::vector<jobs::command> ops;
  std::vector<std::string> ids;
  uint64_t submitted = 0;
  auto flush = [&]() -> int {
    if (ops.empty())
      return exit_code::ok;
    auto r = propose(sys, self, node, cmd, prefix, std::move(ops));
    ops.clear();
    if (r.code != exit_code::ok) {
      std::cerr << prefix << submitted << " jobs were submitted before this\n";
      return r.code;
    }
    for (size_t i = 0; i < ids.size(); ++i) {
      auto err = jobs::refusal(i < r.outcomes.size() ? r.outcomes[i] : 255, cmd.queue, ids[i]);
      if (err) {
        std::cerr << prefix << error_text(sys, err) << " (" << submitted
                  << " jobs were submitted before it)\n";
        return exit_code_for(err);
      }
      ++submitted;
      std::cout << ids[i] << "\n";
    }
    ids.clear();
    return exit_code::ok;
  };
  std::string line;
  while (std::getline(std::cin, line)) {
    ids.push_back(jobs::new_job_id());
    ops.emplace_back(jobs::submit_cmd{cmd.queue, ids.back(), line, 0});
    if (ops.size() >= batch)
      if (auto code = flush())
        return code;
  }
  if (auto code = flush())
    return code;
  std::cout.flush();
  std::cerr << "OK submitted " << submitted << " jobs to " << cmd.queue << "\n";
  return exit_code::ok;
}

int submit_one(caf::actor_system& sys, caf::scoped_actor& self, const caf::actor& node,
               const ctl_command& cmd, const std::string& prefix) {
  auto id = cmd.job_id.empty() ? jobs::new_job_id() : cmd.job_id;
  auto r = propose(sys, self, node, cmd, prefix, {jobs::submit_cmd{cmd.queue, id, cmd.payload, 0}});
  if (auto code = refused(sys, r, cmd, prefix, id))
    return code;
  bool dup = r.outcomes[0] == jobs::duplicate_outcome;
  if (cmd.json)
    std::cout << json{{"id", id}, {"duplicate", dup}}.dump() << "\n";
  else
    std::cout << id << "\n";
  return exit_code::ok;
}

/// `tasks start|stop`: one change through Raft.
int task_change(caf::actor_system& sys, caf::scoped_actor& self, const caf::actor& node,
                const ctl_command& cmd, const std::string& prefix) {
  jobs::command op;
  if (cmd.action == "start") {
    jobs::task_spec t{cmd.name, cmd.type, cmd.instances, {}};
    for (auto& kv : cmd.config) {
      auto eq = kv.find('=');
      t.config[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    if (auto why = jobs::check_task(t); !why.empty()) {
      std::cerr << prefix << why << "\n";
      return exit_code::usage;
    }
    op = jobs::start_task_cmd{std::move(t), 0};
  } else {
    op = jobs::stop_task_cmd{cmd.name, 0};
  }
  ctl_command named = cmd;
  named.queue = cmd.name; // refusals name it
  auto r = propose(sys, self, node, cmd, prefix, {std::move(op)});
  if (auto code = refused(sys, r, named, prefix))
    return code;
  bool again = r.outcomes[0] == jobs::duplicate_outcome;
  if (cmd.json)
    std::cout << json{{"ok", true}, {"task", cmd.name}, {"existed", again}}.dump() << "\n";
  else if (cmd.action == "start")
    std::cout << "OK " << (again ? "task runs already with this configuration: " : "started task ")
              << cmd.name << "\n";
  else
    std::cout << "OK stopped task " << cmd.name << "\n";
  return exit_code::ok;
}

void print_tasks(const json& j) {
  std::vector<std::vector<std::string>> rows{{"TASK", "TYPE", "PARTITION", "WORKER", "EPOCH",
                                              "PLACEMENTS"}};
  for (auto& t : j.at("tasks"))
    for (auto& p : t.at("placements")) {
      auto worker = p.at("worker").get<std::string>();
      if (worker.empty())
        worker = "(waiting)";
      else if (p.value("moving", false))
        worker += " (moving away)";
      else if (!p.at("worker_up").get<bool>())
        worker += " (down)";
      rows.push_back({t.at("name"), t.at("type"),
                      std::to_string(p.at("partition").get<size_t>()) + "/"
                        + std::to_string(t.at("instances").get<uint32_t>()),
                      worker, std::to_string(p.at("epoch").get<uint64_t>()),
                      std::to_string(p.at("placements").get<uint32_t>())});
    }
  std::cout << format_table(rows);
}

/// `set add|remove|contains|list NAME [MEMBER]`. contains exits 1 when it is not a member,
/// as grep does, so that scripts can test it.
int set_command(caf::actor_system& sys, caf::scoped_actor& self, const caf::actor& node,
                const ctl_command& cmd, const std::string& prefix) {
  if (cmd.action == "list")
    return print_query(jobs_query(sys, self, node, cmd.timeout, cmd.name, "set"), cmd.json, prefix,
                       [](const json& j) {
                         for (auto& m : j.at("members"))
                           std::cout << m.get<std::string>() << "\n";
                       });
  if (cmd.action == "contains") {
    auto r = jobs_query(sys, self, node, cmd.timeout, cmd.name, "member:" + cmd.payload);
    if (!r)
      return print_query(r, cmd.json, prefix, [](const json&) {});
    bool member = r.value.at("contains").get<bool>();
    if (cmd.json)
      std::cout << r.value.dump() << "\n";
    else
      std::cout << (member ? "true" : "false") << "\n";
    return member ? exit_code::ok : exit_code::failure;
  }
  bool add = cmd.action == "add";
  if (auto why = jobs::check_set(cmd.name, cmd.payload); !why.empty()) {
    std::cerr << prefix << why << "\n";
    return exit_code::usage;
  }
  auto r = propose(sys, self, node, cmd, prefix, {jobs::set_cmd{cmd.name, cmd.payload, add, 0}});
  if (r.code != exit_code::ok)
    return r.code;
  bool changed = false;
  if (auto err = set::outcome_of(r.outcomes.empty() ? 255 : r.outcomes[0], cmd.name, changed)) {
    std::cerr << prefix << error_text(sys, err) << "\n";
    return exit_code_for(err);
  }
  if (cmd.json)
    std::cout << json{{"ok", true}, {"set", cmd.name}, {"changed", changed}}.dump() << "\n";
  else if (add)
    std::cout << (changed ? "OK added" : "OK already a member") << "\n";
  else
    std::cout << (changed ? "OK removed" : "OK was not a member") << "\n";
  return exit_code::ok;
}

} // namespace

int run_jobs_command(caf::actor_system& sys, caf::scoped_actor& self, const caf::actor& node,
                     const ctl_command& cmd, const std::string& prefix) {
  if (cmd.op == ctl_command::queue_change)
    return queue_change(sys, self, node, cmd, prefix);
  if (cmd.op == ctl_command::tasks)
    return cmd.action == "list" ? print_query(jobs_query(sys, self, node, cmd.timeout, "", "tasks"),
                                              cmd.json, prefix, print_tasks)
                                : task_change(sys, self, node, cmd, prefix);
  if (cmd.op == ctl_command::set)
    return set_command(sys, self, node, cmd, prefix);
  if (cmd.op == ctl_command::queues)
    return print_query(jobs_query(sys, self, node, cmd.timeout, "", ""), cmd.json, prefix,
                       print_queues);
  if (cmd.action == "show")
    return print_query(jobs_query(sys, self, node, cmd.timeout, cmd.queue, ""), cmd.json,
                       prefix, print_queue);
  if (cmd.action == "dead")
    return print_query(jobs_query(sys, self, node, cmd.timeout, cmd.queue, "dead"), cmd.json,
                       prefix, print_dead);
  if (cmd.action == "list")
    return print_query(jobs_query(sys, self, node, cmd.timeout, cmd.queue, "state:" + cmd.payload),
                       cmd.json, prefix, print_list);
  if (cmd.action == "submit")
    return cmd.from_stdin ? submit_stdin(sys, self, node, cmd, prefix)
                          : submit_one(sys, self, node, cmd, prefix);
  // retry
  std::optional<std::string> id;
  if (!cmd.job_id.empty())
    id = cmd.job_id;
  auto r = propose(sys, self, node, cmd, prefix, {jobs::retry_cmd{cmd.queue, id, 0}});
  if (auto code = refused(sys, r, cmd, prefix, cmd.job_id))
    return code;
  if (cmd.json)
    std::cout << json{{"ok", true}, {"queue", cmd.queue}}.dump() << "\n";
  else
    std::cout << "OK " << (id ? "job " + *id : std::string{"every dead letter"})
              << " back in " << cmd.queue << "\n";
  return exit_code::ok;
}

} // namespace troupe
