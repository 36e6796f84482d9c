#include "examples/actors/examples.hpp"

#include <caf/event_based_actor.hpp>

#include <fstream>
#include <memory>

namespace troupe::examples {

caf::behavior recorder(caf::event_based_actor* self, context ctx) {
  auto path = (ctx.data_dir.empty() ? std::string{"."} : ctx.data_dir) + "/recorder-"
              + ctx.deployment + ".log";
  auto out = std::make_shared<std::ofstream>(path, std::ios::app);
  if (!*out) {
    self->quit(caf::make_error(caf::sec::runtime_error, "recorder: cannot open " + path));
    return {};
  }
  return {
    [self, out, path](const event& ev) -> caf::result<std::string> {
      *out << ev.key << '\t' << ev.payload << '\n';
      out->flush();
      if (!*out)
        return caf::make_error(caf::sec::runtime_error, "recorder: cannot write " + path);
      return std::string{"ok"};
    },
  };
}

} // namespace troupe::examples
