#include "nodes/node_config.hpp"

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

} // namespace troupe
