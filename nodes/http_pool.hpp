// The HTTP endpoint's threads. httplib serves each connection on one thread from start to end,
// idle keep-alive waits included; its stock pool has a few threads, so a few hundred idle
// connections kept /api/status waiting for minutes. This pool grows a thread whenever none is
// free, up to `max_threads`, so a new request is served at once while idle connections wait
// out their (short) keep-alive timeout on threads of their own.
#pragma once

#include <httplib.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace troupe {

class http_pool : public httplib::TaskQueue {
public:
  explicit http_pool(size_t max_threads) : max_(max_threads) {}
  ~http_pool() override { shutdown(); }

  void enqueue(std::function<void()> fn) override {
    std::lock_guard<std::mutex> g{mtx_};
    queue_.push_back(std::move(fn));
    if (idle_ < queue_.size() && threads_.size() < max_)
      threads_.emplace_back([this] { work(); });
    cv_.notify_one();
  }

  void shutdown() override {
    {
      std::lock_guard<std::mutex> g{mtx_};
      if (stopping_)
        return;
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_)
      t.join();
  }

private:
  void work() {
    std::unique_lock<std::mutex> lk{mtx_};
    for (;;) {
      ++idle_;
      cv_.wait(lk, [this] { return stopping_ || !queue_.empty(); });
      --idle_;
      if (queue_.empty()) // stopping, nothing left
        return;
      auto fn = std::move(queue_.front());
      queue_.pop_front();
      lk.unlock();
      fn();
      lk.lock();
    }
  }

  const size_t max_;
  std::mutex mtx_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  std::vector<std::thread> threads_;
  size_t idle_ = 0;
  bool stopping_ = false;
};

} // namespace troupe
