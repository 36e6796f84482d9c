#include "nodes/did_you_mean.hpp"

#include <algorithm>

namespace troupe {

namespace {

/// Optimal string alignment distance: Levenshtein plus transpositions of neighbours ("stauts").
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i)
    d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j)
    d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i)
    for (size_t j = 1; j <= b.size(); ++j) {
      auto cost = a[i - 1] == b[j - 1] ? 0u : 1u;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

} // namespace

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = 3; // more than two edits is not a typo
  for (auto& c : candidates) {
    auto d = edit_distance(word, c);
    if (d < best_distance && d < word.size()) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

std::string did_you_mean_hint(const std::string& word, const std::vector<std::string>& candidates) {
  auto best = did_you_mean(word, candidates);
  return best.empty() ? std::string{} : " (did you mean '" + best + "'?)";
}

} // namespace troupe
