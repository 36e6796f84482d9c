#include "protocols/raft/raft_log.hpp"

#include <cassert>

namespace troupe::raft {

void raft_log::reset(const snapshot_meta& snap, std::vector<entry> entries) {
  snap_ = snap;
  entries_.assign(std::make_move_iterator(entries.begin()),
                  std::make_move_iterator(entries.end()));
}

std::optional<term_t> raft_log::term_at(index_t i) const {
  if (i == snap_.index)
    return snap_.term;
  if (i < first_index() || i > last_index())
    return std::nullopt;
  return entries_[i - first_index()].term;
}

std::vector<entry> raft_log::slice(index_t from, size_t max_entries, size_t max_bytes) const {
  std::vector<entry> out;
  size_t bytes = 0;
  for (auto i = from; i <= last_index() && out.size() < max_entries; ++i) {
    auto& e = entries_[i - first_index()];
    if (!out.empty() && bytes + e.data.size() > max_bytes)
      break;
    bytes += e.data.size();
    out.push_back(e);
  }
  return out;
}

std::vector<entry> raft_log::range(index_t from, index_t to) const {
  std::vector<entry> out;
  for (auto i = std::max(from, first_index()); i <= to && i <= last_index(); ++i)
    out.push_back(entries_[i - first_index()]);
  return out;
}

index_t raft_log::append(const std::vector<entry>& es) {
  if (es.empty())
    return last_index() + 1;
  // Skip the prefix we already have; truncate at the first conflict (5.3).
  size_t k = 0;
  while (k < es.size() && matches(es[k].index, es[k].term))
    ++k;
  if (k == es.size())
    return last_index() + 1;
  auto at = es[k].index;
  assert(at >= first_index() && at <= last_index() + 1);
  entries_.resize(at - first_index());
  for (; k < es.size(); ++k)
    entries_.push_back(es[k]);
  return at;
}

void raft_log::compact(index_t i) {
  if (i <= snap_.index || i > last_index())
    return;
  auto t = *term_at(i);
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<long>(i - snap_.index));
  snap_ = {i, t};
}

} // namespace troupe::raft
