// Builds a typed actor's behavior from groups of handlers, so that a behavior function lists
// its handlers by seam in a few lines (CAF 0.17's typed_behavior has no or_else). Each group
// is a std::tuple of handlers; the typed_behavior checks at compile time that together they
// implement exactly the actor's interface.
#pragma once

#include <tuple>
#include <utility>

namespace troupe {

template <class Behavior, class... Groups>
Behavior join_handlers(Groups&&... groups) {
  return std::apply([](auto&&... hs) { return Behavior{std::forward<decltype(hs)>(hs)...}; },
                    std::tuple_cat(std::forward<Groups>(groups)...));
}

} // namespace troupe
