// The one rule for names that operators type (node names, actor names, cluster ids): 1-64 of
// letters, digits, '-', '_' and '.', so they need no quoting and cannot inject log patterns.
#pragma once

#include <cctype>
#include <string>

namespace troupe {

inline bool valid_name(const std::string& v) {
  if (v.empty() || v.size() > 64)
    return false;
  for (char ch : v)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_' && ch != '.')
      return false;
  return true;
}

} // namespace troupe
