// Shared work from inside an actor (after Logstash's design, ../docs/jobs.md): durable queues
// of jobs that the cluster hands to idle worker slots, takes back when a worker dies or an
// attempt runs past its timeout, retries with backoff and keeps as dead letters at the end.
//
// Submitting (acknowledged once the job is durable):
//
//   troupe::jobs::submit(self, ctx, "thumbnails", "img/42.png", {}, std::chrono::seconds(5),
//     [](const troupe::jobs::submitted& s) { ... s.id ... },
//     [](const caf::error& err) { if (err == troupe::jobs_errc::no_queue) ... });
//
// A handler is an ordinary actor type (node.add_actor_type) named by the queue. Each attempt
// of a job starts one instance, which gets one troupe::event: key = the job id, payload = the
// job's payload, headers troupe-job-queue, troupe-job-id, troupe-job-epoch and
// troupe-job-attempt (job_of() reads them). It answers with a std::string when the job
// succeeded, or with an error (its text is the reason) when it failed; then it is stopped.
// An attempt's result counts only while it is the job's running attempt: after a timeout or
// the loss of its worker the job runs elsewhere under a new epoch, and the old handler gets
//   (troupe::jobs::fenced_atom, job id, epoch)
// before it is stopped. Side effects made idempotent by (job id, epoch) happen once: see the
// README's "Shared work".
#pragma once

#include "actors/api/errors.hpp"
#include "actors/api/event.hpp"
#include "actors/api/messages.hpp"

#include <caf/atom.hpp>
#include <caf/error.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace troupe::jobs {

/// (fenced_atom, job id, epoch): to a handler whose attempt no longer counts.
using fenced_atom = caf::atom_constant<caf::atom("t_jfenced")>;

/// The headers of a job's event.
constexpr const char* queue_header = "troupe-job-queue";
constexpr const char* id_header = "troupe-job-id";
constexpr const char* epoch_header = "troupe-job-epoch";
constexpr const char* attempt_header = "troupe-job-attempt";

/// What a handler knows of the attempt it runs.
struct job_info {
  std::string queue;     ///< the queue the job was submitted to
  std::string id;        ///< the job's id (given at submit, or generated)
  uint64_t epoch = 0;    ///< unique per attempt, never reused: a key for idempotent effects
  uint32_t attempt = 0;  ///< 1 for the first
};

/// The attempt an event stands for; nullopt when it is not a job's event.
std::optional<job_info> job_of(const event& ev);

/// How jobs::submit submits a job.
struct submit_options {
  std::string id;  ///< the job's id ("": a new unique one); submitting an id twice is one job
};

/// A submit's acknowledgement: the job is durable.
struct submitted {
  std::string id;          ///< the job's id
  bool duplicate = false;  ///< the queue already had a job with this id
};

/// A new unique job id.
std::string new_job_id();

/// The bytes of a batch submitting payloads[i] as ids[i] to `queue` (internal to submit; the
/// CLI uses it too).
std::string encode_submit(const std::string& queue, const std::vector<std::string>& ids,
                          const std::vector<std::string>& payloads);

/// The error an operation's outcome (as a jobs_cmd reply carries it) stands for; none for a
/// success or a duplicate.
caf::error refusal(uint64_t outcome, const std::string& queue, const std::string& id);

/// Outcome code of a duplicate (the job, or queue, existed already).
constexpr uint64_t duplicate_outcome = 1;

/// Submits `payload` to `queue` through the node of `ctx`: `done(submitted)` once it is
/// durable, `fail(caf::error)` otherwise (jobs_errc::no_queue; raft_errc when no quorum).
template <class Self, class Duration, class Done, class Fail>
void submit(Self* self, const context& ctx, const std::string& queue, std::string payload,
            submit_options opts, Duration timeout, Done done, Fail fail) {
  auto id = opts.id.empty() ? new_job_id() : std::move(opts.id);
  self->request(ctx.node(), timeout, jobs_cmd_atom::value,
                encode_submit(queue, {id}, {std::move(payload)}))
    .then(
      [id, queue, done, fail](const std::vector<uint64_t>& outcomes,
                              const std::vector<uint64_t>&) mutable {
        auto o = outcomes.empty() ? uint64_t{255} : outcomes[0];
        if (auto err = refusal(o, queue, id))
          fail(err);
        else
          done(submitted{id, o == duplicate_outcome});
      },
      [fail](caf::error& err) mutable { fail(err); });
}

} // namespace troupe::jobs
