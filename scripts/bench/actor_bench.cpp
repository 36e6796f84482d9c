// What the console's per-actor counters cost on the message path: the same echo actor spawned
// as bare CAF (sys.spawn) and as Troupe runs user actors (counted), in the same process,
// alternating trials. Each trial sends N events from one sender and waits for the last reply.
//
//   troupe_actor_bench [--messages N] [--trials K]    prints one JSON object per trial
#include "actors/api/counted_actor.hpp"
#include "actors/wire.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>

namespace {

caf::behavior echo(caf::event_based_actor*, troupe::context) {
  return {[](const troupe::event& ev) { return ev.payload; }};
}

double run_trial(caf::actor_system& sys, const caf::actor& target, uint64_t n) {
  caf::scoped_actor self{sys};
  troupe::event ev{"k", "p", {}};
  auto start = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i + 1 < n; ++i)
    caf::anon_send(target, ev);
  self->request(target, caf::infinite, ev).receive([](const std::string&) {},
                                                     [](const caf::error&) {});
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return static_cast<double>(n) / secs;
}

} // namespace

int main(int argc, char** argv) {
  uint64_t n = 2'000'000;
  int trials = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--messages")
      n = std::strtoull(argv[i + 1], nullptr, 10);
    else if (a == "--trials")
      trials = std::atoi(argv[i + 1]);
  }
  caf::actor_system_config cfg;
  troupe::register_types(cfg);
  cfg.set("scheduler.max-threads", 2);
  caf::actor_system sys{cfg};
  auto bare = sys.spawn(echo, troupe::context{});
  auto stats = std::make_shared<troupe::actor_stats>();
  auto counted = troupe::spawn_counted(sys, echo, std::make_shared<const troupe::context>(), stats);
  for (int t = 0; t < trials; ++t)
    for (auto kind : {"bare_caf", "counted"}) {
      auto rate = run_trial(sys, std::string{kind} == "bare_caf" ? bare : counted, n);
      std::cout << nlohmann::json{{"bench", "actor_message_path"}, {"system", kind},
                                  {"trial", t + 1}, {"messages", n}, {"msgs_per_s", rate}}
                     .dump()
                << std::endl;
    }
  caf::anon_send_exit(bare, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(counted, caf::exit_reason::user_shutdown);
  return 0;
}
