#include "actors/api/tasks.hpp"

#include <stdexcept>

namespace troupe::tasks {

std::optional<task_info> task_of(const context& ctx) {
  auto get = [&](const char* k) -> const std::string* {
    auto it = ctx.config.find(k);
    return it == ctx.config.end() ? nullptr : &it->second;
  };
  auto* name = get(name_key);
  auto* part = get(partition_key);
  auto* count = get(count_key);
  auto* epoch = get(epoch_key);
  if (!name || !part || !count || !epoch)
    return std::nullopt;
  try {
    return task_info{*name, static_cast<uint32_t>(std::stoul(*part)),
                     static_cast<uint32_t>(std::stoul(*count)), std::stoull(*epoch)};
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

} // namespace troupe::tasks
