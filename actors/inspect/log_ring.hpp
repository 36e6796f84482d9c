// The node's recent log lines, kept in memory for `troupe ctl logs`: an spdlog sink that
// keeps the last `capacity` formatted lines, each with a sequence number so that a reader can
// follow ("give me what came after line N") without missing or repeating lines.
#pragma once

#include <spdlog/sinks/base_sink.h>

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

namespace troupe {

struct log_line {
  uint64_t seq = 0;
  int level = 0;  // spdlog::level::level_enum
  std::string text;
};

class log_ring final : public spdlog::sinks::base_sink<std::mutex> {
public:
  explicit log_ring(size_t capacity) : capacity_(capacity) {}

  /// Lines after `after` (0: from the oldest kept) of at least `min_level`, at most `limit`,
  /// the newest ones when there are more. `next` gets the sequence number to follow from.
  std::vector<log_line> read(uint64_t after, int min_level, size_t limit, uint64_t& next);

protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override {}

private:
  size_t capacity_;
  std::deque<log_line> lines_;
  uint64_t last_seq_ = 0;
};

} // namespace troupe
