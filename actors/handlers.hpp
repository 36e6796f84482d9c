// Builds a typed actor's behavior from groups of handlers, so that a behavior function lists
// its handlers by seam in a few lines (CAF 0.17's typed_behavior has no or_else). Each group
// is a std::tuple of handlers; the typed_behavior checks at compile time that together they
// implement exactly the actor's interface.
#pragma once

#include <caf/message_handler.hpp>

#include <tuple>
#include <utility>

namespace troupe {

template <class Behavior, class... Groups>
Behavior join_handlers(Groups&&... groups) {
  return std::apply([](auto&&... hs) { return Behavior{std::forward<decltype(hs)>(hs)...}; },
                    std::tuple_cat(std::forward<Groups>(groups)...));
}

/// The same handlers for a dynamically typed actor (the node's ingress, which hands on what
/// arrives from the network).
template <class Group>
caf::message_handler as_message_handler(Group&& group) {
  return std::apply(
    [](auto&&... hs) { return caf::message_handler{std::forward<decltype(hs)>(hs)...}; },
    std::forward<Group>(group));
}

} // namespace troupe
