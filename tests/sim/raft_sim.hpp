// A seeded simulation of a Raft group in one process: the real `troupe::raft` state machines,
// each with a simulated disk and KV state machine, on a simulated network that drops,
// duplicates, delays and reorders messages and suffers partitions, while nodes crash (some
// losing writes they had not synced yet), restart, and tick at skewed rates. Clients run
// writes, reads and compare-and-sets against it. Every step checks Raft's safety properties
// (Raft paper figure 3); at the end the client history is checked for linearizability.
#pragma once

#include "protocols/raft/raft.hpp"
#include "tests/sim/linearizability.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace troupe::sim {

struct sim_options {
  uint64_t seed = 1;
  int nodes = 3;
  int steps = 3000;
  int clients = 3;
  int keys = 3;
  double drop = 0.05;           // per message
  double duplicate = 0.02;      // per message
  int max_delay = 4;            // steps; random delays reorder messages
  double crash = 0.002;         // per step, per node
  double lose_unsynced = 0.5;   // of crashes: the crash hits between taking a Ready and syncing it
  double restart = 0.02;        // per step, per crashed node
  double partition = 0.004;     // per step: start a partition (symmetric, asymmetric, one-node)
  double heal = 0.02;           // per step: heal partitions
  bool flapping = false;        // partitions toggle every few steps for a while
  double skew = 0.3;            // tick rates vary in [1 - skew, 1 + skew]
  int snapshot_every = 40;      // applied entries between snapshots
  bool transfers = true;        // leaders sometimes transfer leadership
  int client_timeout = 60;      // steps before a client gives up (outcome unknown)
};

/// Returns a one-line form of the options that `parse_options` reads back (for replay).
std::string format_options(const sim_options& o);

/// Reads "seed=5 nodes=3 ..." pairs over the defaults. Unknown keys are ignored.
sim_options parse_options(const std::vector<std::string>& args, sim_options base = {});

struct sim_report {
  bool ok = true;
  std::string violation;       // the first safety violation, with context
  size_t committed = 0;        // highest index applied anywhere
  size_t leaders = 0;          // distinct (term, leader) pairs seen
  size_t ops_ok = 0;           // client operations with a known outcome
  size_t ops_unknown = 0;
  check_result linearizability;
};

/// Runs one simulation.
sim_report run_simulation(const sim_options& opts);

} // namespace troupe::sim
