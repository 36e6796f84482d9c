#include "protocols/membership/types.hpp"

namespace troupe::membership {

std::vector<std::string> role_names(const role_set& roles) {
  std::vector<std::string> out;
  if (roles.coordinator)
    out.emplace_back("coordinator");
  if (roles.worker)
    out.emplace_back("worker");
  return out;
}

const char* to_string(member_state s) {
  switch (s) {
    case member_state::joining:
      return "joining";
    case member_state::up:
      return "up";
    case member_state::suspect:
      return "suspect";
    case member_state::down:
      return "down";
    case member_state::left:
      return "left";
    case member_state::leaving:
      return "leaving";
  }
  return "unknown";
}

std::optional<member_state> member_state_from_string(std::string_view s) {
  for (auto st : {member_state::joining, member_state::up, member_state::suspect,
                  member_state::down, member_state::left, member_state::leaving})
    if (s == to_string(st))
      return st;
  return std::nullopt;
}

} // namespace troupe::membership
