// Bare CAF 0.17's side of scripts/bench/events.sh: the same measurements as the bench-pump
// actor makes through Troupe, with CAF's own remoting (BASP over caf-io) between two
// processes on loopback, with CAF's default settings.
//
//   troupe_caf_peer serve PORT                          publishes a counter/echo actor
//   troupe_caf_peer one_way PORT EVENTS BYTES KEYS      (key, payload) messages one at a time,
//        then asks for the count (it follows every event on the same connection)
//   troupe_caf_peer request PORT COUNT                  round trips, one after the other
//   troupe_caf_peer spawn COUNT                         spawns COUNT idle actors: spawns/s and
//        the resident memory they added, per actor
// The clients print one JSON object, as the bench-pump does.
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

namespace {

using count_atom = caf::atom_constant<caf::atom("count")>;
using clock_type = std::chrono::steady_clock;

caf::behavior counter(caf::event_based_actor*) {
  auto n = std::make_shared<uint64_t>(0);
  return {
    [n](const std::string&, const std::string&) { ++*n; },
    [n](count_atom) { return *n; },
    [](const std::string& x) { return x; },
  };
}

double percentile(std::vector<double>& v, double p) {
  return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

int usage() {
  std::cerr << "usage: troupe_caf_peer serve PORT | one_way PORT EVENTS BYTES KEYS | request "
               "PORT COUNT | spawn COUNT\n";
  return 64;
}

/// This process's resident memory in bytes (VmRSS).
uint64_t rss_bytes() {
  std::ifstream in{"/proc/self/status"};
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stoull(line.substr(6)) * 1024;
  return 0;
}

caf::behavior idle(caf::event_based_actor*) {
  return {[](const std::string& x) { return x; }};
}

int spawn_many(caf::actor_system& sys, uint64_t n) {
  std::vector<caf::actor> actors;
  actors.reserve(n);
  auto before = rss_bytes();
  auto start = clock_type::now();
  for (uint64_t i = 0; i < n; ++i)
    actors.push_back(sys.spawn(idle));
  auto secs = std::chrono::duration<double>(clock_type::now() - start).count();
  auto after = rss_bytes();
  std::cout << nlohmann::json{{"count", n}, {"spawns_per_s", n / secs},
                              {"bytes_per_actor", static_cast<double>(after - before) / n}}
                 .dump()
            << std::endl;
  for (auto& a : actors)
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  std::vector<std::string> a(argv + 1, argv + argc);
  if (a.size() < 2)
    return usage();
  caf::actor_system_config cfg;
  cfg.load<caf::io::middleman>();
  caf::actor_system sys{cfg};
  if (a[0] == "spawn")
    return spawn_many(sys, std::stoull(a[1]));
  auto port = static_cast<uint16_t>(std::stoi(a[1]));
  if (a[0] == "serve") {
    auto peer = sys.spawn(counter);
    auto bound = sys.middleman().publish(peer, port, "127.0.0.1");
    if (!bound) {
      std::cerr << "cannot publish on port " << port << ": " << sys.render(bound.error()) << "\n";
      return 1;
    }
    std::cout << "serving on " << *bound << std::endl;
    for (;;)
      std::this_thread::sleep_for(std::chrono::hours(1)); // until killed
  }
  caf::expected<caf::actor> remote = caf::error{};
  for (int i = 0; i < 100 && !remote; ++i) { // the server may still be starting
    remote = sys.middleman().remote_actor("127.0.0.1", port);
    if (!remote)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!remote) {
    std::cerr << "cannot reach port " << port << ": " << sys.render(remote.error()) << "\n";
    return 1;
  }
  caf::scoped_actor self{sys};
  nlohmann::json out;
  if (a[0] == "one_way" && a.size() == 5) {
    auto n = std::stoull(a[2]);
    std::string payload(std::stoul(a[3]), 'x');
    std::vector<std::string> keys;
    for (size_t i = 0; i < std::max<size_t>(1, std::stoul(a[4])); ++i)
      keys.push_back("t-k" + std::to_string(i));
    uint64_t before = 0;
    self->request(*remote, caf::infinite, count_atom::value).receive([&](uint64_t c) { before = c; },
                                                                     [](caf::error&) {});
    auto start = clock_type::now();
    for (uint64_t i = 0; i < n; ++i)
      self->send(*remote, keys[i % keys.size()], payload);
    uint64_t counted = 0;
    self->request(*remote, caf::infinite, count_atom::value)
      .receive([&](uint64_t c) { counted = c - before; }, [](caf::error&) {});
    auto secs = std::chrono::duration<double>(clock_type::now() - start).count();
    out = {{"counted", counted}, {"secs", secs}, {"msgs_per_s", counted / secs}};
  } else if (a[0] == "request" && a.size() == 3) {
    std::vector<double> us;
    for (uint64_t i = 0, n = std::stoull(a[2]); i < n; ++i) {
      auto start = clock_type::now();
      self->request(*remote, caf::infinite, std::string{"rt-k1"})
        .receive([](const std::string&) {}, [](caf::error&) {});
      us.push_back(std::chrono::duration<double>(clock_type::now() - start).count() * 1e6);
    }
    std::sort(us.begin(), us.end());
    out = {{"count", us.size()}, {"p50_us", percentile(us, 0.5)}, {"p99_us", percentile(us, 0.99)},
           {"p999_us", percentile(us, 0.999)}};
  } else {
    return usage();
  }
  std::cout << out.dump() << std::endl;
  return 0;
}
