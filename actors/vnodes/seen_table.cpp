#include "actors/vnodes/seen_table.hpp"

#include <algorithm>
#include <charconv>

namespace troupe {

bool seen_seqs::contains(uint64_t seq) const {
  if (seqs_.empty() || seq > seqs_.back() || seq < seqs_.front())
    return false;
  return std::binary_search(seqs_.begin(), seqs_.end(), seq);
}

void seen_seqs::insert(uint64_t seq) {
  if (seqs_.empty() || seq > seqs_.back()) {
    seqs_.push_back(seq);
  } else {
    auto at = std::lower_bound(seqs_.begin(), seqs_.end(), seq);
    if (*at == seq)
      return;
    seqs_.insert(at, seq);
  }
  if (seqs_.size() > limit_)
    seqs_.pop_front();
}

void seen_seqs::erase(uint64_t seq) {
  auto at = std::lower_bound(seqs_.begin(), seqs_.end(), seq);
  if (at != seqs_.end() && *at == seq)
    seqs_.erase(at);
}

std::string encode_seen(const seen_table& t) {
  // A sender numbers its events in order: most tables are a few runs, written "from-to".
  std::string out;
  for (auto& [sender, seqs] : t) {
    out += std::to_string(sender) + ":";
    for (auto it = seqs.begin(); it != seqs.end();) {
      auto from = *it;
      auto to = from;
      for (++it; it != seqs.end() && *it == to + 1; ++it)
        to = *it;
      out += std::to_string(from);
      if (to != from)
        out += "-" + std::to_string(to);
      out += ",";
    }
    out += ";";
  }
  return out;
}

namespace {

bool number(const std::string& text, size_t from, size_t to, uint64_t& out) {
  auto* first = text.data() + from;
  auto* last = text.data() + to;
  auto [ptr, ec] = std::from_chars(first, last, out);
  return ec == std::errc{} && ptr == last && first != last;
}

} // namespace

seen_table decode_seen(const std::string& text) {
  seen_table out;
  size_t pos = 0;
  while (pos < text.size()) {
    auto colon = text.find(':', pos);
    auto end = text.find(';', pos);
    uint64_t sender = 0;
    if (colon == std::string::npos || end == std::string::npos || colon > end
        || !number(text, pos, colon, sender))
      break;
    auto& seqs = out[sender];
    for (size_t p = colon + 1; p < end;) {
      auto comma = text.find(',', p);
      if (comma == std::string::npos || comma > end)
        break;
      auto dash = text.find('-', p);
      uint64_t from = 0;
      uint64_t to = 0;
      if (dash < comma) {
        if (!number(text, p, dash, from) || !number(text, dash + 1, comma, to) || to < from)
          break;
      } else if (!number(text, p, comma, from)) {
        break;
      } else {
        to = from;
      }
      // Past the limit only the highest are kept: skip what would be dropped at once.
      if (to - from >= seen_per_sender)
        from = to - seen_per_sender + 1;
      for (auto s = from;; ++s) {
        seqs.insert(s);
        if (s == to)
          break;
      }
      p = comma + 1;
    }
    pos = end + 1;
  }
  return out;
}

} // namespace troupe
