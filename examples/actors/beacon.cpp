#include "examples/actors/examples.hpp"

#include "actors/api/jobs.hpp"
#include "actors/api/tasks.hpp"

#include <caf/event_based_actor.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>

namespace troupe::examples {

namespace {

using beat_atom = caf::atom_constant<caf::atom("beat")>;

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

} // namespace

caf::behavior beacon(caf::event_based_actor* self, context ctx) {
  auto me = tasks::task_of(ctx);
  long ms = 100;
  try {
    ms = std::clamp(std::stol(ctx.get("interval-ms", "100")), 10L, 60000L);
  } catch (const std::exception&) {
    // not a number: the default
  }
  auto interval = std::chrono::milliseconds(ms);
  auto path = (ctx.data_dir.empty() ? std::string{"."} : ctx.data_dir) + "/"
              + (me ? me->name : std::string{"beacon"}) + ".beats";
  auto beats = std::make_shared<uint64_t>(0);
  if (me)
    self->send(self, beat_atom::value);
  return {
    [=](beat_atom) {
      // The effect only while this worker's lease holds: a worker that was paused or cut off
      // may have had its partitions placed elsewhere by now.
      if (ctx.may_serve()) {
        std::ofstream out{path, std::ios::app};
        out << me->name << '\t' << me->partition << '\t' << me->count << '\t' << me->epoch
            << '\t' << wall_ms() << '\n';
        ++*beats;
      }
      self->delayed_send(self, interval, beat_atom::value);
    },
    [=](const event&) -> std::string {
      if (!me)
        return "not a task instance";
      return "partition " + std::to_string(me->partition) + "/" + std::to_string(me->count)
             + " epoch " + std::to_string(me->epoch) + " beats " + std::to_string(*beats);
    },
    [self](jobs::fenced_atom, const std::string&, uint64_t) { self->quit(); },
  };
}

} // namespace troupe::examples
