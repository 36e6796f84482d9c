// Time in the pure protocol code is always an argument, never read from a clock: the actors
// pass their clock's now() in, tests pass whatever they like.
#pragma once

#include <chrono>

namespace troupe {

using clock_type = std::chrono::steady_clock;
using time_point = clock_type::time_point;
using duration = clock_type::duration;
using std::chrono::milliseconds;

} // namespace troupe
