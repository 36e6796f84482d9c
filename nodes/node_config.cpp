#include "nodes/node_config.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>

namespace troupe {

bool parse_duration(std::string_view text, duration& out) {
  uint64_t n = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || ptr == text.data())
    return false;
  std::string_view unit{ptr, static_cast<size_t>(text.data() + text.size() - ptr)};
  using namespace std::chrono;
  // Bound n so that the conversion below cannot overflow (a day in ns fits easily).
  if (n > 1'000'000'000'000ULL)
    return false;
  if (unit == "ns")
    out = duration_cast<duration>(nanoseconds(n));
  else if (unit == "us")
    out = duration_cast<duration>(microseconds(n));
  else if (unit == "ms")
    out = duration_cast<duration>(milliseconds(n));
  else if (unit == "s")
    out = duration_cast<duration>(seconds(n));
  else if (unit == "min")
    out = duration_cast<duration>(minutes(n));
  else if (unit == "h")
    out = duration_cast<duration>(hours(n));
  else
    return false;
  return true;
}

std::string format_duration(duration d) {
  using namespace std::chrono;
  auto ns = duration_cast<nanoseconds>(d).count();
  if (ns % 3'600'000'000'000 == 0 && ns != 0)
    return std::to_string(ns / 3'600'000'000'000) + "h";
  if (ns % 60'000'000'000 == 0 && ns != 0)
    return std::to_string(ns / 60'000'000'000) + "min";
  if (ns % 1'000'000'000 == 0 && ns != 0)
    return std::to_string(ns / 1'000'000'000) + "s";
  if (ns % 1'000'000 == 0)
    return std::to_string(ns / 1'000'000) + "ms";
  if (ns % 1'000 == 0)
    return std::to_string(ns / 1'000) + "us";
  return std::to_string(ns) + "ns";
}

coordinator_group resolve_group(const node_config& cfg, std::optional<config_error>& error) {
  coordinator_group g;
  if (cfg.peers.empty()) {
    g.members.push_back(endpoint{cfg.bind, cfg.cluster_port});
    return g;
  }
  g.members = cfg.peers;
  std::sort(g.members.begin(), g.members.end(), [](const endpoint& a, const endpoint& b) {
    return a.to_string() < b.to_string();
  });
  auto n = g.members.size();
  if (n != 1 && n != 3 && n != 5 && n != 7) {
    error = config_error{"--peers", std::to_string(n) + " coordinators: use 1, 3, 5 or 7 (an even "
                                    "group tolerates no more failures than the odd one below it)"};
    return g;
  }
  for (size_t i = 1; i < n; ++i)
    if (g.members[i] == g.members[i - 1]) {
      error = config_error{"--peers", "'" + g.members[i].to_string() + "' is listed twice"};
      return g;
    }
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  auto is_me = [&](const endpoint& e) {
    if (e.port != cfg.cluster_port)
      return false;
    bool loopback_bind = cfg.bind == "127.0.0.1" || cfg.bind == "localhost" || cfg.bind == "::1";
    return e.host == cfg.bind || e.host == host
           || (loopback_bind && (e.host == "127.0.0.1" || e.host == "localhost"));
  };
  size_t found = 0;
  for (size_t i = 0; i < n; ++i)
    if (is_me(g.members[i])) {
      g.self = i;
      ++found;
    }
  if (found != 1)
    error = config_error{"--peers", found == 0 ? "must include this node itself (" + cfg.bind + ":"
                                                   + std::to_string(cfg.cluster_port) + ")"
                                               : "names this node more than once"};
  return g;
}

} // namespace troupe
