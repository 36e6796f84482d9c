#include "examples/actors/examples.hpp"

#include "actors/api/bus.hpp"

#include <caf/event_based_actor.hpp>

#include <memory>
#include <string>
#include <vector>

namespace troupe::examples {

namespace {

std::string pick(const context& ctx, size_t arg, const std::string& key,
                 const std::string& fallback) {
  return ctx.args.size() > arg ? ctx.args[arg] : ctx.get(key, fallback);
}

} // namespace

caf::behavior bulletin(caf::event_based_actor* self, context ctx) {
  auto ns = pick(ctx, 0, "namespace", "bulletin");
  auto topic = pick(ctx, 1, "topic", "news");
  auto seen = std::make_shared<std::vector<std::string>>();
  troupe::bus bus{self, ctx, ns};
  bus.subscribe(topic, [seen](const bus_message& m) {
    seen->push_back(m.origin + ":" + m.payload);
  });
  auto board = [seen] {
    std::string out;
    for (auto& s : *seen)
      out += (out.empty() ? "" : ",") + s;
    return out;
  };
  return bus.handler().or_else(caf::message_handler{
    [=](const event& ev) mutable -> std::string {
      auto& p = ev.payload;
      for (auto [verb, opts] : {std::pair<const char*, publish_options>{"publish ", {}},
                                {"publish-self ", {true, false}},
                                {"persist ", {false, true}}})
        if (p.rfind(verb, 0) == 0) {
          bus.publish(topic, p.substr(std::string{verb}.size()), opts);
          return "published";
        }
      return board();
    },
    [=](dump_atom) { return board(); },
  });
}

} // namespace troupe::examples
