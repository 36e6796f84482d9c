// What operators see of the shared work (`troupe ctl queues`, `ctl jobs QUEUE`, the web view,
// /metrics): the job table rendered as JSON by the leader's replica at a linearizable read.
#pragma once

#include "protocols/jobs/job_table.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace troupe::jobs {

/// What the view shows.
enum class view_kind : uint8_t {
  queues,  // every queue with its configuration and counts, and the workers up
  queue,   // one queue: its counts, running attempts by worker, jobs waiting for a retry
  dead,    // one queue's dead letters (at most `limit`), oldest first
  job,     // one job (`id`)
  list,    // one queue's jobs in `state` (at most `limit`), by id
  tasks,   // every long-running task with its placements
  set,     // the members of set `queue` (at most `limit`)
  member,  // whether `id` is a member of set `queue`
};

struct view_request {
  view_kind kind = view_kind::queues;
  std::string queue;
  std::string id;
  job_state state = job_state::done;
  size_t limit = 1000;
};

/// Parses what a client asks for: "" (queues, or the queue when one is named), "dead",
/// "job:ID", "state:STATE[:LIMIT]" (pending, running, done or dead: at most LIMIT, 100,000 at
/// most, by id); with no queue, "tasks"; with a set's name, "set" (its members, 100,000 at
/// most) or "member:MEMBER"; nullopt when it is none of those.
std::optional<view_request> parse_view(const std::string& queue, const std::string& what);

/// The view as JSON at `now_ms` (ages are measured from it); nullopt when the queue (or job)
/// asked for does not exist.
std::optional<std::string> render_view(const job_table& t, const view_request& r, int64_t now_ms);

} // namespace troupe::jobs
