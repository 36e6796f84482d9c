#include "actors/inspect/actor_registry.hpp"

#include <algorithm>
#include <charconv>

namespace troupe {

const std::string* actor_registry::intern(const std::string& s) {
  return &*interned_.insert(s).first;
}

std::unique_ptr<std::string> actor_registry::rare(const std::string& s) {
  return s.empty() ? nullptr : std::make_unique<std::string>(s);
}

uint64_t actor_registry::add(actor_row row, std::shared_ptr<actor_stats> stats) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (!row.name.empty() && names_.count(row.name) > 0)
    return 0;
  auto seq = next_++;
  if (!row.name.empty())
    names_[row.name] = seq;
  auto& e = entries_[seq];
  e.name = std::move(row.name);
  e.type = intern(row.type);
  e.kind = intern(row.kind);
  e.supervisor = intern(row.supervisor);
  e.state = intern(row.state);
  e.strategy = rare(row.strategy);
  e.last_exit = rare(row.last_exit);
  e.restarts = row.restarts;
  e.started_ms = row.started_ms;
  e.handle = std::move(row.handle);
  e.stats = std::move(stats);
  return seq;
}

void actor_registry::restarted(uint64_t seq, caf::actor handle, std::shared_ptr<actor_stats> stats,
                               int64_t started_ms) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto it = entries_.find(seq);
  if (it == entries_.end())
    return;
  auto& e = it->second;
  if (e.stats)
    e.handled_before += e.stats->user_handled();
  e.stats = std::move(stats);
  e.handle = std::move(handle);
  e.restarts += 1;
  e.state = intern("running");
  e.started_ms = started_ms;
  restart_times_.push_back(started_ms);
  if (restart_times_.size() > 1000)
    restart_times_.pop_front();
}

size_t actor_registry::restarts_since(int64_t since_ms) const {
  std::lock_guard<std::mutex> guard{mtx_};
  return static_cast<size_t>(std::count_if(restart_times_.begin(), restart_times_.end(),
                                           [&](int64_t t) { return t >= since_ms; }));
}

void actor_registry::exited(uint64_t seq, const std::string& why, const std::string& state) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto it = entries_.find(seq);
  if (it == entries_.end())
    return;
  it->second.last_exit = rare(why);
  it->second.state = intern(state);
  it->second.handle = nullptr;
}

void actor_registry::remove(uint64_t seq) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto it = entries_.find(seq);
  if (it == entries_.end())
    return;
  if (!it->second.name.empty())
    names_.erase(it->second.name);
  entries_.erase(it);
}

actor_row actor_registry::snapshot(uint64_t seq, const entry& e) const {
  actor_row row;
  row.seq = seq;
  row.name = e.name;
  row.type = *e.type;
  row.kind = *e.kind;
  row.supervisor = *e.supervisor;
  row.state = *e.state;
  row.strategy = e.strategy ? *e.strategy : std::string{};
  row.last_exit = e.last_exit ? *e.last_exit : std::string{};
  row.restarts = e.restarts;
  row.started_ms = e.started_ms;
  row.handle = e.handle;
  if (e.stats) {
    row.counted = true;
    row.handled = e.handled_before + e.stats->user_handled();
    row.mailbox = row.handle ? e.stats->mailbox() : 0;
  }
  return row;
}

std::optional<uint64_t> actor_registry::parse_id(const std::string& text) const {
  std::string_view digits = text;
  if (auto slash = text.rfind('/'); slash != std::string::npos) {
    if (text.compare(0, slash, node_) != 0 || slash != node_.size())
      return std::nullopt;
    digits = std::string_view{text}.substr(slash + 1);
  }
  uint64_t n = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc{} || ptr != digits.data() + digits.size() || digits.empty())
    return std::nullopt;
  return n;
}

std::optional<actor_row> actor_registry::find(const std::string& id_or_name) const {
  std::lock_guard<std::mutex> guard{mtx_};
  if (auto n = names_.find(id_or_name); n != names_.end())
    return snapshot(n->second, entries_.at(n->second));
  if (auto seq = parse_id(id_or_name))
    if (auto it = entries_.find(*seq); it != entries_.end())
      return snapshot(it->first, it->second);
  return std::nullopt;
}

std::vector<actor_row> actor_registry::page(uint64_t offset, uint64_t limit,
                                            uint64_t& total) const {
  std::lock_guard<std::mutex> guard{mtx_};
  total = entries_.size();
  std::vector<actor_row> out;
  if (offset >= entries_.size())
    return out;
  auto it = entries_.begin();
  std::advance(it, static_cast<std::ptrdiff_t>(offset));
  out.reserve(std::min<uint64_t>(limit, entries_.size() - offset));
  for (; it != entries_.end() && out.size() < limit; ++it)
    out.push_back(snapshot(it->first, it->second));
  return out;
}

std::vector<actor_row> actor_registry::all() const {
  uint64_t total = 0;
  return page(0, UINT64_MAX, total);
}

} // namespace troupe
