#include "actors/logging.hpp"

#include "actors/inspect/log_ring.hpp"
#include "actors/log_roller.hpp"

#include <caf/actor.hpp>
#include <caf/send.hpp>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/dist_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdio>
#include <deque>
#include <iterator>
#include <vector>
#include <mutex>

namespace troupe::logging {

namespace {

std::mutex mtx;
std::string pattern = "[%Y-%m-%dT%H:%M:%S.%e%z][%l][-][%n] %v";
spdlog::level::level_enum current_level = spdlog::level::info;

/// Where a node's lines go: stderr, or once logging::ship_to named one, the log-roller. While
/// the roller is unreachable (a local worker before it joined, or between coordinators) lines
/// go to stderr, counted, and are held (the last held_limit of them) for the roller, which
/// gets them first once it is reachable: the log file misses no line of a worker's start.
class output_sink final : public spdlog::sinks::base_sink<std::mutex> {
public:
  static constexpr size_t held_limit = 10000;

  void ship_to(caf::actor roller, bool shipping) {
    std::lock_guard<std::mutex> guard{mutex_};
    roller_ = std::move(roller);
    shipping_ = shipping;
    if (!shipping_)
      held_.clear();
    if (roller_ && !held_.empty()) {
      std::vector<std::string> lines(std::make_move_iterator(held_.begin()),
                                     std::make_move_iterator(held_.end()));
      held_.clear();
      caf::anon_send(caf::actor_cast<log_roller_actor>(roller_), log_lines_atom::value,
                     std::move(lines));
    }
  }

  uint64_t stderr_lines() const { return stderr_lines_.load(std::memory_order_relaxed); }
  uint64_t dropped_lines() const { return dropped_lines_.load(std::memory_order_relaxed); }

  bool unreachable() {
    std::lock_guard<std::mutex> guard{mutex_};
    return shipping_ && !roller_;
  }

protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t buf;
    formatter_->format(msg, buf);
    if (roller_ || shipping_) {
      std::string line{buf.data(), buf.size()};
      while (!line.empty() && line.back() == '\n')
        line.pop_back();
      if (roller_) {
        caf::anon_send(caf::actor_cast<log_roller_actor>(roller_), log_lines_atom::value,
                       std::vector<std::string>{std::move(line)});
        return;
      }
      if (held_.size() == held_limit) {
        held_.pop_front();
        dropped_lines_.fetch_add(1, std::memory_order_relaxed);
      }
      held_.push_back(std::move(line));
      stderr_lines_.fetch_add(1, std::memory_order_relaxed);
    }
    std::fwrite(buf.data(), 1, buf.size(), stderr);
  }

  void flush_() override { std::fflush(stderr); }

private:
  caf::actor roller_;
  bool shipping_ = false;
  std::deque<std::string> held_;  // for the roller, while it is unreachable
  std::atomic<uint64_t> stderr_lines_{0};
  std::atomic<uint64_t> dropped_lines_{0};  // held too long: never reached the log file
};

std::shared_ptr<output_sink> out_sink() {
  static auto s = std::make_shared<output_sink>();
  return s;
}

std::shared_ptr<log_ring> ring_sink() {
  static auto r = std::make_shared<log_ring>(5000);
  return r;
}

spdlog::sink_ptr sink() {
  // stderr: stdout belongs to commands whose output is data (status --json). The ring keeps
  // the recent lines for `troupe ctl logs`.
  static auto s = [] {
    auto d = std::make_shared<spdlog::sinks::dist_sink_mt>();
    d->add_sink(out_sink());
    d->add_sink(ring_sink());
    return d;
  }();
  return s;
}

} // namespace

std::shared_ptr<log_ring> recent() {
  return ring_sink();
}

void ship_to(const caf::actor& roller) {
  out_sink()->ship_to(roller, true);
}

void stop_shipping() {
  out_sink()->ship_to(nullptr, false);
}

uint64_t stderr_lines() {
  return out_sink()->stderr_lines();
}

uint64_t dropped_lines() {
  return out_sink()->dropped_lines();
}

bool roller_unreachable() {
  return out_sink()->unreachable();
}

bool init(const std::string& node_name, const std::string& level) {
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off")
    return false;
  std::lock_guard<std::mutex> guard{mtx};
  // Node names are validated to [A-Za-z0-9._-], so they cannot inject pattern flags.
  pattern = "[%Y-%m-%dT%H:%M:%S.%e%z][%l][" + node_name + "][%n] %v";
  current_level = lvl;
  sink()->set_pattern(pattern);
  spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& l) { l->set_level(lvl); });
  return true;
}

std::shared_ptr<spdlog::logger> get(const std::string& module) {
  std::lock_guard<std::mutex> guard{mtx};
  if (auto l = spdlog::get(module))
    return l;
  auto l = std::make_shared<spdlog::logger>(module, sink());
  l->set_level(current_level);
  sink()->set_pattern(pattern);
  l->flush_on(spdlog::level::info);
  spdlog::register_logger(l);
  return l;
}

} // namespace troupe::logging
