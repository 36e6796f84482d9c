// Small helpers the simulations share: reading "key=value" replay options and taking the
// messages that are due off a simulated network.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace troupe::sim {

/// Calls `f(key, value)` for each "key=value" argument (others are skipped).
template <class F>
void for_each_option(const std::vector<std::string>& args, F f) {
  for (auto& a : args) {
    auto eq = a.find('=');
    if (eq != std::string::npos)
      f(a.substr(0, eq), a.substr(eq + 1));
  }
}

/// Removes from `in_flight` the messages (anything with an `at`) due at `now`, in order.
template <class Container>
std::vector<typename Container::value_type> take_due(Container& in_flight, int64_t now) {
  std::vector<typename Container::value_type> due;
  for (auto it = in_flight.begin(); it != in_flight.end();) {
    if (static_cast<int64_t>(it->at) <= now) {
      due.push_back(std::move(*it));
      it = in_flight.erase(it);
    } else {
      ++it;
    }
  }
  return due;
}

} // namespace troupe::sim
