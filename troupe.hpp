// Troupe's public API in one include: `#include <troupe/troupe.hpp>`.
//   troupe::node     the entry point of a binary (nodes/troupe_node.hpp)
//   troupe::event    what a deployed actor handles; troupe::context, where it runs
//                    (actors/api/event.hpp)
//   troupe::send     events to a deployment from inside an actor; troupe::request for a reply
//                    (actors/api/send.hpp)
#pragma once

#include "actors/api/actor_types.hpp"
#include "actors/api/event.hpp"
#include "actors/api/main_worker.hpp"
#include "actors/api/send.hpp"
#include "actors/api/singleton.hpp"
#include "nodes/troupe_node.hpp"
