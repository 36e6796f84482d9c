#include "examples/actors/examples.hpp"
#include "examples/file_ingest/file_ingest.hpp"

#include <caf/event_based_actor.hpp>

namespace troupe::examples {

caf::behavior echo(caf::event_based_actor*, context) {
  return {
    [](const event& ev) { return ev.payload; },
  };
}

void register_examples(actor_types& types) {
  types.add("echo", echo);
  types.add("word-count", word_count);
  types.add("recorder", recorder);
  types.add("rate-limiter", rate_limiter);
  types.add("chatter", chatter);
  types.add("fenced-counter", fenced_counter);
  types.add("bulletin", bulletin);
  types.add("sleep-job", sleep_job);
  types.add("beacon", beacon);
  register_file_ingest(types);
}

} // namespace troupe::examples
