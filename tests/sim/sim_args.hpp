// What the simulation suites share: how many seeds to run (TROUPE_SIM_SEEDS overrides the
// suite's default) and the arguments after `--` that replay one failing seed.
#pragma once

#include <caf/test/unit_test.hpp>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

namespace troupe::sim {

inline int seeds(int fallback) {
  if (auto* s = std::getenv("TROUPE_SIM_SEEDS"))
    return std::max(1, std::atoi(s));
  return fallback;
}

/// The arguments after the test binary's own (CAF passes the program name first, then what
/// followed "--"); empty when none were given.
inline std::vector<std::string> replay_args() {
  std::vector<std::string> out;
  auto argv = caf::test::engine::argv();
  for (int i = 1; i < caf::test::engine::argc(); ++i)
    out.emplace_back(argv[i]);
  return out;
}

} // namespace troupe::sim
