#include "actors/api/message_types.hpp"

#include <caf/actor_system.hpp>
#include <caf/message.hpp>
#include <caf/uniform_type_info_map.hpp>

#include <cxxabi.h>

#include <cstdlib>
#include <memory>

namespace troupe {

namespace {

/// The C++ name of a type, as its source spells it.
std::string readable(const std::type_info* ti) {
  if (ti == nullptr)
    return "an unknown type";
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> name{abi::__cxa_demangle(ti->name(), nullptr, nullptr,
                                                                  &status),
                                              std::free};
  return status == 0 && name ? std::string{name.get()} : std::string{ti->name()};
}

} // namespace

std::string unregistered_types(caf::actor_system& sys, const caf::message& msg) {
  auto& types = sys.types();
  std::string names;
  for (size_t i = 0; i < msg.size(); ++i) {
    auto rtti = msg.type(i);
    if (&types.portable_name(rtti) != &types.default_type_name())
      continue;
    names += (names.empty() ? "" : ", ") + readable(rtti.second);
  }
  if (names.empty())
    return {};
  return "cannot send " + names + " to another node: register it on every node with "
         "node.add_message_type<T>(\"name\") (a client: with the types it passes to "
         "troupe::client), and give it an inspect() overload";
}

} // namespace troupe
