// The options of `troupe run`, declared once each with its default, help and check: on the
// command line (`--name`) and in the [troupe] section of a CAF-format config file (`name`).
#pragma once

#include "nodes/node_config.hpp"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace troupe {

/// Applies a textual value to the config; returns the problem, or "" when the value is fine.
using setter = std::function<std::string(node_config&, const std::string&)>;

struct option_spec {
  std::string name;        // --name on the command line, name in [troupe]
  std::string value_name;  // "PORT"; empty for flags
  std::string help;
  std::string default_text;
  setter set;              // for flags: called with "true"
  bool internal = false;   // set by a coordinator for its local workers, not shown in --help
};

const std::vector<option_spec>& option_table();

const option_spec* find_option(const std::string& name);

/// A setter for a HOST:PORT,... list (also used by the client commands' --connect).
setter endpoints_setter(std::vector<endpoint> node_config::*field);

/// Reads the [troupe] section of `path` into `cfg` for each option not in `given`.
std::optional<config_error> apply_config_file(const std::string& path,
                                              const std::map<std::string, bool>& given,
                                              node_config& cfg);

/// Fills in the defaults that depend on other settings and checks the settings together.
std::optional<config_error> finish(node_config& c);

} // namespace troupe
