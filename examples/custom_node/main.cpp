// A custom node: the whole troupe command line (run, status, kv, ctl) plus its own actor type.
//   custom_node run --workers 2
//   custom_node ctl --connect 127.0.0.1:8139 deploy hello greeter --config greeting=Bonjour
//   custom_node ctl --connect 127.0.0.1:8139 request hello anna world   # Bonjour, world (vnode N)
#include <troupe/troupe.hpp>

#include <caf/event_based_actor.hpp>

#include <string>

namespace {

caf::behavior greeter(caf::event_based_actor*, troupe::context ctx) {
  auto greeting = ctx.get("greeting", "Hello");
  auto vnode = ctx.vnode;
  return {
    [greeting, vnode](const troupe::event& ev) {
      return greeting + ", " + ev.payload + " (vnode " + std::to_string(vnode) + ")";
    },
  };
}

} // namespace

int main(int argc, char** argv) {
  troupe::node node{argc, argv};
  node.add_actor_type("greeter", greeter);
  return node.run();
}
