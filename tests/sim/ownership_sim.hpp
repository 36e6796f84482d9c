// A seeded simulation of vnode ownership: the leader's placement and lease rules
// (protocols/ownership/lease.hpp, protocols/placement) and each worker's vnode cores
// (protocols/ownership/vnode_owner), over a network that delays, drops, duplicates and
// reorders, with workers that crash, pause past their lease, are cut off (the leader may see
// the connection close at once), and clocks that run up to `drift` fast or slow.
//
// The coordinators are modelled as one authority (the Raft group, linearizable): it detects
// failures, places vnodes and answers heartbeats. What each coordinator does apart (the
// holder's grace without a leader) is argued in the README, not simulated here.
//
// Checked after every event: no vnode is served by two workers at the same instant of real
// time (served: the worker runs, its core serves the vnode, and its lease holds on its own
// clock). At the end, after a calm period: every vnode is served by its owner, and every
// at-least-once event a client sent was handled and acknowledged.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace troupe::sim {

struct ownership_options {
  uint64_t seed = 1;
  int workers = 4;
  int vnodes = 12;
  int fault_seconds = 10;   // faults happen during this time
  int calm_seconds = 6;     // then none: everything must settle
  double drift = 0.01;      // each clock's rate is within 1 +- drift of real time
  bool lease_margin = true; // the leader waits reassign_after(lease), not just the lease
  bool epoch_order = true;  // cores ignore views older than what they know
};

struct ownership_report {
  bool ok = true;
  std::string violation;
  uint64_t moves = 0;        // vnode moves committed
  uint64_t handoffs = 0;     // states handed over
  uint64_t events = 0;       // client events acknowledged
  uint64_t checks = 0;       // instants checked
};

ownership_report run_ownership(const ownership_options& o);

std::string format_options(const ownership_options& o);
ownership_options parse_ownership_options(const std::vector<std::string>& args,
                                          ownership_options base);

} // namespace troupe::sim
