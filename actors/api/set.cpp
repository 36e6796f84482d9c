#include "actors/api/set.hpp"

#include "actors/api/errors.hpp"
#include "protocols/cluster_state/commands.hpp"

#include <caf/make_message.hpp>
#include <nlohmann/json.hpp>

namespace troupe {

std::string set::encode_change(const std::string& name, const std::string& member, bool add) {
  return state::encode(
    state::command{0, 0, state::jobs_cmd{{jobs::set_cmd{name, member, add, 0}}}});
}

caf::error set::outcome_of(uint64_t o, const std::string& name, bool& changed) {
  switch (static_cast<jobs::outcome>(o)) {
    case jobs::outcome::ok:
      changed = true;
      return caf::none;
    case jobs::outcome::duplicate:
    case jobs::outcome::absent:
      changed = false;
      return caf::none;
    default:
      return caf::make_error(jobs_errc::invalid,
                             caf::make_message("set '" + name + "': "
                                               + jobs::check_set(name, "x")
                                               + (jobs::check_set(name, "x").empty()
                                                    ? "a member is 1-4096 bytes"
                                                    : "")));
  }
}

caf::error set::parse_contains(const std::string& view, bool& member) {
  auto j = nlohmann::json::parse(view, nullptr, false);
  if (j.is_discarded() || !j.contains("contains") || !j["contains"].is_boolean())
    return caf::make_error(jobs_errc::invalid, caf::make_message(std::string{"a set view that does not parse"}));
  member = j["contains"].get<bool>();
  return caf::none;
}

} // namespace troupe
