// Response promises an actor still owes, failed all at once when it exits.
//
// CAF 0.17 drops an actor's pending request continuations (`request(...).then(...)`) when it
// quits, and with them any response promise they captured: the actor that asked would wait
// for its own timeout (5-20 s) although the answer will never come. An actor that answers a
// request only after asking others keeps the promise here, answers it through deliver(), and
// calls fail_all() from its exit (and exception) handler, so that every requester hears at
// once that its request was not completed, and an at-least-once sender sends it again.
#pragma once

#include <caf/error.hpp>
#include <caf/response_promise.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace troupe {

class owed_promises {
public:
  using id = uint64_t;

  /// Keeps `rp` until it is delivered; returns its id.
  id add(caf::response_promise rp) {
    auto i = ++next_;
    open_.emplace(i, std::move(rp));
    return i;
  }

  /// Answers promise `i` with `xs` (a value or an error); once only, later calls do nothing.
  template <class... Ts>
  void deliver(id i, Ts&&... xs) {
    auto it = open_.find(i);
    if (it == open_.end())
      return;
    auto rp = std::move(it->second);
    open_.erase(it);
    rp.deliver(std::forward<Ts>(xs)...);
  }

  /// True while promise `i` is not answered.
  bool owes(id i) const {
    return open_.count(i) > 0;
  }

  /// Answers every promise still open with `why`.
  void fail_all(const caf::error& why) {
    auto open = std::move(open_);
    open_.clear();
    for (auto& [i, rp] : open)
      rp.deliver(why);
  }

  size_t size() const {
    return open_.size();
  }

private:
  id next_ = 0;
  std::map<id, caf::response_promise> open_;
};

/// The replies of several requests that answer one owed promise together, in their order: it
/// is answered once the last one came, or at once with the first error.
struct reply_gather {
  std::vector<std::string> replies;
  size_t waiting = 0;
  bool failed = false;

  /// A reply came (stored in `replies` by the caller): answers `id` when it was the last.
  void one_done(owed_promises& owed, owed_promises::id id) {
    if (--waiting == 0 && !failed)
      owed.deliver(id, std::move(replies));
  }

  /// A request failed: answers `id` with `err` unless it was answered already.
  void fail(owed_promises& owed, owed_promises::id id, caf::error err) {
    if (failed)
      return;
    failed = true;
    owed.deliver(id, std::move(err));
  }
};

} // namespace troupe
