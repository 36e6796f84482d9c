// The Prometheus text exposition format (version 0.0.4), for GET /metrics. Debian packages no
// Prometheus client library for C++, and the format is a few lines: families of samples, each
// family with its HELP and TYPE, label values escaped.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace troupe::metrics {

struct sample {
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct family {
  std::string name;  // [a-zA-Z_:][a-zA-Z0-9_:]*
  std::string help;
  std::string type;  // "counter" or "gauge"
  std::vector<sample> samples;
};

/// Returns the families as Prometheus text.
std::string render(const std::vector<family>& families);

/// Reads this process's resident memory (bytes) and thread count from /proc/self/status.
struct process_stats {
  uint64_t rss_bytes = 0;
  uint64_t threads = 0;
};
process_stats read_process_stats();

} // namespace troupe::metrics
