// Long-running tasks (after Logstash's design, ../docs/jobs.md): `troupe ctl tasks start NAME
// TYPE --instances N` runs N instances of an ordinary actor type over the workers, for work
// that never ends (a consumer per partition, a poller, a prospector that submits jobs). The
// leader places them, a fair share per worker; an instance whose worker is lost starts again
// elsewhere once that worker's lease has run out, and when workers join or leave some move so
// that the shares stay fair. An instance learns its place from its context:
//
//   caf::behavior poller(caf::event_based_actor* self, troupe::context ctx) {
//     auto me = troupe::tasks::task_of(ctx);   // partition me->partition of me->count
//     ...
//     return {
//       [=](troupe::jobs::fenced_atom, const std::string& task, uint64_t epoch) {
//         self->quit();  // moved elsewhere, stopped, or this worker lost its lease
//       },
//     };
//   }
//
// Each placement has a fencing epoch, never reused. A worker runs its instances only while
// its lease with the coordinators holds, so an instance on a worker that was paused or cut
// off is stopped (fenced_atom, then stopped after a grace) before its partition starts
// anywhere else. An instance that dies is started again on the same worker after a second.
#pragma once

#include "actors/api/event.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace troupe::tasks {

/// Where an instance stands in its task.
struct task_info {
  std::string name;        ///< the task
  uint32_t partition = 0;  ///< 0 .. count-1
  uint32_t count = 1;      ///< the task's instances
  uint64_t epoch = 0;      ///< this placement's fencing epoch
};

/// The context::config keys that carry it (besides the task's own --config).
constexpr const char* name_key = "troupe.task";
constexpr const char* partition_key = "troupe.task.partition";
constexpr const char* count_key = "troupe.task.count";
constexpr const char* epoch_key = "troupe.task.epoch";

/// The task instance `ctx` belongs to; nullopt for an actor that is not a task's instance.
std::optional<task_info> task_of(const context& ctx);

} // namespace troupe::tasks
