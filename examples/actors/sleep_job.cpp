#include "examples/actors/examples.hpp"

#include "actors/api/jobs.hpp"

#include <caf/event_based_actor.hpp>

#include <fstream>

namespace troupe::examples {

namespace {

using sleep_done_atom = caf::atom_constant<caf::atom("sleep_done")>;

/// Appends "<job id>\t<epoch>" to sleep-job.effects in the worker's data dir: the effect whose
/// count tests compare with the job table (one line per successful attempt).
bool record_effect(const context& ctx, const jobs::job_info& job) {
  auto path = (ctx.data_dir.empty() ? std::string{"."} : ctx.data_dir) + "/sleep-job.effects";
  std::ofstream out{path, std::ios::app};
  out << job.id << '\t' << job.epoch << '\n';
  out.flush();
  return static_cast<bool>(out);
}

} // namespace

caf::behavior sleep_job(caf::event_based_actor* self, context ctx) {
  return {
    [self, ctx](const event& ev) -> caf::result<std::string> {
      auto job = jobs::job_of(ev);
      if (!job)
        return caf::make_error(caf::sec::invalid_argument,
                               std::string{"sleep-job runs jobs: submit to a queue whose "
                                           "handler it is"});
      if (ev.payload == "fail")
        return caf::make_error(caf::sec::runtime_error, std::string{"failed, as asked"});
      long ms = -1;
      try {
        size_t used = 0;
        ms = std::stol(ev.payload, &used);
        if (used != ev.payload.size())
          ms = -1;
      } catch (const std::exception&) {
      }
      if (ms < 0 || ms > 3600 * 1000)
        return caf::make_error(caf::sec::invalid_argument,
                               "payload '" + ev.payload
                                 + "' is neither a sleep in ms (0-3600000) nor 'fail'");
      auto rp = self->make_response_promise<std::string>();
      // Sleeps without blocking a scheduler thread: the reply leaves when the timer fires.
      self->delayed_send(self, std::chrono::milliseconds(ms), sleep_done_atom::value);
      self->become(caf::keep_behavior,
                   [self, ctx, rp, job = *job, ms](sleep_done_atom) mutable {
                     if (!record_effect(ctx, job))
                       rp.deliver(caf::make_error(caf::sec::runtime_error,
                                                  std::string{"cannot record the effect"}));
                     else
                       rp.deliver("slept " + std::to_string(ms) + " ms");
                     self->unbecome();
                   });
      return rp;
    },
    [self](jobs::fenced_atom, const std::string&, uint64_t) {
      self->quit(); // its attempt no longer counts: nothing to clean up
    },
  };
}

} // namespace troupe::examples
