#include "examples/actors/examples.hpp"

#include "actors/api/main_worker.hpp"
#include "actors/logging.hpp"
#include "actors/raft/raft_actor.hpp"

#include <caf/event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>
#include <random>
#include <sstream>

namespace troupe::examples {

namespace {

using fc_tick = caf::atom_constant<caf::atom("fc_tick")>;

struct fc_state {
  std::string key;
  uint64_t epoch = 0;    // the main worker epoch this instance started under
  uint64_t count = 0;    // the last count it wrote
  uint64_t client = 0;
  uint64_t seq = 0;
  bool stopped = false;
};

/// "<epoch> <count>" as stored; false when it is not that.
bool parse(const std::string& v, uint64_t& epoch, uint64_t& count) {
  std::istringstream in{v};
  return static_cast<bool>(in >> epoch >> count);
}

} // namespace

caf::behavior fenced_counter(caf::event_based_actor* self, context ctx) {
  auto st = std::make_shared<fc_state>();
  st->key = ctx.get("key", "troupe/examples/fenced-counter/" + ctx.deployment);
  st->epoch = main_worker_epoch();
  st->client = std::random_device{}();
  auto log = logging::get("fenced-counter");
  log->info("started under main worker epoch {}", st->epoch);
  self->send(self, fc_tick::value);
  return {
    [=](fc_tick) {
      if (st->stopped || !ctx.node())
        return;
      self->request(ctx.node(), std::chrono::seconds(2), kv_get_atom::value, st->key)
        .then(
          [=](bool found, const std::string& value, uint64_t mod, uint64_t) {
            uint64_t epoch = 0;
            uint64_t count = 0;
            if (found && !parse(value, epoch, count)) {
              log->error("{} holds '{}', not '<epoch> <count>'", st->key, value);
              return;
            }
            if (epoch > st->epoch) {
              // A later main worker's instance writes: this one must not run any more.
              log->error("RUNNING TWICE: epoch {} wrote {} while this instance of epoch {} runs",
                         epoch, st->key, st->epoch);
              st->stopped = true;
              self->quit();
              return;
            }
            auto next = std::to_string(st->epoch) + " " + std::to_string(count + 1);
            self
              ->request(ctx.node(), std::chrono::seconds(2), kv_put_atom::value, st->key, next,
                        static_cast<int64_t>(found ? mod : 0), st->client, ++st->seq)
              .then(
                [=](bool ok, uint64_t) {
                  if (!ok)
                    log->error("RUNNING TWICE: {} changed under this instance (epoch {})",
                               st->key, st->epoch);
                  else
                    st->count = count + 1;
                  self->delayed_send(self, std::chrono::milliseconds(50), fc_tick::value);
                },
                [=](const caf::error&) {
                  self->delayed_send(self, std::chrono::milliseconds(50), fc_tick::value);
                });
          },
          [=](const caf::error&) {
            self->delayed_send(self, std::chrono::milliseconds(50), fc_tick::value);
          });
    },
    [=](const event&) { return std::to_string(st->epoch) + " " + std::to_string(st->count); },
  };
}

} // namespace troupe::examples
