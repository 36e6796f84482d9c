// The entry point of a Troupe binary, stock or custom: register actor types, then run the
// command line (`run`, `status`, `kv`, `ctl`) exactly as the stock `troupe` does.
//
//   int main(int argc, char** argv) {
//     troupe::node node{argc, argv};
//     node.add_actor_type("word-count", word_count);  // caf::behavior word_count(..., troupe::context)
//     return node.run();
//   }
#pragma once

#include "actors/api/actor_types.hpp"
#include "actors/api/migrations.hpp"

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace troupe {

/// A Troupe binary: the actor types, message types and migrations it adds to the stock
/// command line, which run() then carries out.
class node {
public:
  /// Takes the process's command line (`run`, `status`, `kv`, `ctl`, `console` and their
  /// options, as `troupe --help` lists them).
  node(int argc, char** argv);

  /// Registers a function-based CAF actor taking a troupe::context as actor type `name`.
  /// Throws std::invalid_argument when the name is taken or not a valid name.
  template <class F>
  node& add_actor_type(const std::string& name, F fn) {
    if (!types_->add(name, fn))
      throw std::invalid_argument("troupe: actor type '" + name
                                  + "' is already registered or not a valid name");
    return *this;
  }

  /// Registers a message type the user's actors exchange, as CAF's add_message_type.
  template <class T>
  node& add_message_type(const std::string& name) {
    types_->add_message_type<T>(name);
    return *this;
  }

  /// Registers a run-once migration (see <troupe/troupe.hpp>: troupe::migration_context);
  /// migrations run in the order they are registered. Throws std::invalid_argument when the
  /// id is taken or not a valid name.
  node& add_migration(const std::string& id, migration_fn fn, bool idempotent) {
    if (!migrations_->add(migration{id, std::move(fn), idempotent}))
      throw std::invalid_argument("troupe: migration '" + id
                                  + "' is already registered or not a valid name");
    return *this;
  }

  /// The actor and message types registered so far.
  actor_types& types() { return *types_; }
  /// The migrations registered so far, in the order they run.
  migration_list& migrations() { return *migrations_; }

  /// Runs the command line; returns the process exit code.
  int run();

private:
  std::vector<std::string> args_;
  std::shared_ptr<actor_types> types_;
  std::shared_ptr<migration_list> migrations_;
};

} // namespace troupe
