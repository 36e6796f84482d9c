// The positional arguments of `troupe ctl jobs|tasks|set`, checked and put into a
// ctl_command: CLI11 reads them as a list, these say what the list means.
#pragma once

#include "nodes/cli.hpp"

#include <string>
#include <vector>

namespace troupe {

/// `ctl jobs [show|submit|dead|retry|list] QUEUE [PAYLOAD|ID|STATE]` into `cc`; why not, or "".
std::string jobs_arguments(const std::vector<std::string>& args, ctl_command& cc);

/// `ctl tasks [start NAME TYPE | stop NAME]` into `cc`; why not, or "".
std::string tasks_arguments(const std::vector<std::string>& args, ctl_command& cc);

/// `ctl set add|remove|contains|list NAME [MEMBER]` into `cc`; why not, or "".
std::string set_arguments(const std::vector<std::string>& args, ctl_command& cc);

} // namespace troupe
