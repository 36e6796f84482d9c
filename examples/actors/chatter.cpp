#include "examples/actors/examples.hpp"

#include "actors/logging.hpp"

#include <caf/event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>
#include <string>

namespace troupe::examples {

namespace {

using chatter_tick = caf::atom_constant<caf::atom("chat_tick")>;

uint64_t arg(const context& ctx, size_t i, uint64_t fallback) {
  if (i >= ctx.args.size())
    return fallback;
  try {
    return std::stoull(ctx.args[i]);
  } catch (const std::exception&) {
    return fallback;
  }
}

} // namespace

caf::behavior chatter(caf::event_based_actor* self, context ctx) {
  auto count = arg(ctx, 0, 1000);
  auto rate = std::max<uint64_t>(arg(ctx, 1, 1000), 100);
  auto log = logging::get("chatter");
  auto next = std::make_shared<uint64_t>(1);
  // Every 10 ms, a hundredth of the rate; the padding makes a torn line easy to see.
  const std::string pad(48, '=');
  self->send(self, chatter_tick::value);
  return {
    [=](chatter_tick) {
      for (uint64_t i = 0; i < rate / 100 && *next <= count; ++i, ++*next)
        log->info("line {} of {} {}", *next, count, pad);
      if (*next <= count)
        self->delayed_send(self, std::chrono::milliseconds(10), chatter_tick::value);
      else
        log->info("done: {} lines", count);
    },
    [=](const event&) { return std::to_string(*next - 1); },
  };
}

} // namespace troupe::examples
