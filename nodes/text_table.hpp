// Aligned text tables for the command line (`troupe status`, `troupe ctl`).
#pragma once

#include <algorithm>
#include <string>
#include <vector>

namespace troupe {

/// Returns `rows` (the first one is the header) as lines of columns two spaces apart.
inline std::string format_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (auto& r : rows) {
    width.resize(std::max(width.size(), r.size()), 0);
    for (size_t i = 0; i < r.size(); ++i)
      width[i] = std::max(width[i], r[i].size());
  }
  std::string out;
  for (auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i)
      out += r[i] + (i + 1 < r.size() ? std::string(width[i] - r[i].size() + 2, ' ') : "");
    out += '\n';
  }
  return out;
}

} // namespace troupe
