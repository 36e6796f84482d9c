// How any part of a node asks the main thread to stop the process, with an exit code and a
// reason. The first request wins; later ones are ignored (the first cause is the real one).
#pragma once

#include <atomic>
#include <mutex>
#include <string>

namespace troupe {

class stop_request {
public:
  void request(int code, const std::string& reason) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (set_)
      return;
    code_ = code;
    reason_ = reason;
    set_ = true;
  }

  bool is_set() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return set_;
  }

  int code() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return code_;
  }

  std::string reason() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return reason_;
  }

private:
  mutable std::mutex mtx_;
  bool set_ = false;
  int code_ = 0;
  std::string reason_;
};

} // namespace troupe
