#include "actors/logging.hpp"

#include "actors/inspect/log_ring.hpp"

#include <spdlog/sinks/dist_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <mutex>

namespace troupe::logging {

namespace {

std::mutex mtx;
std::string pattern = "[%Y-%m-%dT%H:%M:%S.%e%z][%l][-][%n] %v";
spdlog::level::level_enum current_level = spdlog::level::info;

std::shared_ptr<log_ring> ring_sink() {
  static auto r = std::make_shared<log_ring>(5000);
  return r;
}

spdlog::sink_ptr sink() {
  // stderr: stdout belongs to commands whose output is data (status --json). The ring keeps
  // the recent lines for `troupe ctl logs`.
  static auto s = [] {
    auto d = std::make_shared<spdlog::sinks::dist_sink_mt>();
    d->add_sink(std::make_shared<spdlog::sinks::stderr_sink_mt>());
    d->add_sink(ring_sink());
    return d;
  }();
  return s;
}

} // namespace

std::shared_ptr<log_ring> recent() {
  return ring_sink();
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
