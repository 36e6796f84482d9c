#include "actors/wire.hpp"

#include "actors/errors.hpp"

#include "actors/api/event.hpp"
#include "actors/jobs/job_messages.hpp"
#include "actors/raft/raft_actor.hpp"

#include <caf/actor_system_config.hpp>

#include <string>
#include <vector>

namespace troupe {

void register_types(caf::actor_system_config& cfg) {
  add_error_categories(cfg); // errors render as their text, in nodes and clients alike
  cfg.add_message_type<frame>("troupe.frame");
  cfg.add_message_type<event>("troupe.event");
  cfg.add_message_type<raft_frame>("troupe.raft_frame");
  cfg.add_message_type<raft_status>("troupe.raft_status");
  cfg.add_message_type<std::vector<raft_status>>("std::vector<troupe.raft_status>");
  cfg.add_message_type<std::vector<std::string>>("std::vector<std::string>");
  cfg.add_message_type<std::vector<uint64_t>>("std::vector<uint64_t>");
  cfg.add_message_type<std::vector<uint32_t>>("std::vector<uint32_t>");
  cfg.add_message_type<job_handout>("troupe.job_handout");
  cfg.add_message_type<std::vector<job_handout>>("std::vector<troupe.job_handout>");
  cfg.add_message_type<task_assignment>("troupe.task_assignment");
  cfg.add_message_type<std::vector<task_assignment>>("std::vector<troupe.task_assignment>");
}

} // namespace troupe
