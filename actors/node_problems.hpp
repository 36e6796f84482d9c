// What is wrong on this node that its health should say, by key: set by the actor that finds
// it, cleared when it is over, read by the inspector for `troupe status` (the node turns
// yellow with these reasons). E.g. a deployment whose actor type this node does not have.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace troupe {

class node_problems {
public:
  /// Records problem `key`; true when it is new (or says something new).
  bool set(const std::string& key, std::string text) {
    std::lock_guard<std::mutex> guard{mtx_};
    auto& slot = texts_[key];
    if (slot == text)
      return false;
    slot = std::move(text);
    return true;
  }

  void clear(const std::string& key) {
    std::lock_guard<std::mutex> guard{mtx_};
    texts_.erase(key);
  }

  /// Forgets every problem whose key starts with `prefix` and is not kept by `keep`.
  void clear_unless(const std::string& prefix,
                    const std::function<bool(const std::string& key)>& keep) {
    std::lock_guard<std::mutex> guard{mtx_};
    for (auto it = texts_.lower_bound(prefix);
         it != texts_.end() && it->first.compare(0, prefix.size(), prefix) == 0;)
      it = keep(it->first) ? std::next(it) : texts_.erase(it);
  }

  std::vector<std::string> all() const {
    std::lock_guard<std::mutex> guard{mtx_};
    std::vector<std::string> out;
    for (auto& [key, text] : texts_)
      out.push_back(text);
    return out;
  }

private:
  mutable std::mutex mtx_;
  std::map<std::string, std::string> texts_;
};

} // namespace troupe
