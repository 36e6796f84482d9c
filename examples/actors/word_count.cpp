#include "examples/actors/examples.hpp"

#include <caf/event_based_actor.hpp>
#include <nlohmann/json.hpp>

#include <memory>
#include <unordered_map>

namespace troupe::examples {

caf::behavior word_count(caf::event_based_actor* self, context) {
  // The counts live in the behavior's closures: a function-based actor keeps state this way.
  auto counts = std::make_shared<std::unordered_map<std::string, uint64_t>>();
  return {
    [counts](const event& ev) {
      auto& n = (*counts)[ev.key];
      if (!ev.payload.empty())
        ++n;
      return std::to_string(n);
    },
    [counts](snapshot_atom) { return nlohmann::json(*counts).dump(); },
    // What `troupe ctl inspect` shows of its state.
    [counts](dump_atom) { return std::to_string(counts->size()) + " keys: " + nlohmann::json(*counts).dump(); },
    [self, counts](restore_atom, const std::string& bytes) {
      auto j = nlohmann::json::parse(bytes, nullptr, false);
      if (j.is_discarded() || !j.is_object()) {
        self->quit(caf::make_error(caf::sec::invalid_argument, "word-count: bad snapshot"));
        return;
      }
      *counts = j.get<std::unordered_map<std::string, uint64_t>>();
    },
  };
}

} // namespace troupe::examples
