#include "nodes/metrics_text.hpp"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace troupe::metrics {

namespace {

std::string escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string number(double v) {
  if (std::isnan(v))
    return "NaN";
  if (std::isinf(v))
    return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15)
    std::snprintf(buf, sizeof(buf), "%.0f", v);
  else
    std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

} // namespace

std::string render(const std::vector<family>& families) {
  std::ostringstream out;
  for (auto& f : families) {
    out << "# HELP " << f.name << ' ' << f.help << '\n';
    out << "# TYPE " << f.name << ' ' << f.type << '\n';
    for (auto& s : f.samples) {
      out << f.name;
      if (!s.labels.empty()) {
        out << '{';
        bool first = true;
        for (auto& [k, v] : s.labels) {
          out << (first ? "" : ",") << k << "=\"" << escape(v) << '"';
          first = false;
        }
        out << '}';
      }
      out << ' ' << number(s.value) << '\n';
    }
  }
  return out.str();
}

process_stats read_process_stats() {
  process_stats out;
  std::ifstream in{"/proc/self/status"};
  for (std::string line; std::getline(in, line);) {
    std::istringstream words{line};
    std::string key;
    uint64_t value = 0;
    words >> key >> value;
    if (key == "VmRSS:")
      out.rss_bytes = value * 1024; // kB
    else if (key == "Threads:")
      out.threads = value;
  }
  return out;
}

} // namespace troupe::metrics
