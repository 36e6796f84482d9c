#include "actors/api/jobs.hpp"

#include "protocols/cluster_state/commands.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>

namespace troupe::jobs {

std::optional<job_info> job_of(const event& ev) {
  auto get = [&](const char* h) -> const std::string* {
    auto it = ev.headers.find(h);
    return it == ev.headers.end() ? nullptr : &it->second;
  };
  auto* q = get(queue_header);
  auto* id = get(id_header);
  auto* ep = get(epoch_header);
  auto* at = get(attempt_header);
  if (!q || !id || !ep || !at)
    return std::nullopt;
  try {
    return job_info{*q, *id, std::stoull(*ep), static_cast<uint32_t>(std::stoul(*at))};
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string new_job_id() {
  // Time-ordered (ms since the epoch, hex) then random: unique without coordination, and
  // sorted roughly by submission in listings.
  static thread_local std::mt19937_64 rng{std::random_device{}()
                                          ^ static_cast<uint64_t>(
                                            std::chrono::steady_clock::now().time_since_epoch().count())};
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
              std::chrono::system_clock::now().time_since_epoch())
              .count();
  char buf[40];
  std::snprintf(buf, sizeof buf, "%011llx-%016llx", static_cast<unsigned long long>(ms),
                static_cast<unsigned long long>(rng()));
  return buf;
}

std::string encode_submit(const std::string& queue, const std::vector<std::string>& ids,
                          const std::vector<std::string>& payloads) {
  state::jobs_cmd c;
  for (size_t i = 0; i < ids.size() && i < payloads.size(); ++i)
    c.ops.emplace_back(submit_cmd{queue, ids[i], payloads[i], 0});
  return state::encode(state::command{0, 0, std::move(c)});
}

caf::error refusal(uint64_t o, const std::string& queue, const std::string& id) {
  auto text = [&](const std::string& s) { return caf::make_message(s); };
  switch (static_cast<outcome>(o)) {
    case outcome::ok:
    case outcome::duplicate:
      return caf::none;
    case outcome::no_queue:
      return caf::make_error(jobs_errc::no_queue,
                             text("no queue '" + queue + "' (troupe ctl queue create)"));
    case outcome::exists:
      return caf::make_error(jobs_errc::exists,
                             text("'" + queue + "' exists with another configuration"));
    case outcome::stale_attempt:
      return caf::make_error(jobs_errc::fenced,
                             text("job '" + id + "': not its running attempt (fenced)"));
    case outcome::no_job:
      return caf::make_error(jobs_errc::no_job,
                             text("no job '" + id + "' in queue '" + queue + "'"));
    case outcome::no_task:
      return caf::make_error(jobs_errc::no_task,
                             text("no task '" + queue + "' (see troupe ctl tasks)"));
    case outcome::not_pending:
      return caf::make_error(jobs_errc::not_dead,
                             text("job '" + id + "' is not a dead letter"));
    default:
      return caf::make_error(jobs_errc::invalid,
                             text(id.empty() ? std::string{"invalid"}
                                             : "job '" + id + "' of '" + queue + "': invalid"));
  }
}

} // namespace troupe::jobs
