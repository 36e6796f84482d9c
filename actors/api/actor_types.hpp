// The actor types a node can deploy, by name: `types.add("word-count", word_count)` where
// word_count is any function CAF can spawn with a troupe::context argument, e.g.
//   caf::behavior word_count(caf::stateful_actor<wc_state>* self, troupe::context ctx);
#pragma once

#include "actors/api/counted_actor.hpp"
#include "actors/api/event.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <caf/actor_system_config.hpp>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace troupe {

/// The actor types a node can deploy and spawn, by name (troupe::node::add_actor_type), and
/// the message types its actors exchange.
class actor_types {
public:
  /// Spawns one instance for `context`, counting its messages in the given actor_stats.
  using factory = std::function<caf::actor(caf::actor_system&, const context&,
                                          std::shared_ptr<actor_stats>)>;

  /// Registers `fn` (a function-based CAF actor taking a context) under `name`; false when the
  /// name is taken or not a valid name.
  template <class F>
  bool add(const std::string& name, F fn) {
    return add_spawner(name, [fn](caf::actor_system& sys, std::shared_ptr<const context> ctx,
                                  std::shared_ptr<actor_stats> stats) {
      return spawn_counted(sys, fn, std::move(ctx), std::move(stats));
    });
  }

  /// Registers a factory under `name`; false when the name is taken or not a valid name
  /// (1-64 letters, digits, '-', '_' or '.').
  bool add_factory(const std::string& name, factory f);

  /// Spawns an instance of `name`, counting its messages in `stats` (when given); an invalid
  /// handle when no such type is registered.
  caf::actor spawn(const std::string& name, caf::actor_system& sys, const context& ctx,
                   std::shared_ptr<actor_stats> stats = nullptr) const;

  /// The same for Troupe's supervisors: the actor keeps `ctx` shared with the other actors of
  /// its spawn (`spawn --count N`: one context, not N copies).
  caf::actor spawn(const std::string& name, caf::actor_system& sys,
                   std::shared_ptr<const context> ctx, std::shared_ptr<actor_stats> stats) const;

  /// Returns whether a type called `name` is registered.
  bool has(const std::string& name) const { return types_.count(name) > 0; }

  /// Returns the registered type names, sorted (a worker advertises them when it joins).
  std::vector<std::string> names() const;

  /// Registers a message type the user's actors exchange (possibly across nodes), as CAF's
  /// actor_system_config::add_message_type would; applied to every node's actor system.
  template <class T>
  void add_message_type(const std::string& name) {
    message_types_.push_back(
      [name](caf::actor_system_config& cfg) { cfg.add_message_type<T>(name); });
  }

  /// Applies the registered message types to `cfg`.
  void configure(caf::actor_system_config& cfg) const {
    for (auto& f : message_types_)
      f(cfg);
  }

private:
  using spawner = std::function<caf::actor(caf::actor_system&, std::shared_ptr<const context>,
                                          std::shared_ptr<actor_stats>)>;
  bool add_spawner(const std::string& name, spawner f);

  std::map<std::string, spawner> types_;
  std::vector<std::function<void(caf::actor_system_config&)>> message_types_;
};

} // namespace troupe
