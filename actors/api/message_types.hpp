// Messages of the user's own types between nodes: what CAF can send to another node is what
// is registered with it (node::add_message_type, on every node).
#pragma once

#include <caf/fwd.hpp>

#include <string>

namespace troupe {

/// Returns "" when every element of `msg` is of a type `sys` can send to another node;
/// otherwise a sentence naming those it cannot, and how to register them.
std::string unregistered_types(caf::actor_system& sys, const caf::message& msg);

} // namespace troupe
