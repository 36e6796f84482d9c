#include "protocols/cluster_state/deployments.hpp"

#include <cctype>

namespace troupe::state {

const char* to_string(routing r) {
  return r == routing::round_robin ? "round-robin" : r == routing::singleton ? "singleton" : "hash";
}

const char* to_string(delivery d) {
  return d == delivery::at_least_once ? "at-least-once" : "at-most-once";
}

std::optional<routing> routing_from_string(const std::string& s) {
  if (s == "hash")
    return routing::hash;
  if (s == "round-robin")
    return routing::round_robin;
  if (s == "singleton")
    return routing::singleton;
  return std::nullopt;
}

std::optional<delivery> delivery_from_string(const std::string& s) {
  if (s == "at-most-once")
    return delivery::at_most_once;
  if (s == "at-least-once")
    return delivery::at_least_once;
  return std::nullopt;
}

namespace {

bool valid_name(const std::string& s) {
  if (s.empty() || s.size() > 64)
    return false;
  for (unsigned char c : s)
    if (!std::isalnum(c) && c != '-' && c != '_' && c != '.')
      return false;
  return true;
}

} // namespace

std::string check_spec(const deployment_spec& spec) {
  if (!valid_name(spec.name))
    return "'" + spec.name + "' is not a deployment name (1-64 letters, digits, '-', '_', '.')";
  if (!valid_name(spec.type))
    return "'" + spec.type + "' is not an actor type name (1-64 letters, digits, '-', '_', '.')";
  if (spec.durable && spec.guarantee != delivery::at_least_once)
    return "a durable deployment needs --delivery at-least-once (an event sent at most once "
           "is never logged)";
  if (spec.config.size() > 64)
    return "at most 64 config entries";
  for (auto& [k, v] : spec.config)
    if (k.empty() || k.size() > 128 || v.size() > 4096)
      return "config keys are 1-128 bytes and values at most 4096";
  return {};
}

deployment_table::result deployment_table::deploy(const deploy_cmd& c, uint64_t index) {
  if (auto why = check_spec(c.spec); !why.empty())
    return {false, why};
  auto it = by_name_.find(c.spec.name);
  if (it != by_name_.end()) {
    if (it->second.same_as(c.spec))
      return {true, {}};
    return {false, "deployment '" + c.spec.name + "' exists with another type or settings "
                     "(undeploy it first)"};
  }
  auto spec = c.spec;
  spec.created = index;
  by_name_.emplace(spec.name, std::move(spec));
  version_ = index;
  return {true, {}};
}

deployment_table::result deployment_table::undeploy(const undeploy_cmd& c, uint64_t index) {
  auto it = by_name_.find(c.name);
  if (it == by_name_.end())
    return {false, "no deployment named '" + c.name + "'"};
  by_name_.erase(it);
  version_ = index;
  return {true, {}};
}

const deployment_spec* deployment_table::find(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &it->second;
}

void deployment_table::restore(std::vector<deployment_spec> specs, uint64_t version) {
  by_name_.clear();
  for (auto& s : specs) {
    auto name = s.name;
    by_name_.emplace(std::move(name), std::move(s));
  }
  version_ = version;
}

} // namespace troupe::state
