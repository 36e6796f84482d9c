#include "actors/api/migrations.hpp"

#include "actors/names.hpp"

namespace troupe {

bool migration_list::add(migration m) {
  if (!valid_name(m.id) || !m.run || find(m.id))
    return false;
  list_.push_back(std::move(m));
  return true;
}

const migration* migration_list::find(const std::string& id) const {
  for (auto& m : list_)
    if (m.id == id)
      return &m;
  return nullptr;
}

} // namespace troupe
