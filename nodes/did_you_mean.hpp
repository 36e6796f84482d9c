// "Did you mean": the known word closest to a mistyped command or option, by edit distance
// (insertions, deletions, substitutions and swaps of two neighbours).
#pragma once

#include <string>
#include <vector>

namespace troupe {

/// The candidate closest to `word` when it is close enough to be a typo (at most two edits,
/// and fewer than the word has letters), else "".
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

/// " (did you mean 'X'?)" for did_you_mean's answer, or "".
std::string did_you_mean_hint(const std::string& word, const std::vector<std::string>& candidates);

} // namespace troupe
