#include "actors/supervision/exit_errc.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/message.hpp>

namespace troupe {

namespace {

constexpr caf::atom_value category = caf::atom("troupe_ex");

} // namespace

const char* to_string(exit_errc x) {
  switch (x) {
    case exit_errc::none:
      return "none";
    case exit_errc::gave_up:
      return "gave_up";
    case exit_errc::storage_failed:
      return "storage_failed";
  }
  return "?";
}

bool is_fatal(const caf::error& err) {
  if (!err || err.category() != category)
    return false;
  auto code = static_cast<exit_errc>(err.code());
  return code == exit_errc::storage_failed;
}

std::string fatal_text(const caf::error& err) {
  if (!err || err.category() != category)
    return {};
  auto& ctx = err.context();
  if (ctx.size() == 1 && ctx.match_element<std::string>(0))
    return ctx.get_as<std::string>(0);
  return to_string(static_cast<exit_errc>(err.code()));
}

void add_exit_errc_category(caf::actor_system_config& cfg) {
  cfg.add_error_category(category, [](uint8_t code, caf::atom_value, const caf::message& ctx) {
    if (ctx.size() == 1 && ctx.match_element<std::string>(0))
      return ctx.get_as<std::string>(0);
    return std::string{to_string(static_cast<exit_errc>(code))};
  });
}

} // namespace troupe
