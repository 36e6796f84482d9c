#include "actors/api/main_worker.hpp"

#include <atomic>

namespace troupe {

namespace {

std::atomic<uint64_t> epoch_{0};

} // namespace

bool is_main_worker() {
  return epoch_.load(std::memory_order_acquire) != 0;
}

uint64_t main_worker_epoch() {
  return epoch_.load(std::memory_order_acquire);
}

namespace detail {

void set_main_worker(uint64_t epoch) {
  epoch_.store(epoch, std::memory_order_release);
}

} // namespace detail

} // namespace troupe
