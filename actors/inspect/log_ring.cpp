#include "actors/inspect/log_ring.hpp"

#include <spdlog/details/log_msg.h>

namespace troupe {

void log_ring::sink_it_(const spdlog::details::log_msg& msg) {
  spdlog::memory_buf_t buf;
  formatter_->format(msg, buf);
  std::string text{buf.data(), buf.size()};
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
    text.pop_back();
  lines_.push_back(log_line{++last_seq_, static_cast<int>(msg.level), std::move(text)});
  if (lines_.size() > capacity_)
    lines_.pop_front();
}

std::vector<log_line> log_ring::read(uint64_t after, int min_level, size_t limit,
                                     uint64_t& next) {
  std::lock_guard<std::mutex> guard{mutex_};
  std::vector<log_line> out;
  for (auto& l : lines_)
    if (l.seq > after && l.level >= min_level)
      out.push_back(l);
  if (out.size() > limit)
    out.erase(out.begin(), out.end() - static_cast<std::ptrdiff_t>(limit));
  next = last_seq_;
  return out;
}

} // namespace troupe
