// A replicated, linearizable set in the cluster state, by name: state such as "the files
// already processed" that survives every node dying (the shared work's sets, ../docs/jobs.md).
// From the command line: troupe ctl set add|remove|contains|list NAME [MEMBER].
//
//   troupe::set processed{"ingested"};
//   processed.add(self, ctx, "a.txt", std::chrono::seconds(5),
//     [](bool added) { ... false: it was a member already ... },
//     [](const caf::error& err) { ... no quorum, a bad name ... });
//   processed.contains(self, ctx, "a.txt", std::chrono::seconds(5), [](bool member) { ... }, ...);
//
// Each add or remove is committed through Raft before it answers, and contains reads at a
// linearizable point: what one actor added, every later contains sees. A name is 1-64 letters,
// digits, '-', '_' or '.'; a member is 1-4096 bytes.
#pragma once

#include "actors/api/event.hpp"
#include "actors/api/messages.hpp"

#include <caf/error.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace troupe {

/// A replicated set of the cluster, by name (see the top of this header).
class set {
public:
  /// The set called `name` (it exists once it has a member).
  explicit set(std::string name) : name_(std::move(name)) {
  }

  /// The set's name.
  const std::string& name() const { return name_; }

  /// Adds `member`: done(true) when it was not a member, done(false) when it was.
  template <class Self, class Duration, class Done, class Fail>
  void add(Self* self, const context& ctx, const std::string& member, Duration timeout,
           Done done, Fail fail) const {
    change(self, ctx, member, true, timeout, std::move(done), std::move(fail));
  }

  /// Removes `member`: done(true) when it was a member, done(false) when it was not.
  template <class Self, class Duration, class Done, class Fail>
  void remove(Self* self, const context& ctx, const std::string& member, Duration timeout,
              Done done, Fail fail) const {
    change(self, ctx, member, false, timeout, std::move(done), std::move(fail));
  }

  /// done(true) when `member` is a member.
  template <class Self, class Duration, class Done, class Fail>
  void contains(Self* self, const context& ctx, const std::string& member, Duration timeout,
                Done done, Fail fail) const {
    self->request(ctx.node(), timeout, jobs_view_atom::value, name_, "member:" + member)
      .then([done, fail](const std::string& view) mutable {
              bool member = false;
              if (auto err = parse_contains(view, member))
                fail(err);
              else
                done(member);
            },
            [fail](caf::error& err) mutable { fail(err); });
  }

  /// The command that adds (or removes) `member` of set `name`, as the node's door takes it.
  static std::string encode_change(const std::string& name, const std::string& member, bool add);
  /// What a change's outcome means: none (then `changed` tells whether it did), or why not.
  static caf::error outcome_of(uint64_t outcome, const std::string& name, bool& changed);
  /// Reads a "member:" view.
  static caf::error parse_contains(const std::string& view, bool& member);

private:
  template <class Self, class Duration, class Done, class Fail>
  void change(Self* self, const context& ctx, const std::string& member, bool add,
              Duration timeout, Done done, Fail fail) const {
    self->request(ctx.node(), timeout, jobs_cmd_atom::value, encode_change(name_, member, add))
      .then(
        [name = name_, done, fail](const std::vector<uint64_t>& outcomes,
                                   const std::vector<uint64_t>&) mutable {
          bool changed = false;
          if (auto err = outcome_of(outcomes.empty() ? 255 : outcomes[0], name, changed))
            fail(err);
          else
            done(changed);
        },
        [fail](caf::error& err) mutable { fail(err); });
  }

  std::string name_;
};

} // namespace troupe
