#include "nodes/ctl_arguments.hpp"

#include <algorithm>

namespace troupe {

/// `ctl jobs [show|submit|dead|retry] QUEUE [PAYLOAD|ID]` into `cc`; why not, or "".
std::string jobs_arguments(const std::vector<std::string>& args, ctl_command& cc) {
  static const std::vector<std::string> actions{"show", "submit", "dead", "retry", "list"};
  size_t k = 0;
  cc.action = "show";
  if (std::find(actions.begin(), actions.end(), args[0]) != actions.end())
    cc.action = args[k++];
  if (k >= args.size())
    return "give the queue";
  cc.queue = args[k++];
  auto rest = args.size() - k;
  if (cc.action == "submit") {
    if (rest > 1)
      return "unknown argument '" + args[k + 1] + "'";
    if ((rest == 1) == cc.from_stdin)
      return "give either PAYLOAD or --stdin";
    if (rest == 1)
      cc.payload = args[k];
    if (cc.from_stdin && !cc.job_id.empty())
      return "--id names one job: not with --stdin";
    return {};
  }
  if (cc.from_stdin || !cc.job_id.empty())
    return std::string{cc.from_stdin ? "--stdin" : "--id"} + " is for submit";
  if (cc.action == "retry" && rest == 1) {
    cc.job_id = args[k];
    return {};
  }
  if (cc.action == "list") {
    cc.payload = rest == 1 ? args[k] : "done";
    static const std::vector<std::string> states{"pending", "running", "done", "dead"};
    if (rest > 1 || std::find(states.begin(), states.end(), cc.payload) == states.end())
      return "list QUEUE [pending|running|done|dead]";
    return {};
  }
  if (rest > 0)
    return "unknown argument '" + args[k] + "'";
  return {};
}

/// `ctl tasks [start NAME TYPE | stop NAME]` into `cc`; why not, or "".
std::string tasks_arguments(const std::vector<std::string>& args, ctl_command& cc) {
  cc.action = args.empty() ? "list" : args[0];
  auto want = cc.action == "list" ? 1u : cc.action == "start" ? 3u : cc.action == "stop" ? 2u : 0u;
  if (want == 0)
    return "'" + cc.action + "' is not list, start or stop";
  if (args.size() != want && !(cc.action == "list" && args.empty()))
    return cc.action == "start" ? "tasks start NAME TYPE [--instances N] [--config K=V]"
                                : cc.action == "stop" ? "tasks stop NAME" : "tasks [list]";
  if (args.size() > 1)
    cc.name = args[1];
  if (args.size() > 2)
    cc.type = args[2];
  if (cc.action != "start" && (cc.instances != 1 || !cc.config.empty()))
    return "--instances and --config are for tasks start";
  return {};
}

/// `ctl set add|remove|contains|list NAME [MEMBER]` into `cc`; why not, or "".
std::string set_arguments(const std::vector<std::string>& args, ctl_command& cc) {
  static const std::vector<std::string> actions{"add", "remove", "contains", "list"};
  if (args.empty() || std::find(actions.begin(), actions.end(), args[0]) == actions.end())
    return "give add, remove, contains or list";
  cc.action = args[0];
  auto want = cc.action == "list" ? 2u : 3u;
  if (args.size() != want)
    return "set " + cc.action + " NAME" + (want == 3 ? " MEMBER" : "");
  cc.name = args[1];
  if (want == 3)
    cc.payload = args[2];
  return {};
}

} // namespace troupe
