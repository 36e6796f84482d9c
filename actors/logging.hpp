// One spdlog logger per module, all writing through one sink whose pattern carries the node
// name, so the interleaved output of a coordinator and its workers can be told apart:
//   [2026-11-21T08:30:00.123+0000][info][node-a-worker-2][membership] joined ...
#pragma once

#include <caf/fwd.hpp>
#include <spdlog/fwd.h>

#include <cstdint>

#include <memory>
#include <string>

namespace troupe {
class log_ring;
}

namespace troupe::logging {

/// Sets the node name and level for every logger, existing and future. Call once at start.
/// Returns false when `level` is not a spdlog level name.
bool init(const std::string& node_name, const std::string& level);

/// Returns the logger of `module`, creating it on first use.
std::shared_ptr<spdlog::logger> get(const std::string& module);

/// The node's recent log lines (every logger writes them there too).
std::shared_ptr<log_ring> recent();

/// Sends every line to the log-roller `roller` (see log_roller.hpp) instead of stderr. An
/// invalid handle means the roller is unreachable for now: lines go to stderr, counted.
void ship_to(const caf::actor& roller);

/// Lines go to stderr again, uncounted (the roller is gone for good: the node stops).
void stop_shipping();

/// How many lines went to stderr because the roller was unreachable. They are also held (the
/// last 10,000) and go to the roller first once it is reachable.
uint64_t stderr_lines();

/// How many of those were dropped from the hold before a roller took them (not in the file).
uint64_t dropped_lines();

/// True while lines should go to a log-roller that cannot be reached.
bool roller_unreachable();

} // namespace troupe::logging
