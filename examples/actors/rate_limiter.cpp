#include "examples/actors/examples.hpp"

#include <caf/event_based_actor.hpp>

#include <chrono>
#include <memory>
#include <unordered_map>

namespace troupe::examples {

namespace {

struct window {
  caf::actor_clock::time_point start;
  uint64_t count = 0;
};

uint64_t number(const context& ctx, const std::string& key, uint64_t fallback) {
  try {
    auto v = std::stoull(ctx.get(key, std::to_string(fallback)));
    return v == 0 ? fallback : v;
  } catch (const std::exception&) {
    return fallback;
  }
}

} // namespace

caf::behavior rate_limiter(caf::event_based_actor* self, context ctx) {
  auto limit = number(ctx, "limit", 10);
  auto length = std::chrono::milliseconds(number(ctx, "window-ms", 1000));
  auto windows = std::make_shared<std::unordered_map<std::string, window>>();
  return {
    [self, limit, length, windows](const event& ev) {
      // The actor clock, so that tests can drive time.
      auto now = self->clock().now();
      auto& w = (*windows)[ev.key];
      if (w.count == 0 || now - w.start >= length) {
        w.start = now;
        w.count = 0;
      }
      return std::string{++w.count <= limit ? "allowed" : "throttled"};
    },
  };
}

} // namespace troupe::examples
