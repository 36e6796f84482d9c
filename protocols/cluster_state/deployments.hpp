// Deployments, as part of the replicated cluster state: a named actor type to run once per
// vnode, with its routing, delivery guarantee and configuration (the Tremor RFC's deployment).
// Deploying is idempotent: the same spec again changes nothing; another spec under a name in
// use is refused (undeploy first).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace troupe::state {

/// hash: by key over the vnodes; round_robin: the next vnode; singleton: one instance in the
/// cluster, on the main worker (as vnode 0).
enum class routing : uint8_t { hash = 0, round_robin = 1, singleton = 2 };
enum class delivery : uint8_t { at_most_once = 0, at_least_once = 1 };

/// Returns "hash" / "round-robin", "at-most-once" / "at-least-once".
const char* to_string(routing r);
const char* to_string(delivery d);

/// Parses what to_string returns.
std::optional<routing> routing_from_string(const std::string& s);
std::optional<delivery> delivery_from_string(const std::string& s);

struct deployment_spec {
  std::string name;
  std::string type;
  routing route = routing::hash;
  delivery guarantee = delivery::at_most_once;
  std::map<std::string, std::string> config;
  uint64_t created = 0;  // log index of the deploy (set when applied)
  // Its instances' events are logged before they are handled, and replayed after the last
  // snapshot when the instance starts elsewhere (instance_store.hpp): needs at-least-once.
  bool durable = false;

  /// True when both describe the same deployment (`created` aside).
  bool same_as(const deployment_spec& o) const {
    return name == o.name && type == o.type && route == o.route && guarantee == o.guarantee
           && config == o.config && durable == o.durable;
  }
};

struct deploy_cmd {
  deployment_spec spec;
};

struct undeploy_cmd {
  std::string name;
};

/// Returns why `spec` is not acceptable, or "" (names and types: letters, digits, '-', '_',
/// '.'; at most 64 config entries).
std::string check_spec(const deployment_spec& spec);

class deployment_table {
public:
  struct result {
    bool ok = false;
    std::string reason;
  };

  result deploy(const deploy_cmd& c, uint64_t index);
  result undeploy(const undeploy_cmd& c, uint64_t index);

  const std::map<std::string, deployment_spec>& all() const { return by_name_; }
  const deployment_spec* find(const std::string& name) const;

  /// The log index of the last change.
  uint64_t version() const { return version_; }

  void restore(std::vector<deployment_spec> specs, uint64_t version);

private:
  std::map<std::string, deployment_spec> by_name_;
  uint64_t version_ = 0;
};

} // namespace troupe::state
